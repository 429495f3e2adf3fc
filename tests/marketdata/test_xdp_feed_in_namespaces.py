"""The feed over AF_XDP (gateway/marketdata/xdp_transport.py) between two network namespaces the
test makes (gateway/marketdata/netns.py): the publisher's sockets in one (its kernel UDP socket, or
its AF_XDP TX ring), the subscriber's AF_XDP socket on the other end of a veth pair, the XDP program steering only the feed's UDP port to it.
With a share of the live datagrams dropped, the subscriber detects every gap from the MoldUDP64
sequence numbers and recovers the missing messages from the retransmission server, over TCP on
the same veth (traffic the program passes to the kernel), and its book equals the engine's after
every command, as the UDP tests check it (test_gap_recovery_under_loss.py). A datagram to another
port on the same interface reaches a kernel socket, and none of the feed's does.
Root only (namespaces, veth, XDP); skips with the reason otherwise, and where AF_XDP cannot be set
up here (the step that failed and why)."""
from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from gateway.launcher import wait_for
from gateway.marketdata.recovery import RecoveryClient
from gateway.marketdata.subscriber import Subscriber
from gateway.marketdata.transport import UdpChannel
from gateway.marketdata.xdp_transport import (XdpReceiver, XdpSender, XdpTxConfig, XdpUnavailable,
                                              interface_mac_and_ipv4)
from gateway.marketdata.netns import PUB_ADDR, SUB_ADDR, VethPair, veth_pair, why_no_netns
from tests.marketdata.live import BOOT_INSTRUMENT, LiveEngine, LivePublisher, instruments_arg
from tests.marketdata.session import Venue, book_mismatches, command_records
from tests.native.streams import seeded_stream

pytestmark = [pytest.mark.skipif(bool(why_no_netns()), reason=why_no_netns() or "runs"), pytest.mark.slow]
FEED_PORT = 31901
OTHER_PORT = 31902


@pytest.fixture
def pair() -> Iterator[VethPair]:
    with veth_pair() as p:
        yield p


def _receiver(pair: VethPair) -> XdpReceiver:
    try:
        return XdpReceiver(pair.sub_if, FEED_PORT)
    except XdpUnavailable as exc:
        pytest.skip(str(exc))


def _tx_config(pair: VethPair) -> XdpTxConfig:
    with pair.inside("sub"):
        mac, _ = interface_mac_and_ipv4(pair.sub_if)
    return XdpTxConfig(pair.pub_if, ":".join(f"{b:02x}" for b in mac))


@pytest.mark.parametrize("drop,publisher_tx", [(0.0, "udp"), (0.3, "udp"), (0.3, "af_xdp")])
def test_subscriber_on_af_xdp_matches_the_engine_with_loss_and_recovery(
        pair: VethPair, drop: float, publisher_tx: str) -> None:
    seed = 57
    xdp_l3 = _tx_config(pair) if publisher_tx == "af_xdp" else None
    with pair.inside("pub"):
        venue = Venue("udp", drop_fraction=drop, seed=seed, channel=UdpChannel(SUB_ADDR, FEED_PORT),
                      recovery_host=PUB_ADDR, xdp_l3=xdp_l3)
    if xdp_l3 is not None and not isinstance(venue.publisher.udp_l3, XdpSender):
        why = venue.publisher.udp_l3.fallback_reason if venue.publisher.udp_l3 else "no sender"
        venue.close()
        pytest.skip(f"publisher AF_XDP transmit cannot run here: {why}")
    try:
        with pair.inside("sub"):        # the subscriber's sockets, and its recovery reconnects
            source = _receiver(pair)
            print(source.description)
            sub = venue.subscriber(source=source)
            recs = command_records(seeded_stream(seed, 1500))
            for i in range(len(recs)):
                venue.step(recs[i:i + 1])
                venue.sync(sub)
                diff = book_mismatches(venue.engine, sub.book, venue.instruments)
                assert not diff, f"command {i}: {diff}"
            stats = source.stats()
        assert stats["rx_packets"] > 500 and stats["rx_malformed"] == 0, stats
        if drop:
            assert venue.publisher.dropped_packets > 100
            assert sub.recovered_messages > 0 and sub.book.stats()["gaps"] > 0
        else:
            assert sub.book.stats()["gaps"] == 0
        assert sub.resyncs == 0
        if isinstance(venue.publisher.udp_l3, XdpSender):
            tx = venue.publisher.udp_l3.stats()
            assert tx["tx_packets"] > 500 and venue.publisher.udp_l3.not_sent == 0, tx
    finally:
        venue.close()


def test_the_engine_s_c_publisher_sends_on_af_xdp_to_an_af_xdp_subscriber(pair: VethPair) -> None:
    """The production path: `md publish --engine` (its C loop on the engine's log) in the 'pub'
    namespace with --xdp-tx, the subscriber on AF_XDP in 'sub'; the book equals the engine's after
    every command and the publisher reports no send error."""
    seed = 61
    cmds = seeded_stream(seed, 600)
    tx = _tx_config(pair)
    eng = LiveEngine()
    try:
        pub = LivePublisher(eng, instruments_arg(cmds), "--udp", f"{SUB_ADDR}:{FEED_PORT}",
                            "--udp-l2", f"{SUB_ADDR}:{OTHER_PORT}", "--recovery-host", PUB_ADDR,
                            "--xdp-tx", pair.pub_if, "--xdp-dst-mac", tx.dst_mac,
                            "--heartbeat-ms", "5", prefix=tuple(pair.exec_prefix("pub")))
        if "over AF_XDP" not in pub.start_line:
            pub.kill()
            pytest.skip(f"the publisher could not transmit on AF_XDP here: {pub.start_line.strip()}")
        try:
            with pair.inside("sub"):
                source = _receiver(pair)
                rec = RecoveryClient(pub.recovery, "VENUE")
                sub = Subscriber(source, rec, max_instruments=BOOT_INSTRUMENT)
                for i, cmd in enumerate(cmds):
                    eng.submit([cmd])
                    wait_for(lambda: not book_mismatches(eng.reference, sub.book, [1, 2, 3]),
                             f"the subscriber's book to equal the engine's after command {i}",
                             10.0, lambda: sub.poll(0.001))
                rec.close()
                source.close()
            st = pub.stop()
        finally:
            pub.kill()
    finally:
        eng.close()
    assert st["send_errors"] == 0 and st["packets_sent"] > 100, st


def test_only_the_feed_port_is_steered_other_traffic_reaches_the_kernel(pair: VethPair) -> None:
    with pair.inside("pub"):
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with pair.inside("sub"):
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind((SUB_ADDR, OTHER_PORT))
        feed_kernel = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        feed_kernel.bind((SUB_ADDR, FEED_PORT))     # would get the feed if XDP passed it on
        source = _receiver(pair)
    try:
        for i in range(20):
            tx.sendto(b"feed %d" % i, (SUB_ADDR, FEED_PORT))
            tx.sendto(b"other %d" % i, (SUB_ADDR, OTHER_PORT))
        other.settimeout(5.0)
        assert sorted(other.recv(64) for _ in range(20)) == sorted(b"other %d" % i for i in range(20))
        got = []
        while len(got) < 20:
            pkt = source.recv(5.0)
            assert pkt is not None, f"only {len(got)} of 20 feed datagrams came to AF_XDP"
            got.append(pkt)
        assert sorted(got) == sorted(b"feed %d" % i for i in range(20))
        feed_kernel.setblocking(False)
        with pytest.raises(BlockingIOError):
            feed_kernel.recv(64)
    finally:
        source.close()
        for s in (tx, other, feed_kernel):
            s.close()


def test_bad_configuration_is_refused_with_the_reason(pair: VethPair) -> None:
    with pair.inside("sub"):
        with pytest.raises(XdpUnavailable, match="no interface 'nosuchif0'"):
            XdpReceiver("nosuchif0", FEED_PORT)
        with pytest.raises(ValueError, match="port 0"):
            XdpReceiver(pair.sub_if, 0)
        with pytest.raises(ValueError, match="not a MAC address"):
            XdpSender(XdpTxConfig(pair.sub_if, "00:11:22"), PUB_ADDR, FEED_PORT)
        with pytest.raises(XdpUnavailable, match="frame_count"):
            XdpReceiver(pair.sub_if, FEED_PORT, frame_count=1000)
