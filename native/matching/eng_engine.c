/*
 * eng_engine.c - engine lifecycle, the per-command pipeline (sequence, clock, GTD expiry,
 * dispatch), the batch API and statistics.
 *
 * eng_create reserves every pool for its capacity and prefaults a first prefix of it (eng_pool.c);
 * eng_prefault_ahead, run when idle, keeps the resident prefix ahead of the live orders. The order
 * path itself makes no allocation, lock or system call. Only eng_submit's event buffer may grow,
 * and it is an in-process convenience outside the venue's ring path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eng_internal.h"
#include "eng_perf.h"

#define ENG_MAX_POOL (1u << 30)
#define ENG_MAX_INSTRUMENTS (1u << 20)
#define ENG_MAX_POS_SLOTS (1ull << 28)

static void *prefaulted(size_t bytes, uint64_t *total)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64)) return NULL;
    memset(p, 0, bytes); /* writes every page now, so none faults on the order path */
    *total += bytes;
    return p;
}

static uint64_t pow2_at_least(uint64_t n)
{
    uint64_t p = 16;
    while (p < n) p <<= 1;
    return p;
}

/* Allocates the fixed tables, reserves the pools and prefaults their first prefix. Returns 0
 * and sets *out, or -EINVAL (a zero or too-large capacity: pools are limited to 2^30 slots,
 * instruments to 2^20, accounts x instruments to 2^28 position slots) or -ENOMEM; *out is
 * untouched on failure. */
int eng_create(const eng_config_t *config, eng_engine_t **out)
{
    if (!config || !out) return -EINVAL;
    const eng_config_t c = *config;
    if (!c.max_orders || !c.max_levels || !c.max_instruments || !c.max_accounts) return -EINVAL;
    if (c.max_orders > ENG_MAX_POOL || c.max_levels > ENG_MAX_POOL || c.max_instruments > ENG_MAX_INSTRUMENTS ||
        (uint64_t)c.max_accounts * c.max_instruments > ENG_MAX_POS_SLOTS)
        return -EINVAL;
    eng_engine_t *e = calloc(1, sizeof(*e));
    if (!e) return -ENOMEM;
    uint64_t total = sizeof(*e);
    e->cfg = c;
    uint64_t lcap = pow2_at_least(2ull * c.max_levels);
    e->instr = prefaulted(sizeof(eng_instr_t) * ((size_t)c.max_instruments + 1), &total);
    e->pos = prefaulted(sizeof(eng_pos_t) * (size_t)c.max_accounts * c.max_instruments, &total);
    e->killed = prefaulted(c.max_accounts, &total);
    e->velocity = prefaulted(sizeof(eng_velocity_t) * c.max_accounts, &total);
    e->lidx = prefaulted(sizeof(eng_idx_slot_t) * lcap, &total);
    if (!e->instr || !e->pos || !e->killed || !e->velocity || !e->lidx || eng_pools_reserve(e)) {
        eng_destroy(e);
        return -ENOMEM;
    }
    e->lidx_mask = lcap - 1;
    /* the pools start empty: slots come from the high-water marks, so nothing is linked here */
    e->free_order = e->free_level = ENG_NIL;
    eng_prefault_ahead(e);
    for (uint64_t i = 0; i < (uint64_t)c.max_accounts * c.max_instruments; i++) e->pos[i].max_position = INT64_MAX;
    e->memory_bytes = total;
    *out = e;
    return 0;
}

/* Frees everything eng_create allocated (and eng_submit's buffer). eng may be NULL. */
void eng_destroy(eng_engine_t *eng)
{
    if (!eng) return;
    eng_pools_release(eng);
    free(eng->instr);
    free(eng->pos);
    free(eng->killed);
    free(eng->velocity);
    free(eng->lidx);
    free(eng->evbuf);
    free(eng);
}

/* Processes one command (ENGINE.md "Processing one command") and appends its events to sink.
 * Never fails: bad input becomes a REJECTED event. */
void eng_process(eng_engine_t *e, const eng_cmd_t *cmd, eng_sink_t *sink)
{
    e->sink = sink;
    e->stats.commands++;
    e->cur_seq = cmd->hdr.seq;
    e->cur_ts = cmd->hdr.ts_ns;
    if (cmd->hdr.seq <= e->last_seq) { /* last_seq starts at 0: seq 0 is never valid */
        eng_reject(e, cmd, ENG_REJ_BAD_SEQUENCE);
        return;
    }
    e->last_seq = cmd->hdr.seq;
    if (cmd->hdr.ts_ns > e->now) e->now = cmd->hdr.ts_ns;
    if (e->heap_n && eng_ext(e, &e->orders[e->heap[1]])->expire_ts_ns <= e->now) eng_gtd_expire(e);
    switch (cmd->hdr.type) {
    case ENG_CMD_NEW_ORDER: eng_cmd_new_order(e, &cmd->new_order); break;
    case ENG_CMD_CANCEL: eng_cmd_cancel(e, &cmd->cancel); break;
    case ENG_CMD_REPLACE: eng_cmd_replace(e, &cmd->replace); break;
    case ENG_CMD_MASS_CANCEL: eng_cmd_mass_cancel(e, &cmd->mass_cancel); break;
    case ENG_CMD_SET_PHASE: eng_cmd_set_phase(e, &cmd->set_phase); break;
    case ENG_CMD_END_OF_DAY: eng_cmd_end_of_day(e, &cmd->end_of_day); break;
    case ENG_CMD_TIME: eng_cmd_ack(e, cmd->hdr.instrument_id, ENG_CMD_TIME, 0); break;
    case ENG_CMD_ADD_INSTRUMENT: eng_cmd_add_instrument(e, &cmd->add_instrument); break;
    case ENG_CMD_SET_INSTRUMENT_RISK: eng_cmd_set_instrument_risk(e, &cmd->set_instrument_risk); break;
    case ENG_CMD_SET_ACCOUNT_LIMIT: eng_cmd_set_account_limit(e, &cmd->set_account_limit); break;
    case ENG_CMD_SET_KILL_SWITCH: eng_cmd_set_kill_switch(e, &cmd->set_kill_switch); break;
    case ENG_CMD_SET_POST_TRADE_LIMIT: eng_cmd_set_post_trade_limit(e, &cmd->set_post_trade_limit); break;
    case ENG_CMD_EXECUTE: eng_cmd_execute(e, &cmd->execute); break;
    case ENG_CMD_REDUCE: eng_cmd_reduce(e, &cmd->reduce); break;
    case ENG_CMD_SEED_LEVEL: eng_cmd_seed_level(e, &cmd->seed_level); break;
    case ENG_CMD_NBBO: eng_cmd_nbbo(e, &cmd->nbbo); break;
    case ENG_CMD_SET_ORDER_PROTECTION: eng_cmd_set_order_protection(e, &cmd->set_order_protection); break;
    case ENG_CMD_SET_ORDER_VELOCITY: eng_cmd_set_order_velocity(e, &cmd->set_order_velocity); break;
    default: eng_reject(e, cmd, ENG_REJ_UNKNOWN_COMMAND); break;
    }
}

#define ENG_EVBUF_MIN 4096u

/* Makes room for at least ENG_EVBUF_MIN more events after evlen. 0 or -ENOMEM. */
static int evbuf_reserve(eng_engine_t *e)
{
    if (e->evcap - e->evlen >= ENG_EVBUF_MIN) return 0;
    size_t nc = e->evcap ? e->evcap * 2 : 4 * ENG_EVBUF_MIN;
    while (nc - e->evlen < ENG_EVBUF_MIN) nc *= 2;
    eng_evt_t *nb = realloc(e->evbuf, nc * sizeof(eng_evt_t));
    if (!nb) return -ENOMEM;
    e->evbuf = nb;
    e->evcap = nc;
    return 0;
}

/* Sink flush for eng_submit: commits the events written so far and points the sink at fresh
 * room. If the buffer cannot grow, later events of the command go to a scratch area and are
 * lost; eng_submit then reports -ENOMEM. */
static void submit_flush(eng_sink_t *s)
{
    eng_engine_t *e = s->ctx;
    static __thread eng_evt_t scratch[64];
    if (s->buf != scratch) e->evlen += s->len;
    if (!e->ev_oom && evbuf_reserve(e) == 0) {
        s->buf = e->evbuf + e->evlen;
        s->cap = (uint32_t)((e->evcap - e->evlen) > UINT32_MAX ? UINT32_MAX : e->evcap - e->evlen);
    } else {
        e->ev_oom = 1;
        s->buf = scratch;
        s->cap = 64;
    }
    s->len = 0;
}

/* Batch API: processes n commands into the engine's own event buffer (grown as needed).
 * Returns 0, or -ENOMEM when the buffer could not grow: *processed then counts the commands
 * whose events are all in the buffer; if growth failed in the middle of a command, that command
 * was applied but the rest of its events were lost (it is not counted). */
int eng_submit(eng_engine_t *e, const eng_cmd_t *cmds, size_t n, size_t *processed)
{
    size_t i;
    e->ev_oom = 0;
    for (i = 0; i < n; i++) {
        if (evbuf_reserve(e)) break;
        eng_sink_t s = {e->evbuf + e->evlen, 0, 0, submit_flush, e};
        size_t room = e->evcap - e->evlen;
        s.cap = (uint32_t)(room > UINT32_MAX ? UINT32_MAX : room);
        /* eng_prefetch_schedule's own test, inline: a book small enough to stay in the caches
         * costs no call per command */
        if (e->orders_hw >= ENG_PREFETCH_MIN_ORDERS)
            eng_prefetch_schedule(e, i + ENG_PREFETCH_FAR < n ? &cmds[i + ENG_PREFETCH_FAR] : NULL,
                                  i + ENG_PREFETCH_MID < n ? &cmds[i + ENG_PREFETCH_MID] : NULL,
                                  i + ENG_PREFETCH_NEAR < n ? &cmds[i + ENG_PREFETCH_NEAR] : NULL);
        eng_process(e, &cmds[i], &s);
        if (e->ev_oom) break;
        e->evlen += s.len;
    }
    if (processed) *processed = i;
    eng_prefault_ahead(e); /* the batch is done: grow the resident pools before the next one */
    return i == n ? 0 : -ENOMEM;
}

/* The events buffered by eng_submit since the last eng_clear_events; valid until the next
 * eng_submit or eng_clear_events. */
const eng_evt_t *eng_events(const eng_engine_t *e, size_t *count)
{
    *count = e->evlen;
    return e->evbuf;
}

/* Forgets the buffered events; the buffer itself is kept for the next eng_submit. */
void eng_clear_events(eng_engine_t *e) { e->evlen = 0; }

/* Counters and capacities; cannot fail. */
void eng_get_stats(const eng_engine_t *e, eng_stats_t *out)
{
    *out = e->stats;
    out->orders_live = e->orders_live;
    out->orders_capacity = e->cfg.max_orders;
    out->levels_live = e->levels_live;
    out->levels_capacity = e->cfg.max_levels;
    out->memory_bytes = e->memory_bytes + eng_pools_resident_bytes(e);
    out->memory_reserved_bytes = e->mem_orders.reserved + e->mem_levels.reserved + e->mem_heap.reserved +
                                 e->mem_obkt.reserved + e->mem_ext.reserved;
    out->ext_live = e->ext_live;
    out->ext_high_water = e->ext_hw;
    out->order_record_bytes = sizeof(eng_order_t);
    out->ext_record_bytes = sizeof(eng_order_ext_t);
    out->level_record_bytes = sizeof(eng_level_t);
    out->orders_high_water = e->orders_hw;
    out->levels_high_water = e->levels_hw;
}
