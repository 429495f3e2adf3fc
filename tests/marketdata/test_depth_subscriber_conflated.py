"""The conflated channel on real UDP sockets: after every conflation interval, a DepthSubscriber's
top-N levels per side and its BBO + last trade equal the engine's; and a slow consumer that reads
only now and then gets one (conflated) update per instrument per interval, never a backlog that
grows with the number of events."""
from __future__ import annotations

from typing import Any

from gateway.marketdata.encoder import EncoderConfig
from gateway.marketdata.publisher import Publisher, PublisherConfig
from gateway.marketdata.subscriber import DepthSubscriber
from gateway.marketdata.transport import UdpReceiver
from native import records
from native.messages import TradeEvent
from native.engine import Engine
from tests.marketdata.session import command_records, udp_channel
from tests.native.streams import seeded_stream

DEPTH = 5
INTERVAL_NS = 1_000_000
INSTRUMENTS = [1, 2, 3]


def _setup(seed: int, n: int) -> tuple[Engine, Publisher, DepthSubscriber, Any]:
    ch = udp_channel(False)
    eng = Engine(max_orders=10_000, max_levels=4_000, max_instruments=3, max_accounts=8)
    pub = Publisher(PublisherConfig(encoder=EncoderConfig(max_instruments=3, depth_levels=DEPTH),
                                    udp_l2=ch, recovery_port=None, conflate_interval_ns=INTERVAL_NS))
    rx = UdpReceiver(ch)
    return eng, pub, DepthSubscriber(rx), command_records(seeded_stream(seed, n))


def _drain(pub: Publisher, sub: DepthSubscriber) -> None:
    want = pub.encoder.stats()["depth_next_seq"]
    for _ in range(2000):
        if sub.next_seq >= want:
            return
        sub.poll(0.01)
    raise AssertionError(f"depth subscriber stuck at seq {sub.next_seq}, publisher at {want}")


def _last_trades(events: Any, last: dict[int, tuple[int, int]]) -> None:
    for ev in records.decode_events(events):
        if isinstance(ev, TradeEvent):
            last[int(ev.instrument_id)] = (int(ev.price), int(ev.qty))


def _mismatches(eng: Engine, sub: DepthSubscriber, last: dict[int, tuple[int, int]]) -> list[str]:
    out = []
    for inst in INSTRUMENTS:
        if eng.instrument(inst) is None or inst not in sub.bbo:
            continue
        want = {1: eng.depth(inst, 1, DEPTH), 2: eng.depth(inst, 2, DEPTH)}
        got = {1: sub.bids[inst], 2: sub.asks[inst]}
        for side in (1, 2):
            g = [(int(r["price"]), int(r["qty"]), int(r["order_count"])) for r in got[side]]
            if g != want[side]:
                out.append(f"L2 inst {inst} side {side}: feed {g} engine {want[side]}")
        b = sub.bbo[inst]
        best_bid = want[1][0][:2] if want[1] else None
        best_ask = want[2][0][:2] if want[2] else None
        got_bid = (int(b["bid_price"]), int(b["bid_qty"])) if b["has_bid"] else None
        got_ask = (int(b["ask_price"]), int(b["ask_qty"])) if b["has_ask"] else None
        got_last = (int(b["last_price"]), int(b["last_qty"])) if b["has_last"] else None
        if (got_bid, got_ask, got_last) != (best_bid, best_ask, last.get(inst)):
            out.append(f"L1 inst {inst}: feed {(got_bid, got_ask, got_last)} engine "
                       f"{(best_bid, best_ask, last.get(inst))}")
    return out


def test_depth_and_bbo_equal_engine_after_every_conflation_interval() -> None:
    eng, pub, sub, recs = _setup(41, 2500)
    last: dict[int, tuple[int, int]] = {}
    now = 0
    try:
        for i in range(len(recs)):
            events = eng.submit_records(recs[i:i + 1])
            _last_trades(events, last)
            now += INTERVAL_NS // 4          # an interval passes every 4 commands
            pub.publish(events, now_ns=now)  # conflates when an interval has passed
            if i % 4 == 3:
                _drain(pub, sub)
                diff = _mismatches(eng, sub, last)
                assert not diff, f"seed 41 after command {i}: {diff}"
        assert sub.malformed == 0 and sub.lost_messages == 0
        assert set(sub.bbo) == set(INSTRUMENTS)
    finally:
        sub.source.close()  # type: ignore[attr-defined]
        pub.close()
        eng.close()


def test_slow_consumer_gets_conflated_updates_not_a_backlog() -> None:
    eng, pub, sub, recs = _setup(42, 3000)
    last: dict[int, tuple[int, int]] = {}
    now = 0
    intervals = 0
    try:
        # 3000 commands in 30 intervals; the consumer reads only at the end of each interval
        for i in range(len(recs)):
            events = eng.submit_records(recs[i:i + 1])
            _last_trades(events, last)
            pub.publish(events, now_ns=now)
            if i % 100 == 99:
                now += INTERVAL_NS
                intervals += 1
                pub.maybe_conflate(now)
        _drain(pub, sub)
        l3_messages = pub.encoder.stats()["messages"]
        depth_messages = sub.next_seq - 1
        # one DEPTH + one BBO per changed instrument per interval, whatever the event count
        assert depth_messages <= 2 * len(INSTRUMENTS) * (intervals + 1), (depth_messages, intervals)
        assert l3_messages > 5 * depth_messages, (l3_messages, depth_messages)
        assert sub.lost_messages == 0
        diff = _mismatches(eng, sub, last)
        assert not diff, diff
    finally:
        sub.source.close()  # type: ignore[attr-defined]
        pub.close()
        eng.close()
