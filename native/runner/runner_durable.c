/*
 * runner_durable.c - durability of the engine loop's output (runner_loop.h says what each mode
 * promises): a command's reply and events are held until its records are durable, in groups
 * (group commit) that close when due, are synced (on the sync thread, runner_syncer.c, or here
 * for a small group on an idle loop) and then released in order (runner_publish.c).
 * Invariants: at most one group with the sync thread; nothing of a command leaves before its
 * records are durable per the mode; a journal failure stops the loop without releasing anything
 * not yet durable. In plain mode (no journal) a reply is committed at once.
 */
#define _GNU_SOURCE
#include "runner_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Touches every page of a fresh heap buffer now, at start of day: the hold rings are tens of
 * MiB that malloc maps lazily, so otherwise the order path takes a page fault per 4 KiB on
 * their first pass (about 8,000 per 100k commands measured in bench/journal.py, async mode).
 * Volatile stores: a memset of zeros after malloc may be turned into calloc, which skips them. */
static void runner_prefault(void *buf, size_t bytes)
{
    volatile uint8_t *p = (volatile uint8_t *)buf;
    for (size_t off = 0; off < bytes; off += 4096)
        p[off] = 0;
}

int runner_durable_start(runner_state_t *st)
{
    const runner_config_t *cfg = st->cfg;
    st->pend = malloc(RUNNER_PENDING_REPLIES * sizeof *st->pend);
    if (!st->pend)
        return -ENOMEM;
    runner_prefault(st->pend, RUNNER_PENDING_REPLIES * sizeof *st->pend);
    cfg->cmd_journal->sync_on_roll = cfg->durability != RUNNER_DURABILITY_ASYNC;
    cfg->evt_journal->sync_on_roll = 0;
    cfg->evt_journal->sync_retired = cfg->durability != RUNNER_DURABILITY_ASYNC;
    int rc = cfg->durability == RUNNER_DURABILITY_GROUP
                 ? runner_syncer_start(&st->syncer, cfg->sync_cpu, &st->ctl->engine_bell) : 0;
    jrnl_log_t *const logs[2] = {cfg->cmd_journal, cfg->evt_journal};
    uint32_t spares = cfg->spare_segments ? cfg->spare_segments : 2;
    if (spares > JRNL_SPARES_MAX)
        spares = JRNL_SPARES_MAX;
    if (rc == 0 && (rc = jrnl_spare_start(&st->spare, logs, 2, spares, cfg->sync_cpu)) != 0)
        runner_syncer_stop(&st->syncer);
    if (rc == 0)                    /* start of day: preallocate before taking orders */
        st->res.prealloc_ns = (uint64_t)jrnl_spare_wait_ready(&st->spare);
    if (rc != 0) {
        free(st->pend);
        st->pend = NULL;
    }
    return rc;
}

void runner_durable_stop(runner_state_t *st)
{
    if (!st->journaled)
        return;
    runner_syncer_stop(&st->syncer);
    jrnl_spare_stop(&st->spare);
    st->res.sync_thread_cpu_ns = st->syncer.cpu_ns;
    st->res.sync_thread_realtime = (uint64_t)st->syncer.realtime;
    st->res.roll_ns_total = st->cfg->cmd_journal->roll_ns + st->cfg->evt_journal->roll_ns;
    free(st->pend);
    st->pend = NULL;
}

static void runner_count_sync(runner_state_t *st, int64_t t0)
{
    uint64_t dt = (uint64_t)(ring_now_ns() - t0);
    st->res.syncs++;
    st->res.sync_ns_total += dt;
    if (dt > st->res.sync_ns_max)
        st->res.sync_ns_max = dt;
}

/* The last seq whose records are all appended: a commit forced in the middle of a command
 * (full hold buffer) must not announce that command to tailing readers yet. */
static uint64_t runner_complete_seq(const runner_state_t *st)
{
    return st->in_command ? st->seq - 1 : st->seq;
}

/* Checks (or with wait, waits for) the group with the sync thread; once it is durable, marks
 * the logs synced that far and releases the group. */
static void runner_poll_inflight(runner_state_t *st, int wait)
{
    if (!st->inflight)
        return;
    int32_t rc;
    int64_t w0 = wait ? ring_now_ns() : 0;
    if (!runner_syncer_poll(&st->syncer, wait, &rc))
        return;
    if (wait)
        st->res.stall_ns_total += (uint64_t)(ring_now_ns() - w0);
    st->inflight = 0;
    if (rc != 0) {
        st->jerr = rc;
        st->cfg->cmd_journal->error = rc;
        snprintf(st->cfg->cmd_journal->message, sizeof st->cfg->cmd_journal->message,
                 "%s: journal sync failed: %s", st->cfg->cmd_journal->dir, strerror(-rc));
        return;
    }
    st->cfg->cmd_journal->synced_slot = st->syncer.cmd_to;
    st->cfg->cmd_journal->syncs++;
    runner_count_sync(st, st->inflight_t0);
    runner_release(st, st->inflight_rep_end, st->inflight_ev_end, st->inflight_ev_mark,
                   st->inflight_seq);
}

int runner_sync_done(runner_state_t *st)
{
    int32_t ignored;
    return st->inflight && runner_syncer_poll(&st->syncer, 0, &ignored);
}

void runner_before_append(runner_state_t *st, const jrnl_log_t *log)
{
    /* The sync thread's request names the old segment's mapping and slots. The event journal
     * is not the sync thread's (group commit syncs commands only), so its rolls never wait. */
    if (st->inflight && log == st->cfg->cmd_journal && jrnl_log_will_roll(log))
        runner_poll_inflight(st, 1);
}

/* Syncs the open group's command records here (GROUP with a small group on an idle loop, which
 * would only sleep until the sync thread rang it; EACH) and releases it; ASYNC: releases it. 0
 * or the journal error. */
static int runner_sync_here(runner_state_t *st)
{
    const runner_config_t *cfg = st->cfg;
    if (st->pend_cmds) {
        int64_t t0 = ring_now_ns();
        int rc = jrnl_log_sync(cfg->cmd_journal);
        if (rc != 0) {
            st->jerr = rc;
            return rc;
        }
        runner_count_sync(st, t0);
    }
    st->pend_cmds = 0;
    runner_release(st, st->rep_tail, st->ev_tail, ring_bcast_written(cfg->events),
                   runner_complete_seq(st));
    return 0;
}

/* Hands the open group to the sync thread; a later runner_poll_inflight releases it. */
static void runner_sync_on_thread(runner_state_t *st)
{
    st->inflight = 1;
    st->inflight_rep_end = st->rep_tail;
    st->inflight_ev_end = st->ev_tail;
    st->inflight_ev_mark = ring_bcast_written(st->cfg->events);
    st->inflight_t0 = ring_now_ns();
    st->inflight_seq = runner_complete_seq(st);
    st->pend_cmds = 0;
    /* Only the command journal: the events are a pure function of it (the replay writes the
     * same bytes again, tests/journal/test_replay_determinism.py), so an ack needs its command
     * durable, not its events. Syncing both cost the sync thread 3.8x the CPU (480 vs 128 bytes
     * per command), taken from the producers' core on 2 CPUs. Events become durable behind it:
     * full segments by the segment maker (sync_retired), the rest by each snapshot
     * (jrnl_snapshot_fork_synced) and at stop. */
    runner_syncer_post(&st->syncer, st->cfg->cmd_journal, NULL);
}

/* Closes the open group. ASYNC: released at once. EACH: synced here, then released. GROUP:
 * handed to the sync thread (after the previous group is done: one in flight), or synced here
 * when small on an idle loop. 0, or the journal error. */
static int runner_close_group(runner_state_t *st, int idle)
{
    const runner_config_t *cfg = st->cfg;
    /* What the group syncs and releases is complete (a commit forced mid-command included). */
    jrnl_crc_batch_seal(&st->crc_batch);
    if (st->jerr)
        return st->jerr;
    runner_poll_inflight(st, 1);
    if (st->jerr)
        return st->jerr;
    if (cfg->durability == RUNNER_DURABILITY_GROUP && st->pend_cmds) {
        /* Commands arriving during a sync here wait in their rings for one sync, as they would
         * wait behind a sync in flight; their own group follows. */
        if (idle && cfg->group_inline_max && st->pend_cmds <= cfg->group_inline_max)
            return runner_sync_here(st);
        runner_sync_on_thread(st);
        return 0;
    }
    if (cfg->durability == RUNNER_DURABILITY_ASYNC)
        st->pend_cmds = 0;          /* nothing to sync: released below at once */
    /* EACH: the command journal alone, one device flush per command, as GROUP (see
     * runner_sync_on_thread for why the events need not be durable for an ack). */
    return runner_sync_here(st);
}

int runner_commit(runner_state_t *st)
{
    int rc = runner_close_group(st, 0);
    if (rc == 0)
        runner_poll_inflight(st, 1);
    return st->jerr;
}

int runner_hold_room(runner_state_t *st)
{
    if (st->journaled && st->rep_tail - st->rep_head == RUNNER_PENDING_REPLIES) {
        st->res.forced_commits++;
        if (runner_commit(st) != 0)
            return 0;
    }
    return !st->jerr;
}

void runner_hold_reply(runner_state_t *st, uint32_t p, int32_t roff)
{
    if (!st->journaled) {
        ring_spsc_commit(&st->cfg->reply_rings[p], roff);
        st->notify[p] = 1;          /* woken after the pass (runner_wake) */
        return;
    }
    runner_pending_reply_t *pr = &st->pend[st->rep_tail & (RUNNER_PENDING_REPLIES - 1)];
    pr->producer = p;
    pr->offset = roff;
    pr->lat_enqueue = st->lat_enqueue;  /* 0 for a malformed record: read_cmd reset it */
    pr->lat_matched = st->lat_matched;
    st->rep_tail++;
    if (st->cfg->durability == RUNNER_DURABILITY_EACH)
        runner_close_group(st, 0);
}

int runner_maybe_commit(runner_state_t *st, uint32_t work)
{
    const runner_config_t *cfg = st->cfg;
    runner_poll_inflight(st, 0);
    uint64_t open_rep = st->rep_tail - (st->inflight ? st->inflight_rep_end : st->rep_head);
    uint64_t open_ev = st->ev_tail - (st->inflight ? st->inflight_ev_end : st->ev_head);
    /* GROUP: a group closes when its window has passed or it holds group_records commands,
     * and only once the previous group's sync is done: the loop never waits for the disk here,
     * it goes on matching into the open group, so groups grow to the disk's pace (only a full
     * hold buffer forces a wait). Measured: closing at group_records with a sync in flight made
     * the loop wait 120-320 ms per million commands. A pass that found no command (work == 0)
     * also closes it: nothing more is coming to share the sync, so waiting out the window only
     * delays the acks (bench/journal.py closed-loop group p50: 0.6-1.0 ms -> 57 us); under load
     * the rings are never empty, so groups still grow to the disk's pace. */
    if (!st->jerr && (open_rep || open_ev || st->pend_cmds) &&
        (cfg->durability != RUNNER_DURABILITY_GROUP ||
         (!st->inflight && (st->pend_cmds == 0 || work == 0 || st->pend_cmds >= cfg->group_records ||
                            ring_now_ns() - st->group_start_ns >= (int64_t)cfg->group_window_ns))))
        runner_close_group(st, work == 0);
    /* Quiescent: nothing held, nothing with the sync thread; every command is released. */
    return !st->jerr && !st->inflight && st->rep_head == st->rep_tail &&
           st->ev_head == st->ev_tail;
}
