"""The order-by-order feed over AF_XDP (native/md/md_xdp.h). XdpSender: the publisher's side,
datagrams built in user space and put on a TX ring (transport.UdpSender's interface). XdpReceiver:
the subscriber's, a PacketSource like transport.UdpReceiver, giving the same MoldUDP64 packets, so the Subscriber's framing, gap
detection and recovery are exactly the UDP path's. An XDP program on the interface steers only
the feed's UDP destination port to the socket; every other packet (recovery TCP, ARP, other
ports) still reaches the kernel.

This is the software path wherever the driver has no zero-copy AF_XDP (veth: native XDP, copy
mode); `XdpReceiver.description` says which modes it runs in, for the start-up line. Opening needs
root (CAP_NET_ADMIN, CAP_BPF); where it fails, `XdpUnavailable` says which step and why, and the
caller runs on the UDP socket instead.
"""
from __future__ import annotations

import fcntl
import socket
import struct
from dataclasses import dataclass

from native._venue import ffi, lib


class XdpUnavailable(OSError):
    """AF_XDP could not be set up here; the message names the step and the reason."""


class XdpReceiver:
    """Feed datagrams to `port` arriving on interface `ifname` (of the calling thread's network
    namespace), receive queue `queue_id`."""

    def __init__(self, ifname: str, port: int, queue_id: int = 0, frame_count: int = 4096,
                 zerocopy: bool = True, skb_mode: bool = False) -> None:
        if not 1 <= port <= 65535:
            raise ValueError(f"port {port}: must be 1..65535")
        ifindex = int(lib.md_xdp_ifindex(ifname.encode()))
        if ifindex == 0:
            raise XdpUnavailable(f"AF_XDP: no interface {ifname!r} in this network namespace")
        cfg = ffi.new("md_xdp_cfg_t *")
        cfg.ifindex = ifindex
        cfg.queue_id = queue_id
        cfg.udp_port = port
        cfg.frame_count = frame_count
        cfg.no_zerocopy = int(not zerocopy)
        cfg.skb_mode = int(skb_mode)
        out = ffi.new("md_xdp_t **")
        info = ffi.new("md_xdp_info_t *")
        why = ffi.new("char[]", 512)
        rc = lib.md_xdp_open(cfg, out, info, why, 512)
        if rc < 0:
            raise XdpUnavailable(f"AF_XDP on {ifname}: {ffi.string(why).decode(errors='replace')}")
        self._x = out[0]
        self.ifname = ifname
        self.zerocopy = bool(info.zerocopy)
        self.driver_mode = int(info.attach) == int(lib.MD_XDP_ATTACH_DRV)
        self._buf = ffi.new("uint8_t[]", 2048)

    @property
    def description(self) -> str:
        return (f"AF_XDP on {self.ifname}: program in "
                f"{'driver (native XDP)' if self.driver_mode else 'generic (skb)'} mode, socket "
                f"{'zero-copy' if self.zerocopy else 'copy mode (the driver has no zero-copy)'}")

    @property
    def handle(self) -> object:
        """The md_xdp_t * for C consumers (md_xdp_peek / md_xdp_release)."""
        return self._x

    def fileno(self) -> int:
        return int(lib.md_xdp_fd(self._x))

    def recv(self, timeout_s: float) -> bytes | None:
        """One feed datagram's payload, or None when nothing came within timeout_s."""
        n = lib.md_xdp_recv(self._x, self._buf, 2048)
        if n == 0 and timeout_s > 0 and lib.md_xdp_wait(self._x, max(1, int(timeout_s * 1000))) > 0:
            n = lib.md_xdp_recv(self._x, self._buf, 2048)
        return bytes(ffi.buffer(self._buf, n)) if n > 0 else None

    def stats(self) -> dict[str, int]:
        st = ffi.new("md_xdp_stats_t *")
        lib.md_xdp_get_stats(self._x, st)
        return {k: int(getattr(st, k)) for k in ("rx_packets", "rx_malformed", "wakeups",
                                                  "rx_dropped", "rx_ring_full", "rx_fill_ring_empty")}

    def close(self) -> None:
        if self._x is not None:
            lib.md_xdp_close(self._x)
            self._x = None


@dataclass(frozen=True)
class XdpTxConfig:
    """The publisher's AF_XDP transmit side: its interface (in the namespace the Publisher is made
    in), and the next hop's MAC (the subscriber's end of the veth pair); the destination address
    and port are the L3 channel's, the source address the interface's own."""
    ifname: str
    dst_mac: str            # "aa:bb:cc:dd:ee:ff"
    src_port: int = 31000
    queue_id: int = 0


def parse_mac(text: str) -> bytes:
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError(f"{text!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    try:
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise ValueError(f"{text!r} is not a MAC address (aa:bb:cc:dd:ee:ff)") from None


def interface_mac_and_ipv4(ifname: str) -> tuple[bytes, str]:
    """The interface's MAC and first IPv4 address (SIOCGIFHWADDR, SIOCGIFADDR), in the calling
    thread's network namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("256s", ifname.encode()[:15])
        try:
            mac = fcntl.ioctl(s.fileno(), 0x8927, req)[18:24]         # SIOCGIFHWADDR
            addr = fcntl.ioctl(s.fileno(), 0x8915, req)[20:24]        # SIOCGIFADDR
        except OSError as exc:
            raise XdpUnavailable(f"AF_XDP on {ifname}: its MAC or IPv4 address: {exc.strerror}") from None
    return mac, socket.inet_ntoa(addr)


class XdpSender:
    """Sends a channel's packets as UDP datagrams through an AF_XDP TX ring (the same interface as
    transport.UdpSender): the frames are built in user space and handed to the driver, past the
    kernel's UDP and IP output path."""

    def __init__(self, tx: XdpTxConfig, dst_address: str, dst_port: int) -> None:
        src_mac, src_ip = interface_mac_and_ipv4(tx.ifname)
        cfg = ffi.new("md_xdp_cfg_t *")
        cfg.ifindex = int(lib.md_xdp_ifindex(tx.ifname.encode()))
        cfg.queue_id = tx.queue_id
        cfg.udp_port = dst_port
        cfg.frame_count = 4096
        cfg.tx = 1
        cfg.src_ip = int.from_bytes(socket.inet_aton(src_ip), "big")
        cfg.dst_ip = int.from_bytes(socket.inet_aton(dst_address), "big")
        cfg.src_port = tx.src_port
        ffi.memmove(cfg.src_mac, src_mac, 6)
        ffi.memmove(cfg.dst_mac, parse_mac(tx.dst_mac), 6)
        out = ffi.new("md_xdp_t **")
        info = ffi.new("md_xdp_info_t *")
        why = ffi.new("char[]", 512)
        rc = lib.md_xdp_open(cfg, out, info, why, 512)
        if rc < 0:
            raise XdpUnavailable(f"AF_XDP on {tx.ifname}: {ffi.string(why).decode(errors='replace')}")
        self._x = out[0]
        self.target = (dst_address, dst_port)
        self.mode = (f"unicast over AF_XDP on {tx.ifname} "
                     f"({'zero-copy' if info.zerocopy else 'copy mode'})")
        self.fallback_reason = ""
        self.not_sent = 0

    def send(self, packets: list[bytes] | bytes) -> None:
        for p in [packets] if isinstance(packets, bytes) else packets:
            if lib.md_xdp_send(self._x, p, len(p)) < 0:
                self.not_sent += 1      # as a full socket buffer would lose it: recovery covers it

    def fileno(self) -> int:
        return int(lib.md_xdp_fd(self._x))

    @property
    def handle(self) -> object:
        """The md_xdp_t * for the C publisher loop (md_pub_config_t.l3_xdp)."""
        return self._x

    def stats(self) -> dict[str, int]:
        st = ffi.new("md_xdp_stats_t *")
        lib.md_xdp_get_stats(self._x, st)
        return {k: int(getattr(st, k)) for k in ("tx_packets", "tx_no_frame", "tx_kicks")}

    def close(self) -> None:
        if self._x is not None:
            lib.md_xdp_close(self._x)
            self._x = None
