/*
 * md_xdp.c - the AF_XDP socket of the feed's receive transport (md_xdp.h): UMEM, fill and
 * completion rings, RX ring, and the Ethernet/IPv4/UDP checks that leave the MoldUDP64 payload.
 *
 * Ring protocol (Documentation/networking/af_xdp.rst): each ring has a producer and a consumer
 * index shared with the kernel. RX: the kernel produces descriptors; we read the producer with
 * acquire, read the descriptor, and publish our consumer with release once done with it. Fill:
 * we write frame addresses and publish the producer with release; the kernel consumes them. A
 * frame is ours from its RX descriptor until we put its address back on the fill ring, and the
 * number of frames is the fill ring's size, so the fill ring never overflows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "md_xdp.h"
#include "md_xdp_internal.h"


uint32_t md_xdp_ifindex(const char *name)
{
    return name ? if_nametoindex(name) : 0;
}

#ifdef MD_HAVE_XDP

static void md_xdp_fill_put(md_xdp_t *x, uint64_t addr)
{
    md_xdp_ring_t *f = &x->fill;
    ((uint64_t *)f->desc)[f->cached & f->mask] = addr;
    f->cached++;
    /* release: the ring entries above are written before the kernel sees the producer index;
     * pairs with the kernel's acquire load of it (AF_XDP ring protocol, if_xdp.h rings) */
    __atomic_store_n(f->producer, f->cached, __ATOMIC_RELEASE);
    if (__atomic_load_n(f->flags, __ATOMIC_RELAXED) & XDP_RING_NEED_WAKEUP) {
        recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
        x->stats.wakeups++;
    }
}

static int md_xdp_setsockopt(md_xdp_t *x, int opt, const void *v, socklen_t len)
{
    return setsockopt(x->fd, SOL_XDP, opt, v, len) < 0 ? -errno : 0;
}

/* UMEM and the rings, mapped. Receive: every frame on the fill ring. Transmit: every frame free
 * for md_xdp_send (md_xdp_tx.c), the fill ring empty (the kernel insists on one). */
static int md_xdp_umem(md_xdp_t *x, const md_xdp_cfg_t *cfg, uint32_t frames, char *why, uint32_t cap)
{
    x->umem_len = (size_t)frames * MD_XDP_FRAME;
    x->umem = mmap(NULL, x->umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (x->umem == MAP_FAILED) {
        x->umem = NULL;
        snprintf(why, cap, "UMEM of %zu bytes: %s", x->umem_len, strerror(errno));
        return -ENOMEM;
    }
    struct xdp_umem_reg reg = {.addr = (uint64_t)(uintptr_t)x->umem, .len = x->umem_len,
                               .chunk_size = MD_XDP_FRAME, .headroom = 0};
    int rc = md_xdp_setsockopt(x, XDP_UMEM_REG, &reg, sizeof reg);
    if (rc < 0) {
        snprintf(why, cap, "XDP_UMEM_REG (%zu bytes): %s%s", x->umem_len, strerror(-rc),
                 rc == -ENOBUFS || rc == -EPERM ? " (RLIMIT_MEMLOCK too low for the UMEM?)" : "");
        return rc;
    }
    uint32_t n = frames;
    if ((rc = md_xdp_setsockopt(x, XDP_UMEM_FILL_RING, &n, sizeof n)) < 0 ||
        (rc = md_xdp_setsockopt(x, XDP_UMEM_COMPLETION_RING, &n, sizeof n)) < 0 ||
        (rc = md_xdp_setsockopt(x, cfg->tx ? XDP_TX_RING : XDP_RX_RING, &n, sizeof n)) < 0) {
        snprintf(why, cap, "AF_XDP ring set-up: %s", strerror(-rc));
        return rc;
    }
    struct xdp_mmap_offsets off;
    socklen_t olen = sizeof off;
    if (getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &olen) < 0) {
        snprintf(why, cap, "XDP_MMAP_OFFSETS: %s", strerror(errno));
        return -errno;
    }
    if ((rc = md_xdp_map_ring(x, &x->fill, &off.fr, n, sizeof(uint64_t), XDP_UMEM_PGOFF_FILL_RING)) < 0 ||
        (rc = md_xdp_map_ring(x, &x->comp, &off.cr, n, sizeof(uint64_t),
                              XDP_UMEM_PGOFF_COMPLETION_RING)) < 0) {
        snprintf(why, cap, "mapping the AF_XDP rings: %s", strerror(-rc));
        return rc;
    }
    if (cfg->tx)
        return md_xdp_tx_setup(x, cfg, &off, why, cap);
    rc = md_xdp_map_ring(x, &x->rx, &off.rx, n, sizeof(struct xdp_desc), XDP_PGOFF_RX_RING);
    if (rc < 0) {
        snprintf(why, cap, "mapping the AF_XDP RX ring: %s", strerror(-rc));
        return rc;
    }
    for (uint32_t i = 0; i < frames; i++)
        ((uint64_t *)x->fill.desc)[i] = (uint64_t)i * MD_XDP_FRAME;
    x->fill.cached = frames;
    /* release: the ring entries above are written before the kernel sees the producer index;
     * pairs with the kernel's acquire load of it (AF_XDP ring protocol, if_xdp.h rings) */
    __atomic_store_n(x->fill.producer, frames, __ATOMIC_RELEASE);
    return 0;
}

/* Zero-copy where the driver has it (unless refused by cfg), else copy mode. */
static int md_xdp_bind(md_xdp_t *x, const md_xdp_cfg_t *cfg, md_xdp_info_t *info, char *why,
                       uint32_t cap)
{
    struct sockaddr_xdp sa = {.sxdp_family = AF_XDP, .sxdp_ifindex = cfg->ifindex,
                              .sxdp_queue_id = cfg->queue_id};
    int zc_err = 0;
    if (!cfg->no_zerocopy) {
        sa.sxdp_flags = XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP;
        if (bind(x->fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            info->zerocopy = 1;
            return 0;
        }
        zc_err = errno;
    }
    sa.sxdp_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
    if (bind(x->fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        info->zerocopy = 0;
        return 0;
    }
    int rc = -errno;
    snprintf(why, cap, "binding the AF_XDP socket to ifindex %u queue %u: zero-copy %s, copy %s",
             cfg->ifindex, cfg->queue_id, zc_err ? strerror(zc_err) : "not tried", strerror(-rc));
    return rc;
}

static int md_xdp_check_cfg(const md_xdp_cfg_t *cfg, uint32_t *frames, char *why, uint32_t cap)
{
    *frames = cfg->frame_count ? cfg->frame_count : 4096;
    if (cfg->ifindex == 0 || cfg->udp_port == 0 || cfg->udp_port > 65535 || *frames < 64 ||
        *frames > 65536 || (*frames & (*frames - 1))) {
        snprintf(why, cap, "bad configuration: ifindex %u (must name an interface), udp_port %u "
                 "(1..65535), frame_count %u (a power of two 64..65536)", cfg->ifindex,
                 cfg->udp_port, *frames);
        return -EINVAL;
    }
    if (cfg->tx && (cfg->src_port == 0 || cfg->src_port > 65535 || cfg->dst_ip == 0)) {
        snprintf(why, cap, "bad transmit configuration: src_port %u (1..65535), dst_ip %u "
                 "(an address)", cfg->src_port, cfg->dst_ip);
        return -EINVAL;
    }
    return 0;
}

int md_xdp_open(const md_xdp_cfg_t *cfg, md_xdp_t **out, md_xdp_info_t *info, char *why,
                uint32_t why_cap)
{
    if (!cfg || !out || !info || !why || why_cap == 0)
        return -EINVAL;
    why[0] = '\0';
    uint32_t frames;
    int rc = md_xdp_check_cfg(cfg, &frames, why, why_cap);
    if (rc < 0)
        return rc;
    md_xdp_t *x = calloc(1, sizeof *x);
    if (!x)
        return -ENOMEM;
    x->map_fd = x->prog_fd = x->link_fd = -1;
    x->port = (uint16_t)cfg->udp_port;
    x->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (x->fd < 0) {
        rc = -errno;
        snprintf(why, why_cap, "socket(AF_XDP): %s%s", strerror(errno),
                 rc == -EPERM ? " (needs CAP_NET_RAW / root)" :
                 rc == -EAFNOSUPPORT ? " (a kernel without CONFIG_XDP_SOCKETS)" : "");
        free(x);
        return rc;
    }
    memset(info, 0, sizeof *info);
    info->frame_count = frames;
    info->frame_size = MD_XDP_FRAME;
    x->tx = cfg->tx != 0;
    if (x->tx) {                    /* transmit only: no program steers anything to it */
        if ((rc = md_xdp_umem(x, cfg, frames, why, why_cap)) < 0 ||
            (rc = md_xdp_bind(x, cfg, info, why, why_cap)) < 0) {
            md_xdp_close(x);
            return rc;
        }
        *out = x;
        return 0;
    }
    if ((rc = md_xdp_umem(x, cfg, frames, why, why_cap)) < 0 ||
        (rc = md_xdp_prog_setup(cfg->ifindex, cfg->queue_id, (uint16_t)cfg->udp_port,
                                (int)cfg->skb_mode, &x->map_fd, &x->prog_fd, &x->link_fd,
                                &info->attach, why, why_cap)) < 0 ||
        (rc = md_xdp_bind(x, cfg, info, why, why_cap)) < 0) {
        md_xdp_close(x);
        return rc;
    }
    if ((rc = md_xdp_map_set(x->map_fd, cfg->queue_id, x->fd)) < 0) {
        snprintf(why, why_cap, "bpf(BPF_MAP_UPDATE_ELEM, XSKMAP): %s", strerror(-rc));
        md_xdp_close(x);
        return rc;
    }
    *out = x;
    return 0;
}

static void md_xdp_unmap(md_xdp_ring_t *r)
{
    if (r->map)
        munmap(r->map, r->map_len);
    r->map = NULL;
}

void md_xdp_close(md_xdp_t *x)
{
    if (!x)
        return;
    if (x->link_fd >= 0)
        close(x->link_fd);          /* detaches the program */
    if (x->prog_fd >= 0)
        close(x->prog_fd);
    if (x->map_fd >= 0)
        close(x->map_fd);
    md_xdp_unmap(&x->rx);
    md_xdp_unmap(&x->fill);
    md_xdp_unmap(&x->comp);
    md_xdp_unmap(&x->txr);
    free(x->free_frames);
    if (x->fd >= 0)
        close(x->fd);
    if (x->umem)
        munmap(x->umem, x->umem_len);
    free(x);
}

int md_xdp_fd(const md_xdp_t *x)
{
    return x ? x->fd : -1;
}

/* The UDP payload of a steered frame, or NULL (counted) if it is not a whole IPv4/UDP datagram
 * to our port: the program checked the same, but the frame is the kernel's word, checked again. */
static const uint8_t *md_xdp_payload(md_xdp_t *x, const uint8_t *f, uint32_t len, uint32_t *plen)
{
    if (len < MD_XDP_HDR || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 || f[23] != 17 ||
        (uint16_t)((f[36] << 8) | f[37]) != x->port)
        return NULL;
    uint32_t ip_len = ((uint32_t)f[16] << 8) | f[17];
    uint32_t udp_len = ((uint32_t)f[38] << 8) | f[39];
    if (ip_len < 28 || 14 + ip_len > len || udp_len < 8 || udp_len > ip_len - 20)
        return NULL;
    *plen = udp_len - 8;
    return f + MD_XDP_HDR;
}

const uint8_t *md_xdp_peek(md_xdp_t *x, uint32_t *len)
{
    if (x->holding)
        md_xdp_release(x);
    md_xdp_ring_t *r = &x->rx;
    if (!r->map)
        return NULL;                /* a transmit socket */
    /* acquire: pairs with the kernel's release store of the producer index after it wrote
     * the entries (AF_XDP ring protocol) */
    while (r->cached != __atomic_load_n(r->producer, __ATOMIC_ACQUIRE)) {
        const struct xdp_desc *d = &((const struct xdp_desc *)r->desc)[r->cached & r->mask];
        uint64_t addr = d->addr;
        uint32_t flen = d->len;
        r->cached++;
        /* release: the entries are read before their slots go back; pairs with the kernel's
         * acquire load of the consumer index before it writes those slots again */
        __atomic_store_n(r->consumer, r->cached, __ATOMIC_RELEASE);
        const uint8_t *p = addr + flen <= x->umem_len
                               ? md_xdp_payload(x, x->umem + addr, flen, len) : NULL;
        if (!p) {
            x->stats.rx_malformed++;
            md_xdp_fill_put(x, addr & ~(uint64_t)(MD_XDP_FRAME - 1));
            continue;
        }
        x->held = addr & ~(uint64_t)(MD_XDP_FRAME - 1);
        x->holding = 1;
        x->stats.rx_packets++;
        return p;
    }
    return NULL;
}

void md_xdp_release(md_xdp_t *x)
{
    if (!x->holding)
        return;
    x->holding = 0;
    md_xdp_fill_put(x, x->held);
}

int md_xdp_recv(md_xdp_t *x, uint8_t *buf, uint32_t cap)
{
    uint32_t len = 0;
    const uint8_t *p = md_xdp_peek(x, &len);
    if (!p)
        return 0;
    int rc = (int)len;
    if (len > cap) {
        x->stats.rx_packets--;
        x->stats.rx_malformed++;
        rc = -EMSGSIZE;
    } else {
        memcpy(buf, p, len);
    }
    md_xdp_release(x);
    return rc;
}

int md_xdp_wait(md_xdp_t *x, int timeout_ms)
{
    if (!x->rx.map)
        return -EINVAL;
    /* acquire: pairs with the kernel's release store of the producer index after it wrote
     * the entries (AF_XDP ring protocol) */
    if (x->rx.cached != __atomic_load_n(x->rx.producer, __ATOMIC_ACQUIRE))
        return 1;
    struct pollfd p = {.fd = x->fd, .events = POLLIN};
    int rc = poll(&p, 1, timeout_ms);
    return rc < 0 ? (errno == EINTR ? 0 : -errno) : rc > 0;
}

void md_xdp_get_stats(md_xdp_t *x, md_xdp_stats_t *out)
{
    struct xdp_statistics st;
    socklen_t len = sizeof st;
    if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &st, &len) == 0) {
        x->stats.rx_dropped = st.rx_dropped;
        x->stats.rx_ring_full = st.rx_ring_full;
        x->stats.rx_fill_ring_empty = st.rx_fill_ring_empty_descs;
    }
    *out = x->stats;
}

#else /* !MD_HAVE_XDP */

struct md_xdp {
    int unused;
};

int md_xdp_open(const md_xdp_cfg_t *cfg, md_xdp_t **out, md_xdp_info_t *info, char *why,
                uint32_t why_cap)
{
    (void)cfg; (void)out; (void)info;
    if (why && why_cap)
        snprintf(why, why_cap, "built without <linux/if_xdp.h>");
    return -ENOSYS;
}

void md_xdp_close(md_xdp_t *x) { (void)x; }
int md_xdp_fd(const md_xdp_t *x) { (void)x; return -1; }
const uint8_t *md_xdp_peek(md_xdp_t *x, uint32_t *len) { (void)x; (void)len; return NULL; }
void md_xdp_release(md_xdp_t *x) { (void)x; }
int md_xdp_recv(md_xdp_t *x, uint8_t *buf, uint32_t cap) { (void)x; (void)buf; (void)cap; return 0; }
int md_xdp_wait(md_xdp_t *x, int timeout_ms) { (void)x; (void)timeout_ms; return -ENOSYS; }
void md_xdp_get_stats(md_xdp_t *x, md_xdp_stats_t *out) { (void)x; memset(out, 0, sizeof *out); }
int md_xdp_send(md_xdp_t *x, const uint8_t *payload, uint32_t len)
{
    (void)x; (void)payload; (void)len;
    return -ENOSYS;
}

#endif /* MD_HAVE_XDP */
