"""The control plane's roles as a permission matrix in data: which API verb each role may run.

Every API verb (and so every shell command, which runs verbs, and the gateway admin endpoint, which
the control plane reaches only through sessions.list / sessions.disconnect) is checked against this
table by gateway/control/api.py before it runs; a user may hold several roles and may run the union
of their rows. A "trader" row applies to the accounts of the user's own firm only: a trader's
request must name an account, and it must be one of the firm's.
"""
from __future__ import annotations

from typing import Final

VIEWER: Final = "viewer"
TRADER: Final = "trader"
RISK_OFFICER: Final = "risk_officer"
COMPLIANCE: Final = "compliance"
OPERATOR: Final = "operator"
ADMIN: Final = "admin"
ROLES: Final = (VIEWER, TRADER, RISK_OFFICER, COMPLIANCE, OPERATOR, ADMIN)

# Reading the venue (not the audit log, not the users): every role but the trader, whose reads
# are its own firm's.
_LOOK: Final = frozenset({"whoami", "status", "book", "alerts", "latency", "orders", "positions", "risk.show",
                          "sessions.list", "tuning.audit", "journal.status", "strategy.list", "strategy.params",
                          "parent.list", "parent.show"})

PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    VIEWER: _LOOK,
    TRADER: frozenset({"whoami", "status", "book", "orders", "positions", "risk.show"}),
    RISK_OFFICER: _LOOK | {"risk.set", "killswitch", "alerts.ack"},
    COMPLIANCE: _LOOK | {"audit.verify"},
    OPERATOR: _LOOK | {"sessions.disconnect", "halt", "resume", "phase", "strategy.start", "strategy.stop",
                       "strategy.set", "strategy.pause", "strategy.resume",
                       "parent.add", "parent.pause", "parent.resume", "parent.amend", "parent.cancel",
                       "alerts.ack"},
    ADMIN: _LOOK | {"users.list"},
}

# Roles whose rows hold only for the accounts of the user's own firm.
OWN_ACCOUNTS_ONLY: Final = frozenset({TRADER})


def grants(roles: tuple[str, ...], command: str) -> tuple[bool, bool]:
    """(allowed, own_accounts_only): allowed when some role's row has the verb; limited to the
    user's own accounts when every role that allows it is an own-accounts role."""
    allowing = [r for r in roles if command in PERMISSIONS.get(r, frozenset())]
    if not allowing:
        return False, False
    return True, all(r in OWN_ACCOUNTS_ONLY for r in allowing)
