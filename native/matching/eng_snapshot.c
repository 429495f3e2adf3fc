/*
 * eng_snapshot.c - the engine's state as a byte image and back (see eng_snapshot.h). The image is
 * the scalar block (eng_snap_scalars_t) followed by the tables in a fixed order; pointers are
 * never written, only what they point to, and the sink and eng_submit's batch buffer are not
 * state. The pools and the order-id index are imaged up to their high-water marks / buckets in
 * use only (the slots above have never been used and are zero), so an image's size follows the
 * live orders, not the capacity; loading makes that much of each pool resident before copying
 * into it.
 *
 * The engine does no I/O and knows no checksum here: it copies its image out to, and in from,
 * the caller's buffers a piece at a time, so a caller streams a snapshot of any size through a
 * small buffer. Files, their checksum and durability belong to native/journal/jrnl_snapfile.c.
 */
#include "eng_snapshot.h"

#include <string.h>

#include "eng_internal.h"

#define ENG_SNAP_PARTS 11

typedef struct eng_snap_part {
    void *ptr;
    uint64_t bytes;
} eng_snap_part_t;

/* The image's parts for the sizes in sc (the engine's own, or those being loaded). */
static void snap_parts(const eng_engine_t *e, eng_snap_scalars_t *sc, eng_snap_part_t *parts)
{
    const eng_config_t *c = &e->cfg;
    parts[0] = (eng_snap_part_t){sc, sizeof *sc};
    parts[1] = (eng_snap_part_t){e->orders, sizeof(eng_order_t) * ((uint64_t)sc->orders_hw + 1)};
    parts[2] = (eng_snap_part_t){e->levels, sizeof(eng_level_t) * ((uint64_t)sc->levels_hw + 1)};
    parts[3] = (eng_snap_part_t){e->instr, sizeof(eng_instr_t) * ((uint64_t)c->max_instruments + 1)};
    parts[4] = (eng_snap_part_t){e->pos, sizeof(eng_pos_t) * (uint64_t)c->max_accounts * c->max_instruments};
    parts[5] = (eng_snap_part_t){e->killed, c->max_accounts};
    parts[6] = (eng_snap_part_t){e->obkt, sizeof(uint32_t) * (sc->obkt_round + sc->obkt_split)};
    parts[7] = (eng_snap_part_t){e->lidx, sizeof(eng_idx_slot_t) * (e->lidx_mask + 1)};
    parts[8] = (eng_snap_part_t){e->heap, sizeof(uint32_t) * ((uint64_t)sc->heap_n + 1)};
    parts[9] = (eng_snap_part_t){e->ext, sizeof(eng_order_ext_t) * ((uint64_t)sc->ext_hw + 1)};
    parts[10] = (eng_snap_part_t){e->velocity, sizeof(eng_velocity_t) * (uint64_t)c->max_accounts};
}

static uint64_t snap_body_bytes(const eng_snap_part_t *parts)
{
    uint64_t n = 0;
    for (int i = 0; i < ENG_SNAP_PARTS; i++) n += parts[i].bytes;
    return n;
}

static void scalars_of(const eng_engine_t *e, eng_snap_scalars_t *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->obkt_round = e->obkt_round;
    sc->obkt_split = e->obkt_split;
    sc->lidx_mask = e->lidx_mask;
    sc->free_order = e->free_order;
    sc->free_level = e->free_level;
    sc->orders_hw = e->orders_hw;
    sc->levels_hw = e->levels_hw;
    sc->orders_live = e->orders_live;
    sc->levels_live = e->levels_live;
    sc->heap_n = e->heap_n;
    sc->oidx_count = e->oidx_count;
    sc->free_ext = e->free_ext;
    sc->ext_hw = e->ext_hw;
    sc->ext_live = e->ext_live;
    sc->now = e->now;
    sc->last_seq = e->last_seq;
    sc->trade_id = e->trade_id;
    sc->stats = e->stats;
}

/* 1 if loaded scalars fit this engine: high-water marks within the capacities, the index
 * geometry one that linear hashing reaches, the level table of the same size. */
static int scalars_fit(const eng_engine_t *e, const eng_snap_scalars_t *sc)
{
    const eng_config_t *c = &e->cfg;
    if (sc->orders_hw > c->max_orders || sc->levels_hw > c->max_levels || sc->lidx_mask != e->lidx_mask)
        return 0;
    if (sc->obkt_round < 16 || (sc->obkt_round & (sc->obkt_round - 1)) || sc->obkt_split >= sc->obkt_round ||
        sc->obkt_round + sc->obkt_split > e->obkt_cap)
        return 0;
    return sc->heap_n <= sc->orders_hw && sc->orders_live <= sc->orders_hw && sc->levels_live <= sc->levels_hw &&
           sc->oidx_count <= sc->orders_live && sc->ext_hw <= c->max_orders && sc->ext_live <= sc->ext_hw &&
           sc->heap_n <= sc->ext_hw;
}

/* The header as this build and e's capacities would write it, sizes and hash left zero. */
static void header_base(const eng_engine_t *e, eng_snap_hdr_t *h)
{
    memset(h, 0, sizeof *h);
    h->magic = ENG_SNAP_MAGIC;
    h->version = ENG_SNAP_VERSION;
    h->hdr_bytes = sizeof *h;
    h->max_orders = e->cfg.max_orders;
    h->max_levels = e->cfg.max_levels;
    h->max_instruments = e->cfg.max_instruments;
    h->max_accounts = e->cfg.max_accounts;
    h->order_bytes = sizeof(eng_order_t);
    h->level_bytes = sizeof(eng_level_t);
    h->instr_bytes = sizeof(eng_instr_t);
    h->ext_bytes = sizeof(eng_order_ext_t);
}

/* See eng_snapshot.h. */
void eng_snapshot_header(const eng_engine_t *e, eng_snap_hdr_t *h)
{
    eng_snap_scalars_t sc;
    eng_snap_part_t parts[ENG_SNAP_PARTS];
    scalars_of(e, &sc);
    snap_parts(e, &sc, parts);
    header_base(e, h);
    h->body_bytes = snap_body_bytes(parts);
    h->last_seq = e->last_seq;
    h->now_ns = e->now;
    h->state_hash = eng_state_hash(e);
}

/* See eng_snapshot.h. */
uint64_t eng_snapshot_copy_out(const eng_engine_t *e, uint64_t off, void *buf, uint64_t len)
{
    eng_snap_scalars_t sc;
    eng_snap_part_t parts[ENG_SNAP_PARTS];
    scalars_of(e, &sc);
    snap_parts(e, &sc, parts);
    uint8_t *dst = (uint8_t *)buf;
    uint64_t base = 0, done = 0;
    for (int i = 0; i < ENG_SNAP_PARTS && done < len; base += parts[i].bytes, i++) {
        if (off + done >= base + parts[i].bytes) continue;
        uint64_t at = off + done - base, k = parts[i].bytes - at;
        if (k > len - done) k = len - done;
        memcpy(dst + done, (const uint8_t *)parts[i].ptr + at, k);
        done += k;
    }
    return done;
}

/* See eng_snapshot.h. */
int eng_snapshot_accepts(const eng_engine_t *e, const eng_snap_hdr_t *h)
{
    if (e->last_seq != 0 || e->stats.commands != 0) return ENG_SNAP_NOT_FRESH;
    eng_snap_hdr_t want;
    header_base(e, &want);
    if (h->magic != want.magic) return ENG_SNAP_BAD_MAGIC;
    if (h->version != want.version || h->hdr_bytes != want.hdr_bytes || h->order_bytes != want.order_bytes ||
        h->level_bytes != want.level_bytes || h->instr_bytes != want.instr_bytes || h->ext_bytes != want.ext_bytes)
        return ENG_SNAP_BAD_VERSION;
    if (h->max_orders != want.max_orders || h->max_levels != want.max_levels ||
        h->max_instruments != want.max_instruments || h->max_accounts != want.max_accounts)
        return ENG_SNAP_BAD_CONFIG;
    return 0;
}

/* See eng_snapshot.h. The scalar block is staged in e->snap_in; once it is whole it is checked
 * and the pools it needs are made resident, and only then are the tables after it copied in. */
int eng_snapshot_copy_in(eng_engine_t *e, uint64_t off, const void *buf, uint64_t len)
{
    eng_snap_part_t parts[ENG_SNAP_PARTS];
    snap_parts(e, &e->snap_in, parts);
    const uint8_t *src = (const uint8_t *)buf;
    uint64_t base = 0, done = 0;
    for (int i = 0; i < ENG_SNAP_PARTS && done < len; base += parts[i].bytes, i++) {
        if (off + done >= base + parts[i].bytes) continue;
        uint64_t at = off + done - base, k = parts[i].bytes - at;
        if (k > len - done) k = len - done;
        memcpy((uint8_t *)parts[i].ptr + at, src + done, k);
        done += k;
        if (i == 0 && at + k == parts[0].bytes) {
            if (!scalars_fit(e, &e->snap_in)) return ENG_SNAP_CORRUPT;
            eng_pools_ensure(e, e->snap_in.orders_hw, e->snap_in.levels_hw, e->snap_in.ext_hw);
            eng_region_touch(&e->mem_obkt, sizeof(uint32_t) * (e->snap_in.obkt_round + e->snap_in.obkt_split));
            snap_parts(e, &e->snap_in, parts);
        }
    }
    return done == len ? 0 : ENG_SNAP_CORRUPT;
}

/* See eng_snapshot.h. */
int eng_snapshot_finish(eng_engine_t *e, const eng_snap_hdr_t *h, uint64_t body_got)
{
    const eng_snap_scalars_t *sc = &e->snap_in;
    eng_snap_part_t parts[ENG_SNAP_PARTS];
    snap_parts(e, &e->snap_in, parts);
    if (body_got != h->body_bytes || body_got < sizeof *sc || snap_body_bytes(parts) != body_got)
        return ENG_SNAP_CORRUPT;
    e->obkt_round = sc->obkt_round;
    e->obkt_split = sc->obkt_split;
    e->free_order = sc->free_order;
    e->free_level = sc->free_level;
    e->orders_hw = sc->orders_hw;
    e->levels_hw = sc->levels_hw;
    e->orders_live = sc->orders_live;
    e->levels_live = sc->levels_live;
    e->heap_n = sc->heap_n;
    e->oidx_count = sc->oidx_count;
    e->free_ext = sc->free_ext;
    e->ext_hw = sc->ext_hw;
    e->ext_live = sc->ext_live;
    e->now = sc->now;
    e->last_seq = sc->last_seq;
    e->trade_id = sc->trade_id;
    e->stats = sc->stats;
    if (eng_state_hash(e) != h->state_hash || eng_check(e) != 0) return ENG_SNAP_CORRUPT;
    return 0;
}
