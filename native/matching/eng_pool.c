/*
 * eng_pool.c - the memory behind the order pool, the order-extension pool, the level pool, the
 * GTD heap and the order-id index buckets: one virtual reservation per table, sized for the
 * configured capacity, of which only a prefix is resident. The extensions and the heap follow the
 * extensions in use (only orders with an iceberg, stop, GTD, STP group or dark peg have one; every
 * GTD order is among them), so plain orders pay for neither.
 *
 * Why: a venue is configured for millions of orders but holds far fewer at any time. Prefaulting
 * the whole capacity (what eng_create used to do) costs RAM in proportion to the capacity and
 * spreads the live orders' hash probes over a table sized for it. Here a pool hands out slots
 * from a high-water mark (and a LIFO free list below it), so the live orders stay packed at the
 * start of their pool, and the resident prefix only has to stay ahead of the high-water mark.
 *
 * How it stays off the order path: eng_create makes ENG_RESIDENT_MIN_ORDERS (or the capacity, if
 * smaller) resident, and eng_prefault_ahead, which callers run when idle (the venue runner when
 * its rings are empty, eng_submit after each batch), extends the prefix to the high-water mark
 * plus a sixteenth of it for orders (a quarter for levels, an eighth for extensions), and at
 * least the minimum beyond it (64 Ki orders, 4 Ki levels, 16 Ki extensions): 64 Ki orders of headroom, or 625 Ki at 10 M, is more than a burst
 * between two idle moments brings, and a smaller margin keeps the bytes per resting order near
 * the records' own size (ENGINE.md "Memory per resting order"). The order path never maps or
 * allocates: a burst that outruns the resident prefix before the next idle moment writes into
 * reserved, untouched pages, and the kernel supplies each new page on first touch (a minor fault,
 * once per page; bench/engine.py counts them on the order path and in eng_prefault_ahead). Pages
 * are ordinary 4 KiB ones: a transparent huge page would be zeroed 2 MiB at a time, a stall of the
 * order path the small pages never cause.
 */
#include <errno.h>
#include <sys/mman.h>

#include "eng_internal.h"

#define ENG_PAGE 4096u
#define ENG_RESIDENT_MIN_ORDERS 65536u
#define ENG_RESIDENT_MIN_LEVELS 4096u
#define ENG_RESIDENT_MIN_EXTS 16384u

/* Reserves `bytes` of address space, no RAM. 0 or -ENOMEM. */
int eng_region_reserve(eng_region_t *r, uint64_t bytes)
{
    uint64_t len = (bytes + ENG_PAGE - 1) / ENG_PAGE * ENG_PAGE;
    if (len == 0) len = ENG_PAGE;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return -ENOMEM;
#ifdef MADV_NOHUGEPAGE
    madvise(p, len, MADV_NOHUGEPAGE); /* advice only: 4 KiB pages even where THP is "always" */
#endif
    r->base = p;
    r->reserved = len;
    r->resident = 0;
    return 0;
}

/* Makes the first `bytes` (clamped to the reservation) resident by writing each new page once.
 * A page past `resident` may already hold data (a burst on the order path outran the prefix and
 * the kernel supplied it on first touch), so each byte is written back with the value it holds. */
void eng_region_touch(eng_region_t *r, uint64_t bytes)
{
    if (bytes > r->reserved) bytes = r->reserved;
    uint64_t end = (bytes + ENG_PAGE - 1) / ENG_PAGE * ENG_PAGE;
    if (end > r->reserved) end = r->reserved;
    volatile uint8_t *b = r->base;
    for (uint64_t off = r->resident; off < end; off += ENG_PAGE) b[off] = b[off];
    if (end > r->resident) r->resident = end;
}

void eng_region_release(eng_region_t *r)
{
    if (r->base) munmap(r->base, r->reserved);
    r->base = NULL;
    r->reserved = r->resident = 0;
}

/* Reserves the five growable tables for the configured capacities. 0 or -ENOMEM (the caller
 * releases whatever was reserved). */
int eng_pools_reserve(eng_engine_t *e)
{
    const eng_config_t *c = &e->cfg;
    uint64_t buckets = 16;
    while (buckets < c->max_orders) buckets <<= 1;  /* load factor <= 1 at full capacity */
    e->obkt_cap = buckets;
    if (eng_region_reserve(&e->mem_orders, sizeof(eng_order_t) * ((uint64_t)c->max_orders + 1)) ||
        eng_region_reserve(&e->mem_levels, sizeof(eng_level_t) * ((uint64_t)c->max_levels + 1)) ||
        eng_region_reserve(&e->mem_heap, sizeof(uint32_t) * ((uint64_t)c->max_orders + 1)) ||
        eng_region_reserve(&e->mem_ext, sizeof(eng_order_ext_t) * ((uint64_t)c->max_orders + 1)) ||
        eng_region_reserve(&e->mem_obkt, sizeof(uint32_t) * buckets))
        return -ENOMEM;
    e->orders = (eng_order_t *)e->mem_orders.base;
    e->levels = (eng_level_t *)e->mem_levels.base;
    e->heap = (uint32_t *)e->mem_heap.base;
    e->ext = (eng_order_ext_t *)e->mem_ext.base;
    e->obkt = (uint32_t *)e->mem_obkt.base;
    e->obkt_round = 16;
    e->obkt_split = 0;
    return 0;
}

void eng_pools_release(eng_engine_t *e)
{
    eng_region_release(&e->mem_orders);
    eng_region_release(&e->mem_levels);
    eng_region_release(&e->mem_heap);
    eng_region_release(&e->mem_ext);
    eng_region_release(&e->mem_obkt);
}

static uint64_t pools_resident(const eng_engine_t *e)
{
    return e->mem_orders.resident + e->mem_levels.resident + e->mem_heap.resident + e->mem_obkt.resident +
           e->mem_ext.resident;
}

/* Makes slots 0..orders of the order pool (and the index buckets that many orders can use),
 * slots 0..levels of the level pool and slots 0..exts of the extension pool (and of the GTD heap,
 * whose members all have an extension) resident. Returns the bytes newly made resident. */
uint64_t eng_pools_ensure(eng_engine_t *e, uint64_t orders, uint64_t levels, uint64_t exts)
{
    uint64_t before = pools_resident(e);
    eng_region_touch(&e->mem_orders, sizeof(eng_order_t) * (orders + 1));
    /* buckets in use never exceed the indexed orders (a split needs more orders than buckets) */
    eng_region_touch(&e->mem_obkt, sizeof(uint32_t) * (orders + 32));
    eng_region_touch(&e->mem_levels, sizeof(eng_level_t) * (levels + 1));
    eng_region_touch(&e->mem_ext, sizeof(eng_order_ext_t) * (exts + 1));
    eng_region_touch(&e->mem_heap, sizeof(uint32_t) * (exts + 1));
    return pools_resident(e) - before;
}

/* Every pool's resident bytes together (the stats' memory_bytes adds the fixed tables). */
uint64_t eng_pools_resident_bytes(const eng_engine_t *e) { return pools_resident(e); }

/* Slots a pool should have resident for high-water mark hw: hw plus hw >> shift, and never less
 * than `min` slots of headroom, at most the capacity. */
static uint64_t resident_target(uint64_t hw, unsigned shift, uint64_t min, uint64_t cap)
{
    uint64_t t = hw + ((hw >> shift) > min ? hw >> shift : min);
    return t < cap ? t : cap;
}

/* See eng_engine.h. */
uint64_t eng_prefault_ahead(eng_engine_t *e)
{
    uint64_t want_o = resident_target(e->orders_hw, 4, ENG_RESIDENT_MIN_ORDERS, e->cfg.max_orders);
    uint64_t want_l = resident_target(e->levels_hw, 2, ENG_RESIDENT_MIN_LEVELS, e->cfg.max_levels);
    uint64_t want_x = resident_target(e->ext_hw, 3, ENG_RESIDENT_MIN_EXTS, e->cfg.max_orders);
    /* cheap test first: nothing to do while every prefix is at least at its target */
    if (e->mem_orders.resident >= sizeof(eng_order_t) * (want_o + 1) &&
        e->mem_levels.resident >= sizeof(eng_level_t) * (want_l + 1) &&
        e->mem_ext.resident >= sizeof(eng_order_ext_t) * (want_x + 1))
        return 0;
    return eng_pools_ensure(e, want_o, want_l, want_x);
}
