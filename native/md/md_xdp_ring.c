/*
 * md_xdp_ring.c - maps one ring of an AF_XDP socket (fill, completion, RX or TX) and points the
 * ring's producer, consumer, flags and descriptors into the mapping. Shared by the receive side
 * (md_xdp.c) and the transmit side (md_xdp_tx.c), in a file of its own so that neither calls
 * the other back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "md_xdp.h"
#include "md_xdp_internal.h"

#ifdef MD_HAVE_XDP

int md_xdp_map_ring(md_xdp_t *x, md_xdp_ring_t *r, const struct xdp_ring_offset *off,
                    uint32_t size, size_t desc_size, off_t pgoff)
{
    r->map_len = off->desc + size * desc_size;
    r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, x->fd, pgoff);
    if (r->map == MAP_FAILED) {
        r->map = NULL;
        return -errno;
    }
    r->producer = (uint32_t *)((char *)r->map + off->producer);
    r->consumer = (uint32_t *)((char *)r->map + off->consumer);
    r->flags = (uint32_t *)((char *)r->map + off->flags);
    r->desc = (char *)r->map + off->desc;
    r->size = size;
    r->mask = size - 1;
    return 0;
}

#endif /* MD_HAVE_XDP */
