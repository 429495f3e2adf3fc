/*
 * md_xdp_tx.c - the AF_XDP transport's transmit side (md_xdp_send, md_xdp.h): each datagram is
 * written whole into a free UMEM frame (Ethernet, IPv4 and UDP headers from a template made once,
 * then the payload), described on the TX ring, and the kernel is woken with sendto(2) when the
 * ring asks for it (always, in copy mode). A frame is free again once the kernel hands its
 * address back on the completion ring.
 * The UDP checksum is 0 ("not computed", RFC 768; allowed for IPv4); the IPv4 header checksum is
 * computed per frame (its length and id change). No IP options, DF set: a MoldUDP64 packet fits
 * one Ethernet frame (MD_MAX_PACKET_BYTES = 1472 = 1500 - 20 - 8).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "md_feed.h"
#include "md_xdp_internal.h"

#ifdef MD_HAVE_XDP

static void md_xdp_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void md_xdp_put32(uint8_t *p, uint32_t v)
{
    md_xdp_put16(p, (uint16_t)(v >> 16));
    md_xdp_put16(p + 2, (uint16_t)v);
}

static uint16_t md_xdp_ip_checksum(const uint8_t *ip)
{
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += ((uint32_t)ip[i] << 8) | ip[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

int md_xdp_tx_setup(md_xdp_t *x, const md_xdp_cfg_t *cfg, const struct xdp_mmap_offsets *off,
                    char *why, uint32_t cap)
{
    uint32_t n = (uint32_t)(x->umem_len / MD_XDP_FRAME);
    int rc = md_xdp_map_ring(x, &x->txr, &off->tx, n, sizeof(struct xdp_desc), XDP_PGOFF_TX_RING);
    if (rc < 0) {
        snprintf(why, cap, "mapping the AF_XDP TX ring: %s", strerror(-rc));
        return rc;
    }
    x->free_frames = malloc(sizeof(uint64_t) * n);
    if (!x->free_frames)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        x->free_frames[i] = (uint64_t)i * MD_XDP_FRAME;
    x->free_count = n;
    uint8_t *h = x->hdr;
    memcpy(h, cfg->dst_mac, 6);
    memcpy(h + 6, cfg->src_mac, 6);
    md_xdp_put16(h + 12, 0x0800);               /* IPv4 */
    h[14] = 0x45;                               /* version 4, 20-byte header */
    md_xdp_put16(h + 20, 0x4000);               /* DF, no fragment */
    h[22] = 64;                                 /* TTL */
    h[23] = 17;                                 /* UDP */
    md_xdp_put32(h + 26, cfg->src_ip);
    md_xdp_put32(h + 30, cfg->dst_ip);
    md_xdp_put16(h + 34, (uint16_t)cfg->src_port);
    md_xdp_put16(h + 36, (uint16_t)cfg->udp_port);
    return 0;
}

/* Frames the kernel finished sending go back on the free list. */
static void md_xdp_reap(md_xdp_t *x)
{
    md_xdp_ring_t *c = &x->comp;
    /* acquire: pairs with the kernel's release store of the producer index after it wrote
     * the entries (AF_XDP ring protocol) */
    uint32_t prod = __atomic_load_n(c->producer, __ATOMIC_ACQUIRE);
    while (c->cached != prod) {
        x->free_frames[x->free_count++] = ((const uint64_t *)c->desc)[c->cached & c->mask];
        c->cached++;
    }
    /* release: the entries are read before their slots go back; pairs with the kernel's
     * acquire load of the consumer index before it writes those slots again */
    __atomic_store_n(c->consumer, c->cached, __ATOMIC_RELEASE);
}

static void md_xdp_kick(md_xdp_t *x)
{
    if (!(__atomic_load_n(x->txr.flags, __ATOMIC_RELAXED) & XDP_RING_NEED_WAKEUP))
        return;
    sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);  /* EAGAIN / EBUSY: the next kick retries */
    x->stats.tx_kicks++;
}

int md_xdp_send(md_xdp_t *x, const uint8_t *payload, uint32_t len)
{
    if (!x || !x->tx)
        return -EINVAL;
    if (len > MD_MAX_PACKET_BYTES)
        return -EMSGSIZE;
    if (x->free_count == 0)
        md_xdp_reap(x);
    if (x->free_count == 0) {       /* every frame still with the kernel: push it along */
        md_xdp_kick(x);
        md_xdp_reap(x);
        if (x->free_count == 0) {
            x->stats.tx_no_frame++;
            return -EAGAIN;
        }
    }
    uint64_t addr = x->free_frames[--x->free_count];
    uint8_t *f = x->umem + addr;
    memcpy(f, x->hdr, MD_XDP_HDR);
    md_xdp_put16(f + 16, (uint16_t)(20 + 8 + len));
    md_xdp_put16(f + 18, x->ip_id++);
    md_xdp_put16(f + 38, (uint16_t)(8 + len));
    md_xdp_put16(f + 24, md_xdp_ip_checksum(f + 14));
    memcpy(f + MD_XDP_HDR, payload, len);
    md_xdp_ring_t *t = &x->txr;
    struct xdp_desc *d = &((struct xdp_desc *)t->desc)[t->cached & t->mask];
    d->addr = addr;
    d->len = MD_XDP_HDR + len;
    d->options = 0;
    t->cached++;
    /* release: the ring entries above are written before the kernel sees the producer index;
     * pairs with the kernel's acquire load of it (AF_XDP ring protocol, if_xdp.h rings) */
    __atomic_store_n(t->producer, t->cached, __ATOMIC_RELEASE);
    x->stats.tx_packets++;
    md_xdp_kick(x);
    md_xdp_reap(x);
    return 0;
}

#endif /* MD_HAVE_XDP */
