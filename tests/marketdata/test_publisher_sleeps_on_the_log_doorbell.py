"""The market-data publisher's idle sleep is on the event log's reader bell (venue_layout.h
Section 4): with a 30 s idle sleep, a record published on the log is still drained (woken by the
writer's ring, awaited for at most 10 s: a failure bound), and stop() ends the sleep at once
instead of after the 30 s."""
from __future__ import annotations

from pathlib import Path

from gateway.marketdata.log_publisher import LoopConfig, LogPublisher
from gateway.marketdata.publisher import PublisherConfig
from gateway.marketdata.transport import UdpChannel
from native._venue import ffi, lib
from shm.segment import KIND_BROADCAST, Segment, segment_path, unlink_segment
from gateway.launcher import wait_for
from tests.marketdata.session import free_udp_port

LONG_SLEEP_NS = 30_000_000_000


def test_sleeping_publisher_is_woken_by_a_publish_and_by_stop(tmp_path: Path) -> None:
    path = segment_path(f"mdbell{tmp_path.name[-8:]}", "events")
    seg = Segment.create(path, KIND_BROADCAST, 1 << 16)
    pub = None
    try:
        pub = LogPublisher(path, PublisherConfig(udp_l3=UdpChannel("127.0.0.1", free_udp_port()),
                                                 recovery_port=None),
                           LoopConfig(spin_polls=0, idle_sleep_ns=LONG_SLEEP_NS,
                                      heartbeat_interval_ns=3_600_000_000_000, from_start=False))
        bell = ffi.cast("ring_bcast_ctl_t *", seg.handle.ctl).reader_bell
        pub.start()
        wait_for(lambda: bell.sleepers == 1, "the publisher to sleep on the reader bell")
        tx = ffi.new("ring_bcast_tx_t *")
        lib.ring_bcast_tx_init(tx, seg.handle)
        evt = ffi.new("eng_evt_t *")
        evt.hdr.type = lib.ENG_EVT_CMD_ACK
        evt.hdr.seq = 1
        evt.cmd_ack.cmd_type = lib.ENG_CMD_TIME
        lib.ring_bcast_transmit(tx, lib.RING_MSG_ENG_EVT, evt, ffi.sizeof("eng_evt_t"))
        lib.ring_bcast_wake_readers(tx)
        wait_for(lambda: pub.stats()["events"] == 1, "the publisher to drain the record", 10.0)
        assert bell.wakes >= 1
        wait_for(lambda: bell.sleepers == 1, "the publisher to sleep again")
        pub.stop(timeout_s=10.0)        # TimeoutError if only the 30 s sleep ended the loop
        assert not pub.running
    finally:
        if pub is not None:
            pub.close()
        seg.close()
        unlink_segment(path)
