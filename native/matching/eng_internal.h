/*
 * eng_internal.h - the engine's private state, shared by the eng_*.c files and no one else.
 *
 * Owns the shapes of orders, price levels, instruments, account positions and the two hash
 * indexes, plus the few inline helpers every concern needs (event emission, lookups). Pools are
 * arrays whose slot 0 is the NIL sentinel, so links are uint32 indexes and 0 means "none".
 * Storage grows with the live orders, not with the configured capacity: each pool is a virtual
 * reservation for its capacity (eng_pool.c) handed out from a high-water mark and a LIFO free
 * list, of which only a prefaulted prefix is resident (the order extensions and the GTD heap
 * follow the extensions in use, not the orders); eng_prefault_ahead keeps that prefix ahead
 * of the high-water mark off the order path. The order-id index is a linear-hashing table whose
 * bucket count follows the indexed orders (eng_index.c), so for a given live set it is the same
 * size at any capacity.
 * Invariants (verified by eng_check): extension slot 0 stays all zeros; a resting order is in exactly one level queue and in the
 * order-id index; a waiting stop is in its instrument's stop list and in the index; a level's
 * qty/count equal the shown quantities/number of its orders; levels of a side form a list sorted
 * best first whose head is the instrument's best pointer; every slot below a pool's high-water mark
 * is live or on its free list.
 */
#ifndef ENG_INTERNAL_H
#define ENG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "eng_engine.h"

#define ENG_NIL 0u

/* DARK: a midpoint-peg order waiting in its dark instrument's queue (eng_midpoint.c): in no level,
 * never displayed, all of its leaves in shown_qty; display_qty holds its minimum acceptable qty. */
enum { ENG_OST_FREE = 0, ENG_OST_ACTIVE = 1, ENG_OST_RESTING = 2, ENG_OST_STOP = 3, ENG_OST_DARK = 4 };

/* An order is a 56-byte record holding what every order needs, plus an extension record
 * (eng_order_ext_t, a pool of its own) only for an order that uses a rarely-used feature: an
 * iceberg, a stop, GTD, an STP group, a dark midpoint peg, or an accept seq above 2^40. A plain
 * resting order costs its 56 bytes and the 4 of its order-id bucket: native/ENGINE.md "Memory per
 * resting order" has the tables and the count.
 * Where an order's price and instrument live depends on its state (eng_order_price,
 * eng_order_instrument): a RESTING order's are its level's (the level's price, instrument and
 * side are the key it was filed under); an ACTIVE order (in no list) keeps them in the union with
 * its list links; a STOP or DARK order, whose links are in use, in its extension.
 * Field order: what matching and cancel touch first (links, level, index chain, account, ids,
 * shown quantity, the packed kind bits). */
typedef struct eng_order {
    union {
        struct {
            uint32_t next, prev;    /* level queue (RESTING), stop list (STOP), dark queue (DARK), free list (FREE) */
        };
        int64_t act_price;          /* ACTIVE only: its limit price, 0 for a market order */
    };
    union {
        uint32_t level;             /* RESTING: its level slot; STOP, DARK, FREE: ENG_NIL */
        uint32_t act_instrument;    /* ACTIVE only: its instrument */
    };
    uint32_t hnext;                 /* next order in its order-id index chain (eng_index.c) */
    uint32_t account_id;
    uint32_t ext;                   /* extension slot, ENG_NIL if none (then every extension field reads 0) */
    uint64_t order_id;
    uint64_t client_order_id;
    int64_t shown_qty;              /* displayed; while aggressing or waiting: all leaves */
    uint64_t seq40 : 40;            /* accept_seq when it is below 2^40, else 0 (then ext->accept_seq) */
    uint64_t side : 2, ord_type : 3, tif : 3, stp_mode : 3, flags : 3, state : 3;
} eng_order_t;
_Static_assert(sizeof(eng_order_t) == 56, "an order record is 56 bytes (ENGINE.md, memory per resting order)");

#define ENG_SEQ40_LIMIT (1ull << 40)

/* The fields only some orders use. Slot 0 of the pool is all zeros and never written, so an order
 * without an extension (ext == ENG_NIL) reads 0 for each of them through eng_ext(). */
typedef struct eng_order_ext {
    int64_t price;              /* STOP, DARK: the order's limit price (0: none) */
    int64_t reserve_qty;        /* iceberg hidden reserve */
    int64_t display_qty;        /* configured iceberg peak; DARK: its minimum acceptable quantity */
    int64_t stop_price;
    int64_t expire_ts_ns;
    uint64_t accept_seq;        /* when it does not fit the order's 40 bits */
    uint32_t stp_group;
    uint32_t heap_pos;          /* 1-based slot in the GTD heap, 0 when not in it */
    uint32_t instrument_id;     /* STOP, DARK */
    uint32_t next_free;         /* free list */
} eng_order_ext_t;

typedef struct eng_level {
    int64_t price;
    int64_t qty;                /* sum of shown_qty of its orders */
    uint32_t count;
    uint32_t head, tail;        /* order queue, front = oldest priority */
    uint32_t better, worse;     /* neighbours in the side's sorted list; free list uses worse */
    uint32_t instrument_id;
    uint8_t side;
    uint8_t _pad[7];
} eng_level_t;

typedef struct eng_instr {
    uint8_t exists, phase, has_last;
    uint8_t dark;               /* venue mode ENG_MODE_DARK_MIDPOINT: no levels, no stops, dark queues */
    uint32_t id;
    int64_t tick, lot, ref_price, mkt_collar_ticks;
    int64_t max_qty, max_notional, collar_ticks;
    int64_t last_price;
    uint32_t best[3], worst[3]; /* indexed by side (1 buy, 2 sell) */
    uint32_t stop_head, stop_tail, nstops;
    /* Bounds on the waiting stops' prices, valid while nstops > 0: no buy stop is below
     * stop_buy_min and no sell stop above stop_sell_max. Conservative after a removal (never
     * widened back), made exact by any full scan of the list; they let eng_stops_trigger answer
     * "nothing can trigger" in O(1) instead of walking every waiting stop after each trade. */
    int64_t stop_buy_min, stop_sell_max;
    /* The reference NBBO (ENG_CMD_NBBO), held by every instrument, traded on only by dark ones. */
    int64_t nbbo_bid, nbbo_ask, nbbo_bid_qty, nbbo_ask_qty, nbbo_ts, nbbo_max_age;
    uint8_t has_nbbo;
    uint8_t protect_mode;       /* eng_protect_mode_t (ENG_CMD_SET_ORDER_PROTECTION), lit only */
    uint8_t _pad2[2];
    /* Rule 612 grid (ENG_CMD_SET_ORDER_PROTECTION): prices >= sub_penny_from must be multiples of
     * sub_penny_inc; 0, 0: no Rule 612 check (eng_sub_penny) */
    int64_t sub_penny_from, sub_penny_inc;
    /* Dark instruments: each side's midpoint-peg orders in time priority (front = oldest), linked
     * through the orders' next/prev like the stop list. */
    uint32_t dark_head[3], dark_tail[3], ndark;
} eng_instr_t;

typedef struct eng_pos {
    int64_t position, open_buy, open_sell, max_position;
} eng_pos_t;

/* One account's order-velocity limit (SET_ORDER_VELOCITY), a token bucket in exact integers:
 * credit counts tokens x window_ns, so a counted command costs window_ns and each nanosecond of
 * engine time gives back max_orders, up to max_orders x window_ns (a full bucket). Invariants:
 * window_ns == 0 (no limit) exactly when max_orders == 0, and then credit and last_ts are 0;
 * otherwise 0 <= credit <= max_orders x window_ns and last_ts <= engine time. */
typedef struct eng_velocity {
    __int128 credit;            /* at last_ts, after the last counted command */
    int64_t window_ns;
    int64_t last_ts;            /* engine time of the last counted command, or of the SET */
    uint32_t max_orders;
    uint32_t _pad[3];
} eng_velocity_t;

/* Level-index slots are 8 bytes: the low 32 bits of the key's hash (which also give its home
 * slot, tables being at most 2^31 slots) and the pool slot. The full key is compared in the pool
 * entry, which the caller touches next anyway, so a probe costs one cache line of table. */
typedef struct eng_idx_slot { uint32_t hash; uint32_t idx; } eng_idx_slot_t;

/* A virtual reservation of `reserved` bytes of which the first `resident` are prefaulted
 * (eng_pool.c). Memory past `resident` is mapped but untouched: it costs no RAM until written. */
typedef struct eng_region {
    uint8_t *base;
    uint64_t reserved;
    uint64_t resident;
} eng_region_t;

/* The scalar block that opens a snapshot image (eng_snapshot.c): the engine fields that are not
 * tables. A load stages it in eng_engine.snap_in until the image is whole. */
typedef struct eng_snap_scalars {
    uint64_t obkt_round, obkt_split, lidx_mask;
    uint32_t free_order, free_level;
    uint32_t orders_hw, levels_hw;
    uint32_t orders_live, levels_live, heap_n, oidx_count;
    uint32_t free_ext, ext_hw, ext_live, _pad;
    int64_t now;
    uint64_t last_seq;
    uint64_t trade_id;
    eng_stats_t stats;
} eng_snap_scalars_t;

struct eng_engine {
    eng_config_t cfg;
    eng_order_t *orders;        /* [max_orders + 1], region mem_orders */
    eng_order_ext_t *ext;       /* [max_orders + 1], region mem_ext: extensions, slot 0 the zero record */
    eng_level_t *levels;        /* [max_levels + 1], region mem_levels */
    eng_instr_t *instr;         /* [max_instruments + 1] */
    eng_pos_t *pos;             /* [max_accounts * max_instruments] */
    uint8_t *killed;            /* [max_accounts] */
    eng_velocity_t *velocity;   /* [max_accounts] */
    uint32_t *obkt;             /* order-id index buckets: chain heads, 0 = empty; region mem_obkt */
    eng_idx_slot_t *lidx;       /* (instrument, side, price) -> level slot */
    uint32_t *heap;             /* GTD min-heap of order slots, 1-based; region mem_heap */
    eng_region_t mem_orders, mem_levels, mem_obkt, mem_heap, mem_ext;
    /* Order-id index (linear hashing): buckets in use = obkt_round + obkt_split; a hash h lives in
     * bucket h & (obkt_round - 1), or h & (2 * obkt_round - 1) when that is below obkt_split. */
    uint64_t obkt_round, obkt_split, obkt_cap;
    uint64_t lidx_mask;
    uint32_t free_order, free_level;   /* LIFO free lists below the high-water marks */
    uint32_t orders_hw, levels_hw;     /* slots 1..hw have been handed out at least once */
    uint32_t orders_live, levels_live, heap_n;
    uint32_t oidx_count;               /* orders in the order-id index */
    uint32_t free_ext, ext_hw, ext_live; /* extension pool: LIFO free list, high-water mark, in use */
    int64_t now;
    uint64_t last_seq;
    uint64_t trade_id;
    /* the command being processed */
    uint64_t cur_seq;
    int64_t cur_ts;
    eng_sink_t *sink;
    /* batch buffer of eng_submit */
    eng_evt_t *evbuf;
    size_t evlen, evcap;
    int ev_oom;
    eng_stats_t stats;
    uint64_t memory_bytes;
    eng_snap_scalars_t snap_in;        /* a snapshot load's scalars until eng_snapshot_finish */
};

/* ---- event emission: one zeroed record with the current command's seq and ts ---------------- */
static inline eng_evt_t *eng_evt_new(eng_engine_t *e, uint16_t type, uint16_t reason, uint32_t instrument_id)
{
    eng_sink_t *s = e->sink;
    if (s->len == s->cap) s->flush(s);
    eng_evt_t *ev = &s->buf[s->len++];
    /* six 16-byte stores: memset here compiles to `rep stos`, whose start-up cost dominated
     * the emission of small events */
    typedef uint64_t eng_zero16_t __attribute__((vector_size(16), aligned(8), may_alias));
    eng_zero16_t *z = (eng_zero16_t *)ev, zero = {0, 0};
    z[0] = zero; z[1] = zero; z[2] = zero; z[3] = zero; z[4] = zero; z[5] = zero;
    ev->hdr.type = type;
    ev->hdr.reason = reason;
    ev->hdr.instrument_id = instrument_id;
    ev->hdr.seq = e->cur_seq;
    ev->hdr.ts_ns = e->cur_ts;
    e->stats.events++;
    return ev;
}

static inline eng_instr_t *eng_instr_get(eng_engine_t *e, uint32_t id)
{
    if (id == 0 || id > e->cfg.max_instruments || !e->instr[id].exists) return NULL;
    return &e->instr[id];
}

static inline eng_pos_t *eng_pos_get(const eng_engine_t *e, uint32_t account, uint32_t instrument_id)
{
    return &e->pos[(uint64_t)account * e->cfg.max_instruments + (instrument_id - 1)];
}

/* ---- an order's fields wherever they live (see eng_order_t) ---------------------------------- */
static inline eng_order_ext_t *eng_ext(const eng_engine_t *e, const eng_order_t *o) { return &e->ext[o->ext]; }

static inline int64_t eng_order_price(const eng_engine_t *e, const eng_order_t *o)
{
    if (o->state == ENG_OST_RESTING) return e->levels[o->level].price;
    if (o->state == ENG_OST_ACTIVE) return o->act_price;
    return e->ext[o->ext].price;
}

static inline uint32_t eng_order_instrument(const eng_engine_t *e, const eng_order_t *o)
{
    if (o->state == ENG_OST_RESTING) return e->levels[o->level].instrument_id;
    if (o->state == ENG_OST_ACTIVE) return o->act_instrument;
    return e->ext[o->ext].instrument_id;
}

static inline uint64_t eng_order_accept_seq(const eng_engine_t *e, const eng_order_t *o)
{
    return o->seq40 ? o->seq40 : e->ext[o->ext].accept_seq;
}

/* Only an iceberg has a reserve, so a plain order's leaves never read its (absent) extension. */
static inline int64_t eng_leaves(const eng_engine_t *e, const eng_order_t *o)
{
    return o->shown_qty + ((o->flags & ENG_FLAG_ICEBERG) ? e->ext[o->ext].reserve_qty : 0);
}

static inline void eng_open_add(eng_engine_t *e, const eng_order_t *o, int64_t delta)
{
    eng_pos_t *p = eng_pos_get(e, o->account_id, eng_order_instrument(e, o));
    if (o->side == ENG_SIDE_BUY) p->open_buy += delta; else p->open_sell += delta;
}

static inline uint64_t eng_hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static inline uint32_t eng_oid_hash(uint64_t order_id) { return (uint32_t)eng_hash64(order_id); }

/* The order-id index bucket of a hash (linear hashing: split buckets use one more bit). */
static inline uint64_t eng_obkt_of(const eng_engine_t *e, uint32_t h)
{
    uint64_t b = h & (e->obkt_round - 1);
    return b < e->obkt_split ? h & (2 * e->obkt_round - 1) : b;
}

/* eng_pool.c: lazily resident reservations behind the pools and the order-id index */
int eng_region_reserve(eng_region_t *r, uint64_t bytes);
void eng_region_touch(eng_region_t *r, uint64_t bytes);
void eng_region_release(eng_region_t *r);
int eng_pools_reserve(eng_engine_t *e);
void eng_pools_release(eng_engine_t *e);
uint64_t eng_pools_ensure(eng_engine_t *e, uint64_t orders, uint64_t levels, uint64_t exts);
uint64_t eng_pools_resident_bytes(const eng_engine_t *e);

/* eng_index.c: order-id index and (instrument, side, price) -> level index */
uint32_t eng_oidx_find(const eng_engine_t *e, uint64_t order_id);
void eng_oidx_insert(eng_engine_t *e, uint64_t order_id, uint32_t idx);
void eng_oidx_erase(eng_engine_t *e, uint64_t order_id);
uint32_t eng_lidx_find(const eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price);
void eng_lidx_insert(eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price, uint32_t idx);
void eng_lidx_erase(eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price);

/* eng_book.c: pools, levels and queues */
uint32_t eng_order_alloc(eng_engine_t *e);
static inline int eng_order_available(const eng_engine_t *e)
{
    return e->free_order != ENG_NIL || e->orders_hw < e->cfg.max_orders;
}
static inline int eng_level_available(const eng_engine_t *e)
{
    return e->free_level != ENG_NIL || e->levels_hw < e->cfg.max_levels;
}
void eng_order_free(eng_engine_t *e, uint32_t oi);
eng_order_ext_t *eng_ext_attach(eng_engine_t *e, eng_order_t *o);
int eng_book_rest(eng_engine_t *e, eng_instr_t *ins, uint32_t oi);
uint32_t eng_book_unlink(eng_engine_t *e, eng_instr_t *ins, uint32_t oi);
void eng_book_to_back(eng_engine_t *e, uint32_t oi);
void eng_book_level_event(eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price, uint32_t li);
void eng_order_remove(eng_engine_t *e, uint32_t oi, uint16_t evt_type, uint16_t reason);
uint32_t eng_order_filled(eng_engine_t *e, eng_instr_t *ins, uint32_t oi);
void eng_order_rest(eng_engine_t *e, eng_instr_t *ins, uint32_t oi);
void eng_active_cancel(eng_engine_t *e, uint32_t oi, uint16_t reason);
int eng_book_can_rest(const eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price);

/* eng_match.c */
int eng_match(eng_engine_t *e, eng_instr_t *ins, uint32_t oi, int64_t bound);
int eng_fok_fillable(const eng_engine_t *e, const eng_instr_t *ins, const eng_order_t *o, int64_t bound);
void eng_trade(eng_engine_t *e, eng_instr_t *ins, eng_order_t *buy, eng_order_t *sell, int64_t price,
               int64_t qty, uint8_t aggressor_side);
void eng_run_order(eng_engine_t *e, eng_instr_t *ins, uint32_t oi);

/* eng_orders.c */
void eng_cmd_new_order(eng_engine_t *e, const eng_new_order_t *c);
void eng_cmd_cancel(eng_engine_t *e, const eng_cancel_t *c);
void eng_cmd_replace(eng_engine_t *e, const eng_replace_t *c);
void eng_cmd_mass_cancel(eng_engine_t *e, const eng_mass_cancel_t *c);
void eng_cmd_end_of_day(eng_engine_t *e, const eng_end_of_day_t *c);
void eng_reject(eng_engine_t *e, const eng_cmd_t *c, uint16_t reason);
void eng_cmd_ack(eng_engine_t *e, uint32_t instrument_id, uint16_t cmd_type, uint32_t affected);
uint32_t eng_cmd_instrument(const eng_cmd_t *c);
uint32_t eng_sweep(eng_engine_t *e, uint32_t instrument_id, int by_account, uint32_t account, int day_only,
                   uint16_t evt_type, uint16_t reason);

/* eng_external.c: order flow from outside (replayed days): EXECUTE, REDUCE, SEED_LEVEL */
void eng_cmd_execute(eng_engine_t *e, const eng_execute_t *c);
void eng_cmd_reduce(eng_engine_t *e, const eng_reduce_t *c);
void eng_cmd_seed_level(eng_engine_t *e, const eng_seed_level_t *c);

/* eng_stop_list.c: each instrument's waiting stops in acceptance order */
void eng_stops_append(eng_engine_t *e, eng_instr_t *ins, uint32_t oi);
void eng_stops_unlink(eng_engine_t *e, eng_instr_t *ins, uint32_t oi);

/* eng_stops.c */
void eng_stops_trigger(eng_engine_t *e, eng_instr_t *ins);

/* eng_auction.c */
void eng_cmd_set_phase(eng_engine_t *e, const eng_set_phase_t *c);

/* eng_risk.c */
uint16_t eng_risk_check(const eng_engine_t *e, const eng_instr_t *ins, uint32_t account, uint8_t side,
                        uint8_t ord_type, int64_t price, int64_t qty, int64_t old_leaves);
void eng_velocity_count(eng_engine_t *e, uint32_t account);

/* eng_admin.c */
void eng_cmd_add_instrument(eng_engine_t *e, const eng_add_instrument_t *c);
void eng_cmd_set_instrument_risk(eng_engine_t *e, const eng_set_instrument_risk_t *c);
void eng_cmd_set_account_limit(eng_engine_t *e, const eng_set_account_limit_t *c);
void eng_cmd_set_kill_switch(eng_engine_t *e, const eng_set_kill_switch_t *c);
void eng_cmd_set_post_trade_limit(eng_engine_t *e, const eng_set_post_trade_limit_t *c);
void eng_cmd_set_order_velocity(eng_engine_t *e, const eng_set_order_velocity_t *c);

/* eng_midpoint.c: dark midpoint instruments (ENGINE.md "Dark midpoint instruments") */
uint16_t eng_dark_quote_state(const eng_engine_t *e, const eng_instr_t *ins, int64_t *mid);
void eng_dark_run_order(eng_engine_t *e, eng_instr_t *ins, uint32_t oi);
void eng_dark_cross(eng_engine_t *e, eng_instr_t *ins, uint32_t arrival);
void eng_dark_replace(eng_engine_t *e, eng_instr_t *ins, uint32_t oi, int64_t limit, int64_t qty);

/* eng_dark_queue.c: each dark instrument's queues of midpoint pegs, time priority */
void eng_dark_append(eng_engine_t *e, eng_instr_t *ins, uint32_t oi);
void eng_dark_unlink(eng_engine_t *e, eng_instr_t *ins, uint32_t oi);

/* Rule 612: 1 when price is in the band the instrument's Reg NMS grid covers and off that grid
 * (a sub-penny price at or above $1.00); then ENG_REJ_REGNMS_SUB_PENNY, not ENG_REJ_OFF_TICK. */
static inline int eng_sub_penny(const eng_instr_t *ins, int64_t price)
{
    return ins->sub_penny_inc > 0 && price >= ins->sub_penny_from && price % ins->sub_penny_inc != 0;
}

/* eng_protect_cmd.c, eng_protect.c: Rule 611 order protection on lit instruments (ENGINE.md
 * "Order protection") */
void eng_cmd_set_order_protection(eng_engine_t *e, const eng_set_order_protection_t *c);
int eng_protect_price(const eng_instr_t *ins, uint8_t side, uint8_t flags, int64_t *p);
int64_t eng_protect_bound(const eng_instr_t *ins, uint8_t side, uint8_t flags, int64_t bound);
uint16_t eng_protect_rest(const eng_engine_t *e, const eng_instr_t *ins, const eng_order_t *o, int64_t bound);
uint16_t eng_protect_entry(const eng_engine_t *e, const eng_instr_t *ins, const eng_new_order_t *c);

/* eng_nbbo.c */
void eng_cmd_nbbo(eng_engine_t *e, const eng_nbbo_t *c);

/* eng_gtd.c: GTD heap ordered by (expire_ts_ns, accept_seq) */
void eng_gtd_push(eng_engine_t *e, uint32_t oi);
void eng_gtd_erase(eng_engine_t *e, uint32_t oi);

/* eng_expiry.c */
void eng_gtd_expire(eng_engine_t *e);

#endif /* ENG_INTERNAL_H */
