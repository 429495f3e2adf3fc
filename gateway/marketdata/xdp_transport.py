"""The order-by-order feed received over AF_XDP (native/md/md_xdp.h): a PacketSource like
transport.UdpReceiver, giving the same MoldUDP64 packets, so the Subscriber's framing, gap
detection and recovery are exactly the UDP path's. An XDP program on the interface steers only
the feed's UDP destination port to the socket; every other packet (recovery TCP, ARP, other
ports) still reaches the kernel.

This is the software path wherever the driver has no zero-copy AF_XDP (veth: native XDP, copy
mode); `XdpReceiver.description` says which modes it runs in, for the start-up line. Opening needs
root (CAP_NET_ADMIN, CAP_BPF); where it fails, `XdpUnavailable` says which step and why, and the
caller runs on the UDP socket instead.
"""
from __future__ import annotations

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
