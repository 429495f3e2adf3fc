/*
 * md_xdp_internal.h - the AF_XDP transport's private state, shared by its receive side
 * (md_xdp.c) and its transmit side (md_xdp_tx.c). Not seen by cffi.
 */
#ifndef MD_XDP_INTERNAL_H
#define MD_XDP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "md_xdp.h"

#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/if_xdp.h>)
#include <linux/if_xdp.h>
#endif
#endif
/* The need-wakeup rings came with Linux 5.4's header; an older one builds the stubs. */
#if defined(XDP_USE_NEED_WAKEUP) && defined(XDP_RING_NEED_WAKEUP)
#define MD_HAVE_XDP 1
#endif

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define MD_XDP_FRAME 2048u
#define MD_XDP_HDR (14u + 20u + 8u)  /* Ethernet, IPv4 without options, UDP */

#ifdef MD_HAVE_XDP
typedef struct md_xdp_ring {
    uint32_t *producer, *consumer, *flags;
    void *desc;
    uint32_t mask, size;
    uint32_t cached;                /* our own index (consumer of RX, producer of fill) */
    void *map;
    size_t map_len;
} md_xdp_ring_t;

struct md_xdp {
    int fd, map_fd, prog_fd, link_fd;
    uint16_t port;
    uint8_t *umem;
    size_t umem_len;
    md_xdp_ring_t rx, fill, comp;
    uint64_t held;                  /* UMEM address of the frame of the last peek */
    int holding;
    md_xdp_stats_t stats;
    /* transmit socket (md_xdp_tx.c) */
    int tx;
    md_xdp_ring_t txr;
    uint64_t *free_frames;          /* UMEM addresses the kernel is done with */
    uint32_t free_count;
    uint16_t ip_id;
    uint8_t hdr[MD_XDP_HDR];        /* the headers of every frame, lengths and checksum aside */
};

/* md_xdp_tx.c: TX ring, free frames and the header template. 0 or -errno with why. */
int md_xdp_tx_setup(md_xdp_t *x, const md_xdp_cfg_t *cfg, const struct xdp_mmap_offsets *off,
                    char *why, uint32_t cap);
/* md_xdp_ring.c: maps one ring of the socket. 0 or -errno. */
int md_xdp_map_ring(md_xdp_t *x, md_xdp_ring_t *r, const struct xdp_ring_offset *off,
                    uint32_t size, size_t desc_size, off_t pgoff);


#endif /* MD_HAVE_XDP */

#endif /* MD_XDP_INTERNAL_H */
