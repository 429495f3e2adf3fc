"""Reconnect and retransmission: the gateway keeps each session's sequenced messages (in memory,
the last --out-log-msgs of them), a reconnecting client learns the server's next seqNum from
EstablishmentAck and gets exactly the messages it missed, in order, with their original seqNums;
requests outside what was sent or kept, or above the limit, get RetransmitReject with a reason."""
from __future__ import annotations

from pathlib import Path

from gateway.client import ExecType, ExecutionReport, RetransmitReject, Side
from gateway.reasons import Reason

from .gw_venue import Venue, start_venue, venue  # noqa: F401  (fixture)


def test_reconnect_gets_missed_execution_reports_in_order(venue: Venue) -> None:
    c = venue.connect(102)                     # no cancel-on-disconnect: orders survive
    ids = []
    for i in range(5):
        c.new_order(1, Side.SELL, 2, 1, price=11000 + 10 * i)
        ids.append(c.recv().order_id)  # type: ignore[attr-defined]
    seen = c.core.last_seq_in
    assert seen == 5
    c.close()
    taker = venue.connect(201)
    taker.new_order(1, Side.BUY, 10, 3, price=11040)   # fills all five while 102 is away
    taker.recv_n(6)
    back = venue.connect(102, next_seq_no=c.core.next_seq_out)
    assert back.core.server_next_seq == seen + 6
    missed = back.retransmit(seen + 1, 5)
    assert [m.seq_num for m in missed] == list(range(seen + 1, seen + 6))  # type: ignore[attr-defined]
    assert [m.order_id for m in missed] == ids  # type: ignore[attr-defined]
    assert all(isinstance(m, ExecutionReport) and m.exec_type == ExecType.TRADE
               and m.cum_qty == 2 for m in missed)
    # Live flow continues after the retransmission with the next seqNum.
    back.new_order(1, Side.BUY, 1, 1, price=9000)
    assert back.recv().seq_num == seen + 6  # type: ignore[attr-defined]


def test_retransmit_beyond_what_was_sent_is_rejected(venue: Venue) -> None:
    c = venue.connect(101)
    c.new_order(1, Side.BUY, 1, 1, price=9000)
    c.recv()
    [rej] = c.retransmit(1, 5)
    assert isinstance(rej, RetransmitReject) and rej.reason_code == Reason.ENG_GW_RETRANSMIT_RANGE
    [again] = c.retransmit(1, 1)
    assert isinstance(again, ExecutionReport) and again.seq_num == 1


def test_retransmit_limits_are_enforced(tmp_path: Path) -> None:
    for v in start_venue(tmp_path, ["--out-log-msgs", "8", "--retransmit-limit", "4"]):
        c = v.connect(101)
        for i in range(12):
            c.new_order(1, Side.BUY, 1, 1, price=9000 + i)
        c.recv_n(12)
        [rej] = c.retransmit(1, 2)              # 1..4 were overwritten: only 8 are kept
        assert isinstance(rej, RetransmitReject) and rej.reason_code == Reason.ENG_GW_RETRANSMIT_RANGE
        [rej] = c.retransmit(5, 5)
        assert isinstance(rej, RetransmitReject) and rej.reason_code == Reason.ENG_GW_RETRANSMIT_LIMIT
        got = c.retransmit(9, 4)
        assert [m.seq_num for m in got] == [9, 10, 11, 12]  # type: ignore[attr-defined]
