"""A CAT-like audit trail: every order's life from the journal, one row per event, exportable as
CSV and JSON lines. In the spirit of the US consolidated audit trail (SEC Rule 613), not its
official format: event types, timestamps, the order's identity, who did it, and the clock.

Events and where they come from:
- RECEIVED: the NEW_ORDER / CANCEL / REPLACE / MASS_CANCEL command, from the command journal,
  with the producer that sent it (the command record names the engine's producer slot: a gateway,
  the control plane, a strategy; slot -1 = a boot or replayed command);
- ACCEPTED, REJECTED, MODIFIED (REPLACED), TRIGGERED, EXECUTED (TRADE, one row per side),
  CANCELLED (with the engine's reason: user, IOC remainder, STP, kill switch, mass, ...), EXPIRED:
  from the event journal. ROUTED never occurs: this venue routes nothing.
Who: the account and its firm (reference data) for order events, the producer for received
commands, "venue" for what the engine did on its own (IOC remainders, expiries, STP, kill switch).
When: engine time mapped to UTC (clock.py) in ns, with the mapping's source and the host clock's
estimated error (adjtimex) on every row, so a reader knows how far to trust it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from trading.tca import codes
from trading.tca.analysis import Analysis
from trading.tca.clock import ClockAccuracy, host_clock_error_us

from native import records

COLUMNS = ("seq", "event_index", "event", "ts_utc", "ts_utc_ns", "symbol", "order_id", "account", "firm",
           "actor", "side", "price", "qty", "leaves", "trade_id", "reason", "clock_source",
           "clock_est_error_us")
_LIFE_EVENT = {codes.EVT_ACCEPTED: "ACCEPTED", codes.EVT_REJECTED: "REJECTED", codes.EVT_TRADE: "EXECUTED",
               codes.EVT_CANCELLED: "CANCELLED", codes.EVT_REPLACED: "MODIFIED",
               codes.EVT_EXPIRED: "EXPIRED", codes.EVT_TRIGGERED: "TRIGGERED"}
_CMD_NAME = {codes.CMD_NEW_ORDER: "RECEIVED_NEW", codes.CMD_CANCEL: "RECEIVED_CANCEL",
             codes.CMD_REPLACE: "RECEIVED_MODIFY", codes.CMD_MASS_CANCEL: "RECEIVED_MASS_CANCEL"}
_VENUE_REASONS = {"CXL_IOC_REMAINDER", "CXL_FOK_NOT_FILLABLE", "CXL_MARKET_COLLAR", "CXL_NO_LIQUIDITY",
                  "CXL_STP", "CXL_KILL_SWITCH", "CXL_NO_LEVEL_CAPACITY", "EXP_DAY", "EXP_GTD"}


def _reason_name(code: int) -> str:
    try:
        return str(records.Reason(code).name)
    except ValueError:
        return str(code)


@dataclass(frozen=True)
class AuditTrail:
    rows: list[dict[str, object]]
    accuracy: ClockAccuracy


def audit_trail(an: Analysis) -> AuditTrail:
    """Rows in journal order: each command first, then its events (seq, event_index)."""
    tape, ref = an.tape, an.ref
    acc = host_clock_error_us()
    est = "" if acc.est_error_us is None else str(acc.est_error_us)
    rows: list[tuple[int, int, dict[str, object]]] = []
    o = tape.orders
    for c in tape.commands.tolist():
        seq, ts, typ, producer, inst, oid, account = c
        a = ref.account(int(account)) if account >= 0 else None
        rows.append((int(seq), -1, {
            "seq": int(seq), "event_index": -1, "event": _CMD_NAME.get(int(typ), str(typ)),
            "ts_utc": tape.clock.iso_us(int(ts)), "ts_utc_ns": tape.clock.utc_ns(int(ts)),
            "symbol": ref.symbol(int(inst)) if inst else "", "order_id": int(oid),
            "account": int(account) if account >= 0 else "", "firm": a.firm if a else "",
            "actor": f"producer {int(producer)}" if producer >= 0 else "boot/replay",
            "side": "", "price": "", "qty": "", "leaves": "", "trade_id": "", "reason": "",
            "clock_source": tape.clock.source, "clock_est_error_us": est}))
    life = tape.lifecycle
    sides = np.where(life["order_row"] >= 0, o["side"][np.maximum(life["order_row"], 0)], 0) if len(o) else np.zeros(len(life))
    scale = ref.price_scale
    for k, e in enumerate(life.tolist()):
        seq, idx, ts, typ, reason, inst, row, oid, account, price, qty, leaves, trade_id = e
        rname = _reason_name(int(reason))
        acct = ref.account(int(account))
        actor = "venue" if rname in _VENUE_REASONS else f"account {int(account)}"
        rows.append((int(seq), int(idx), {
            "seq": int(seq), "event_index": int(idx), "event": _LIFE_EVENT[int(typ)],
            "ts_utc": tape.clock.iso_us(int(ts)), "ts_utc_ns": tape.clock.utc_ns(int(ts)),
            "symbol": ref.symbol(int(inst)), "order_id": int(oid), "account": int(account),
            "firm": acct.firm, "actor": actor,
            "side": "BUY" if sides[k] > 0 else ("SELL" if sides[k] < 0 else ""),
            "price": f"{price / scale:.4f}" if price else "", "qty": int(qty), "leaves": int(leaves),
            "trade_id": int(trade_id) if trade_id else "", "reason": rname if reason else "",
            "clock_source": tape.clock.source, "clock_est_error_us": est}))
    rows.sort(key=lambda r: (r[0], r[1]))
    return AuditTrail([r[2] for r in rows], acc)


def iter_rows(trail: AuditTrail) -> Iterator[dict[str, object]]:
    yield from trail.rows


def executed_totals(trail: AuditTrail) -> tuple[int, int]:
    """(EXECUTED rows, shares executed over them) for reconciliation with the journal."""
    ex = [r for r in trail.rows if r["event"] == "EXECUTED"]
    return len(ex), sum(int(str(r["qty"])) for r in ex)


