/*
 * md_xdp.h - the feed's AF_XDP receive transport, beside the UDP socket: an XDP program on the
 * interface steers the feed's UDP destination port to an AF_XDP socket and passes every other
 * packet to the kernel; the socket's UMEM frames come back through its fill and RX rings, and
 * the UDP payload (the same MoldUDP64 packet the UDP socket would have delivered) goes to the
 * same md_sub_apply_packet. Everything on raw system calls and the kernel's UAPI headers
 * (linux/if_xdp.h, linux/bpf.h): no libbpf, libxdp or clang; the XDP program is assembled here
 * (md_xdp_prog.c) and loaded with bpf(2).
 *
 * Modes, tried in order and reported in md_xdp_info_t: the program attached in the driver
 * (native XDP; veth has it) else generic (skb) mode; the socket bound zero-copy where the driver
 * supports it, else copy mode (veth: copy). Needs CAP_NET_ADMIN and CAP_BPF (root) and enough
 * RLIMIT_MEMLOCK for the UMEM on older kernels; md_xdp_open says which step failed and why.
 */
#ifndef MD_XDP_H
#define MD_XDP_H

#include <stddef.h>
#include <stdint.h>

/* CFFI-BEGIN */
#define MD_XDP_ATTACH_DRV 1         /* program run by the driver (native XDP) */
#define MD_XDP_ATTACH_SKB 2         /* generic XDP, after the skb is built */

typedef struct md_xdp md_xdp_t;

typedef struct md_xdp_cfg {
    uint32_t ifindex;               /* the interface (in the calling thread's network namespace) */
    uint32_t queue_id;              /* its receive queue to bind (0 for a one-queue veth) */
    uint32_t udp_port;              /* the feed's UDP destination port, 1..65535 */
    uint32_t frame_count;           /* UMEM frames of 2048 bytes, a power of two 64..65536 (0: 4096) */
    uint32_t no_zerocopy;           /* 1: bind copy mode without trying zero-copy */
    uint32_t skb_mode;              /* 1: attach generic (skb) mode without trying the driver */
    /* Transmit side (tx = 1): a TX-only socket, no program; md_xdp_send builds each frame's
     * Ethernet, IPv4 and UDP headers from these (udp_port is the destination port). */
    uint32_t tx;
    uint32_t src_ip, dst_ip;        /* IPv4, host order */
    uint32_t src_port;
    uint8_t src_mac[6], dst_mac[6];
} md_xdp_cfg_t;

typedef struct md_xdp_info {
    uint32_t zerocopy;              /* 1: bound XDP_ZEROCOPY; 0: copy mode (the kernel copies
                                       each packet into a UMEM frame) */
    uint32_t attach;                /* MD_XDP_ATTACH_DRV or MD_XDP_ATTACH_SKB */
    uint32_t frame_count;
    uint32_t frame_size;
} md_xdp_info_t;

typedef struct md_xdp_stats {
    uint64_t rx_packets;            /* feed datagrams handed out */
    uint64_t rx_malformed;          /* frames the program steered that are not a whole IPv4/UDP
                                       datagram to our port (dropped, counted) */
    uint64_t wakeups;               /* fill-ring wake-up calls (XDP_USE_NEED_WAKEUP) */
    uint64_t rx_dropped;            /* the kernel's XDP_STATISTICS: dropped for other reasons */
    uint64_t rx_ring_full;          /* ... because the RX ring was full (a slow reader) */
    uint64_t rx_fill_ring_empty;    /* ... no free frame on the fill ring */
    uint64_t tx_packets;            /* datagrams put on the TX ring */
    uint64_t tx_no_frame;           /* md_xdp_send found no free frame (the kernel had not
                                       completed enough sends): the datagram was not sent */
    uint64_t tx_kicks;              /* sendto(2) wake-ups of the TX ring */
} md_xdp_stats_t;

/* Opens the transport on cfg's interface and queue. 0 and *out set; or < 0 (-errno) with why
 * (NUL-terminated) naming the step that failed. info gets the modes it runs in. */
int md_xdp_open(const md_xdp_cfg_t *cfg, md_xdp_t **out, md_xdp_info_t *info, char *why,
                uint32_t why_cap);
/* Detaches the program, closes the socket, frees the UMEM (NULL: nothing). */
void md_xdp_close(md_xdp_t *x);
/* The socket: poll(2) it for POLLIN. */
int md_xdp_fd(const md_xdp_t *x);
/* The next feed datagram's UDP payload, in place in its UMEM frame (no copy): *len set, or NULL
 * when the RX ring is empty. The frame is the caller's until md_xdp_release. */
const uint8_t *md_xdp_peek(md_xdp_t *x, uint32_t *len);
/* Gives the frame of the last peek back to the fill ring. */
void md_xdp_release(md_xdp_t *x);
/* As peek + copy + release: the payload's length (0: none), or -EMSGSIZE (cap too small: the
 * datagram is dropped and counted as malformed). */
int md_xdp_recv(md_xdp_t *x, uint8_t *buf, uint32_t cap);
/* Waits up to timeout_ms for the RX ring to fill (poll(2)). 1 ready, 0 timeout, -errno. */
int md_xdp_wait(md_xdp_t *x, int timeout_ms);
void md_xdp_get_stats(md_xdp_t *x, md_xdp_stats_t *out);
/* Transmit socket (cfg->tx): sends one UDP datagram with this payload. 0, -EAGAIN (no free
 * frame: not sent, counted), -EMSGSIZE (payload over 1472 bytes), -EINVAL (not a TX socket). */
int md_xdp_send(md_xdp_t *x, const uint8_t *payload, uint32_t len);
/* The interface index of a name in the calling thread's network namespace (0: none). */
uint32_t md_xdp_ifindex(const char *name);
/* CFFI-END */

/* md_xdp_prog.c */
/* Creates the XSKMAP (entries: queue_id + 1), loads the steering program for udp_port (host
 * order) and attaches it to ifindex (driver mode, else generic unless skb_only). 0 with the fds
 * and *attach set, or -errno with why. */
int md_xdp_prog_setup(uint32_t ifindex, uint32_t queue_id, uint16_t udp_port, int skb_only,
                      int *map_fd, int *prog_fd, int *link_fd, uint32_t *attach, char *why,
                      uint32_t why_cap);
/* Puts the socket into the map at queue_id. 0 or -errno. */
int md_xdp_map_set(int map_fd, uint32_t queue_id, int xsk_fd);

#endif /* MD_XDP_H */
