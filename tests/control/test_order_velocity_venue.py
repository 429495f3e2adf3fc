"""The engine's order-velocity limit on a real venue (``python -m gateway up``: engine, control plane,
gateway; orders over real TCP): configured per account in the venue file, changed at run time
through the control API, enforced by the engine (ENG_REJ_ORDER_VELOCITY) for the limited account
only, replayed exactly from the journal (journal verify), and the same after the whole venue
restarts on that journal: the run-time limit kept over the file's, the bucket as it was (issue #25)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.client import Client, ExecType, Side
from gateway.control.client import ControlError
from gateway.reasons import Reason
from tests.control.cp_venue import report, start_venue, wait_for

ACME = 1
LIMITED, NEIGHBOUR, OTHER_FIRM = 3, 4, 1     # accounts 3 and 4: session 201; account 1: session 101
# 5 orders per minute: a burst of 12 gets its first 5 through and the refill (one per 12 s) cannot
# let a sixth in while the burst is on the wire, whatever the load.
ACCOUNTS = '''
[[accounts]]
id = 3
order_velocity = "5/60s"
'''


def _burst(c: Client, account: int, n: int, price: int) -> list[int]:
    """n orders sent back to back, then their reports: 0 for NEW, else the reject's reason."""
    ids = [c.new_order(instrument_id=ACME, side=Side.BUY, order_qty=1, account_id=account, price=price)
           for _ in range(n)]
    out = []
    for cid in ids:
        r = report(c, lambda m, cid=cid: m.cl_ord_id == cid)
        assert r.exec_type in (ExecType.NEW, ExecType.REJECTED), r
        out.append(0 if r.exec_type == ExecType.NEW else r.reason_code)
    return out


def test_a_burst_beyond_the_accounts_limit_is_rejected_and_the_others_trade_on(tmp_path: Path) -> None:
    jdir = tmp_path / "journal"
    gen = start_venue(tmp_path, journal=str(jdir), extra_accounts=ACCOUNTS)
    venue = next(gen)
    try:
        ctl = venue.control()
        shown = {a["account"]: a["order_velocity"] for a in ctl.call("risk.show")["accounts"]}
        assert shown[LIMITED] == "5/60s"
        with venue.connect(201) as c, venue.connect(101) as good:
            assert _burst(c, LIMITED, 12, 9_000) == [0] * 5 + [Reason.ENG_REJ_ORDER_VELOCITY] * 7
            # the same session's other account and another firm's account are not limited
            assert _burst(c, NEIGHBOUR, 12, 9_001) == [0] * 12
            assert _burst(good, OTHER_FIRM, 12, 9_002) == [0] * 12
            assert _burst(c, LIMITED, 1, 9_000) == [Reason.ENG_REJ_ORDER_VELOCITY]
            # cancels are never limited: the limited account can still take its orders out
            c.mass_cancel(instrument_id=ACME, account_id=LIMITED)
            wait_for(lambda: not ctl.call("orders", account=LIMITED), "account 3's orders cancelled")

            # run time: removed, then a tighter one (a new limit starts with a full bucket)
            res = ctl.call("risk.set", scope="account", id=LIMITED, limit="order_velocity", value="none")
            assert res["order_velocity"] == "none" and res["window_ns"] == 0
            assert _burst(c, LIMITED, 8, 9_000) == [0] * 8
            res = ctl.call("risk.set", scope="account", id=LIMITED, limit="order_velocity", value="2/600s")
            assert (res["max_orders"], res["window_ns"]) == (2, 600_000_000_000)
            assert _burst(c, LIMITED, 3, 9_000) == [0, 0, Reason.ENG_REJ_ORDER_VELOCITY]
            shown = {a["account"]: a["order_velocity"] for a in ctl.call("risk.show")["accounts"]}
            assert shown[LIMITED] == "2/600s" and shown[NEIGHBOUR] == "none"
            with pytest.raises(ControlError, match="expected N/DURATION"):
                ctl.call("risk.set", scope="account", id=LIMITED, limit="order_velocity", value="2 per s")
    finally:
        gen.close()
    output = venue.output()
    assert venue.proc.returncode == 0, output
    # the journal replays every decision: the same events (verify compares them with the event
    # journal) and the state hash the engine stopped with
    stopped = re.findall(r"engine: journal: .*state hash (0x[0-9a-f]+)", output)
    assert stopped, output
    verify = subprocess.run([sys.executable, "-m", "gateway", "journal", "verify", "--dir", str(jdir)],
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert re.search(r"state hash (0x[0-9a-f]+)", verify.stdout).group(1) == stopped[-1]  # type: ignore[union-attr]

    # the whole venue again on the same journal: the run-time limit, not the file's, and the bucket
    # as the replay left it (empty: one token comes back every 300 s)
    gen = start_venue(tmp_path, journal=str(jdir), extra_accounts=ACCOUNTS)
    venue = next(gen)
    try:
        ctl = venue.control()
        shown = {a["account"]: a["order_velocity"] for a in ctl.call("risk.show")["accounts"]}
        assert shown[LIMITED] == "2/600s", shown
        with venue.connect(201) as c:
            assert _burst(c, LIMITED, 1, 9_000) == [Reason.ENG_REJ_ORDER_VELOCITY]
            assert _burst(c, NEIGHBOUR, 1, 9_001) == [0]
    finally:
        gen.close()
