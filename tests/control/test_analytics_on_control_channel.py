"""The live order-flow monitor publishes on the control plane's channel (issue #24): `up` runs it
beside the venue, its values and alerts reach a subscriber of the control plane's PUB socket, a
malformed message pushed into the publish ingest is refused (counted, logged) without harming the
control plane, and a killed monitor is restarted by `up`."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any, Iterator

import msgspec
import pytest
import zmq

from gateway.control import protocol
from gateway.control.ingest import MAX_INGEST_BYTES, MAX_INGEST_FIELDS, PublishIngest, check
from tests.control.cp_venue import CpVenue, start_venue, wait_for

_enc = msgspec.msgpack.Encoder()


def _body(**kw: Any) -> bytes:
    return _enc.encode({"source": "analytics", **kw})


@pytest.mark.parametrize("frames, why", [
    ([b"analytics"], "1 frames"),
    ([b"analytics", _body(), b"x"], "3 frames"),
    ([b"status", _body()], "not accepted"),
    ([b"audit", _body()], "not accepted"),
    ([b"analytics", b"\xc1"], "not a map"),
    ([b"analytics", _enc.encode([1, 2])], "not a map"),
    ([b"analytics", _enc.encode({"source": "a", "nested": {"x": 1}})], "not a map"),
    ([b"analytics", _enc.encode({"source": "a", **{f"k{i}": i for i in range(MAX_INGEST_FIELDS)}})],
     "not a map"),
    ([b"analytics", b"\x00" * (MAX_INGEST_BYTES + 1)], "bytes"),
    ([b"analytics", _enc.encode({"vpin": 0.5})], "no 'source'"),
    ([b"alert", _enc.encode({"source": ""})], "no 'source'"),
])
def test_the_ingest_refuses_each_malformed_message_with_its_reason(frames: list[bytes], why: str) -> None:
    got = check(frames)
    assert isinstance(got, str) and why in got, got


def test_the_ingest_accepts_values_and_alerts() -> None:
    assert check([b"analytics", _body(instrument=1, vpin_last=0.4, kyle_lambda=None)]) == (
        b"analytics", {"source": "analytics", "instrument": 1, "vpin_last": 0.4, "kyle_lambda": None})
    assert check([b"alert", _body(alert="vpin", symbol="ACME")])[0] == b"alert"  # type: ignore[index]


def test_the_ingest_forwards_good_messages_and_counts_the_refused(tmp_path: Path) -> None:
    published: list[tuple[bytes, Any]] = []
    ingest = PublishIngest(f"ipc://{tmp_path}/ingest", lambda t, b: published.append((t, b)))
    push = zmq.Context.instance().socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    push.connect(ingest.endpoint)
    try:
        push.send_multipart([b"analytics", _body(instrument=1)])
        push.send_multipart([b"status", _body()])                   # a topic it may not use
        push.send_multipart([b"analytics", b"garbage"])
        push.send_multipart([b"alert", _body(alert="regime")])
        wait_for(lambda: (ingest.drain() or True) and ingest.forwarded + sum(ingest.refused.values()) == 4 or None,
                 "the four messages")
    finally:
        push.close()
        ingest.close()
    assert [t for t, _ in published] == [b"analytics", b"alert"]
    assert published[0][1]["instrument"] == 1
    assert sum(ingest.refused.values()) == 2


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[CpVenue]:
    yield from start_venue(tmp_path, analytics=True)


def test_up_runs_the_monitor_and_its_values_arrive_on_the_control_channel(venue: CpVenue) -> None:
    from gateway.client import ExecType, Side
    out = venue.output()
    assert "analytics (order-flow monitor):   topics analytics, alert on the control publish channel" in out
    assert venue.ready["analytics"] is True and "monitor" in venue.ready["pids"]
    ctl = venue.control()
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, protocol.TOPIC_ANALYTICS)
    sub.connect(venue.ready["publish"])
    got: list[dict[str, Any]] = []
    price = [10_000]
    # The monitor is a reader that comes up beside the venue (nothing waits for it): it sees the
    # events from when it attaches, so the test trades a round at a time until its values arrive.
    with venue.connect(101) as b, venue.connect(201) as s:
        def trade_round() -> None:
            price[0] += 1
            cid = s.new_order(instrument_id=1, side=Side.SELL, order_qty=5, account_id=3, price=price[0])
            assert s.wait_report(cid).exec_type == ExecType.NEW
            cid = b.new_order(instrument_id=1, side=Side.BUY, order_qty=5, account_id=1, price=price[0])
            b.wait_report(cid, "TRADE")
            while sub.poll(100):
                got.append(protocol.decode_published(sub.recv_multipart()[1]))

        wait_for(lambda: any(v.get("symbol") == "ACME" and (v.get("trades") or 0) > 0 for v in got) or None,
                 "analytics values on the control channel", 60, step=trade_round)
    sub.close()
    values = next(v for v in got if v.get("symbol") == "ACME")
    assert values["source"] == "analytics" and values["instrument"] == 1
    assert "vpin_last" in values and "ofi_beta" in values

    # Garbage in the ingest (from this user: the run directory is the venue's own) is refused,
    # counted in the metrics, and the control plane goes on answering.
    ep = json.loads((Path(venue.ready["run_dir"]) / "control.json").read_text())["ingest"]
    push = zmq.Context.instance().socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 10_000)          # close() delivers what is queued (0 would drop it)
    push.connect(ep)
    for frames in ([b"audit", _body()], [b"analytics", b"\xff\xff"], [b"analytics"]):
        push.send_multipart(frames)
    push.close()
    metrics = ctl.subscribe([protocol.TOPIC_METRICS], timeout_s=15)
    wait_for(lambda: next(b for _, b in metrics)["ingest_refused"] >= 3 or None, "the refusals in the metrics")
    assert ctl.call("status")["engine"]["alive"]

    # A killed monitor is restarted alone by `up`.
    pid = venue.ready["pids"]["monitor"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: "up: monitor is back" in venue.output() or None, "the monitor's restart", 60)
    ready_file = Path(venue.ready["run_dir"]).parent / "ready.json"    # rewritten after the line
    ready = wait_for(lambda: (r := json.loads(ready_file.read_text()))["pids"]["monitor"] != pid and r or None,
                     "the ready file's new monitor pid")
    assert ready["pids"]["control"] == venue.ready["pids"]["control"]


def test_analytics_can_be_switched_off(tmp_path: Path) -> None:
    for v in start_venue(tmp_path, analytics=False):
        assert "analytics (order-flow monitor):   off" in v.output()
        assert v.ready["analytics"] is False and "monitor" not in v.ready["pids"]
