/*
 * runner_loop.c - the engine process's loop: poll every producer's command ring, sequence each
 * command (seq, ts_ns), run it through the engine, publish its events on the broadcast log, then
 * answer it on that producer's reply ring. Heartbeat about every heartbeat_interval_ns.
 * Invariants: a command is dequeued only when its producer's reply ring has room for the reply
 * (a slow producer blocks only itself); all of a command's events are on the log before its
 * reply is committed; seq strictly increases by one per sequenced command. With journals: a
 * command's record is appended before eng_process sees it, and nothing of it (reply, event on
 * the log) leaves before its records are durable per the mode (runner_commit).
 */
#define _GNU_SOURCE
#include "runner_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hdr_recorder.h"
#include "jrnl_snapshot.h"
#include "jrnl_spare.h"
#include "runner_lookahead.h"
#include "ring_atomic.h"
#include "runner_syncer.h"

static atomic_int runner_stop_flag;

static void runner_on_signal(int sig)
{
    (void)sig;
    /* A lock-free atomic store is async-signal-safe (C11 7.14.1.1). */
    atomic_store_explicit(&runner_stop_flag, 1, RING_RELAXED);
}

int runner_install_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = runner_on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -errno;
    return 0;
}

/* A reply held for durability: claimed and written in its producer's reply ring, committed (made
 * visible) at the release, so it is written once, in place. */
typedef struct runner_pending_reply {
    uint32_t producer;
    int32_t offset;                     /* of the claimed record in reply_rings[producer] */
    uint64_t lat_enqueue, lat_matched;  /* latency stamps of a stamped command, 0: none */
} runner_pending_reply_t;

typedef struct runner_state {
    const runner_config_t *cfg;
    ring_control_t *ctl;
    eng_sink_t sink;
    eng_evt_t buf[RUNNER_SINK_EVENTS];
    uint64_t seq;
    uint64_t events;
    uint64_t cmd_events;            /* events of the command being processed */
    eng_evt_t first;                /* its first event */
    runner_result_t res;
    ring_wait_t wait;
    uint8_t notify[RING_MAX_PRODUCERS];
    int64_t last_ts;                /* sequencer timestamps never go back, across restarts too */
    /* latency stamps (venue_layout.h Section 5) of the command being processed; lat_enqueue 0:
     * not a stamped command (or stamps off: lat NULL) */
    const hdr_hist_t *lat;
    uint64_t lat_enqueue, lat_dequeue, lat_matched;
    /* journaled mode: what waits for durability */
    int journaled;
    int32_t jerr;                   /* first journal failure: the loop stops */
    /* Held replies and events are FIFO rings (positions only grow, slot = pos & (cap - 1)):
     * [head, inflight end) is the group being synced, [inflight end, tail) the open group. */
    runner_pending_reply_t *pend;   /* [RUNNER_PENDING_REPLIES] */
    uint64_t rep_head, rep_tail;
    uint64_t ev_head, ev_tail;      /* events published / written to the log (journaled: the
                                       ones in between are staged on it, not yet visible) */
    uint32_t pend_cmds;             /* journaled commands in the open group */
    int64_t group_start_ns;         /* when the group's first command was sequenced */
    int inflight;                   /* a closed group is with the sync thread */
    uint64_t inflight_rep_end, inflight_ev_end;
    ring_bcast_mark_t inflight_ev_mark;     /* the event log up to the in-flight group's end */
    int64_t inflight_t0;
    uint64_t inflight_seq;          /* last command wholly in the in-flight group */
    int in_command;                 /* 1 while eng_process runs (a commit then is mid-command) */
    runner_syncer_t syncer;
    /* The command's records (its input record and its events, in both journals) whose crcs
     * are computed together, four lanes at a time; empty between commands and at every
     * group close (jrnl_log.h: jrnl_crc_batch_t). */
    jrnl_crc_batch_t crc_batch;
    jrnl_spare_t spare;             /* makes the next segment of both journals ahead of a roll */
    int32_t snap_pid;               /* snapshot child in flight, 0: none */
    uint64_t snap_seq;              /* seq of the snapshot being written */
    uint64_t prev_snap_seq;         /* newest complete snapshot before it (kept on disk) */
} runner_state_t;

static int runner_commit(runner_state_t *st);
static void runner_poll_inflight(runner_state_t *st, int wait);

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

/* Before an append that opens a new segment of the command journal, the sync thread must be
 * done with the old one (its request names the old mapping and slots). The event journal is
 * not the sync thread's (group commit syncs commands only), so its rolls never wait. */
static void runner_before_append(runner_state_t *st, const jrnl_log_t *log)
{
    if (st->inflight && log == st->cfg->cmd_journal && jrnl_log_will_roll(log))
        runner_poll_inflight(st, 1);
}

static void runner_flush(eng_sink_t *sink)
{
    runner_state_t *st = (runner_state_t *)sink->ctx;
    if (st->journaled) {
        for (uint32_t i = 0; i < sink->len && !st->jerr; i++) {
            if (st->cmd_events == 0)
                st->first = sink->buf[i];
            runner_before_append(st, st->cfg->evt_journal);
            int rc = jrnl_log_append_batched(st->cfg->evt_journal, st->seq, st->last_ts,
                                             (uint32_t)st->cmd_events, &sink->buf[i],
                                             &st->crc_batch);
            if (rc != 0) {
                st->jerr = rc;
                break;
            }
            st->cmd_events++;
            /* Held on the log itself until durable: staged (written, not published) rather than
             * copied to a hold buffer and copied again at the release. Staged bytes stay under
             * half the log, so readers keep at least half of it as slack. */
            if (st->ev_tail - st->ev_head == RUNNER_PENDING_EVENTS ||
                ring_bcast_unpublished(st->cfg->events) >= st->cfg->events->capacity / 2) {
                st->res.forced_commits++;
                if (runner_commit(st) != 0)
                    break;
            }
            ring_bcast_stage(st->cfg->events, RING_MSG_ENG_EVT, &sink->buf[i], sizeof(eng_evt_t));
            st->ev_tail++;
        }
        st->events += sink->len;
        sink->len = 0;
        return;
    }
    for (uint32_t i = 0; i < sink->len; i++) {
        if (st->cmd_events == 0)
            st->first = sink->buf[i];
        st->cmd_events++;
        /* Cannot fail: the type is ours and 8 + 96 bytes is within every log's max_record,
         * which runner_config_ok() checked. */
        ring_bcast_transmit(st->cfg->events, RING_MSG_ENG_EVT, &sink->buf[i], sizeof(eng_evt_t));
    }
    st->events += sink->len;
    sink->len = 0;
}

/* Copies the command out of a ring record: a plain one, or a stamped one (venue_layout.h
 * Section 5), whose enqueue stamp is kept and whose dequeue is stamped now. 0: not a command. */
static int runner_read_cmd(runner_state_t *st, const uint8_t *rec, int32_t type, uint32_t length,
                           eng_cmd_t *cmd)
{
    st->lat_enqueue = 0;
    if (type == RING_MSG_ENG_CMD && length == sizeof(eng_cmd_t)) {
        memcpy(cmd, rec, sizeof *cmd);
        return 1;
    }
    if (type != RING_MSG_ENG_CMD_STAMPED || length != sizeof(hdr_stamped_cmd_t))
        return 0;
    memcpy(cmd, rec + offsetof(hdr_stamped_cmd_t, cmd), sizeof *cmd);
    if (st->lat) {
        st->lat_dequeue = hdr_now();
        memcpy(&st->lat_enqueue, rec + offsetof(hdr_stamped_cmd_t, enqueue_ticks), 8);
    }
    return 1;
}

/* A stamped command's events are on the log: records matched_to_published and tells the
 * producer, in the reply, how long it took from its enqueue. */
static void runner_lat_published(const runner_state_t *st, uint64_t enqueue, uint64_t matched,
                                 uint64_t published, ring_reply_t *reply)
{
    const hdr_hist_t *h = &st->lat[HDR_STAGE_MATCHED_TO_PUBLISHED];
    hdr_hist_record_ticks(h, matched, published);
    uint64_t ns = published > enqueue
                      ? hdr_ticks_to_ns_with(published - enqueue, h->ns_mult, h->ns_shift) : 0;
    reply->enqueue_to_published_ns = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* Sequences one command, runs it, publishes its events. Returns the reply. source: the producer
 * slot it came from + 1 (0: a boot command), journaled with it (venue_layout.h Section 6). */
static void runner_execute(runner_state_t *st, eng_cmd_t *cmd, uint32_t source, ring_reply_t *reply)
{
    int64_t now = ring_now_ns();
    if (now > st->last_ts)
        st->last_ts = now;
    cmd->hdr.seq = ++st->seq;
    cmd->hdr.ts_ns = st->last_ts;
    st->cmd_events = 0;
    if (st->journaled) {
        /* The input record goes first: a command the engine has seen is always in the journal
         * (its crc, batched with its events', is stored before anything of it is released). */
        runner_before_append(st, st->cfg->cmd_journal);
        int rc = jrnl_log_append_batched(st->cfg->cmd_journal, cmd->hdr.seq, cmd->hdr.ts_ns,
                                         source, cmd, &st->crc_batch);
        if (rc != 0) {
            st->jerr = rc;
            st->seq--;
            memset(reply, 0, sizeof *reply);
            return;
        }
        if (st->pend_cmds++ == 0)
            st->group_start_ns = now;
    }
    st->in_command = 1;
    eng_process(st->cfg->engine, cmd, &st->sink);
    if (st->lat_enqueue)
        st->lat_matched = hdr_now();
    runner_flush(&st->sink);
    jrnl_crc_batch_seal(&st->crc_batch);    /* the command's records are complete */
    st->in_command = 0;
    st->res.commands++;
    memset(reply, 0, sizeof *reply);
    reply->seq = cmd->hdr.seq;
    reply->ts_ns = cmd->hdr.ts_ns;
    reply->event_count = (uint32_t)st->cmd_events;
    if (st->cmd_events)
        reply->first = st->first;
    if (st->lat_enqueue) {
        hdr_hist_record_ticks(&st->lat[HDR_STAGE_ENQUEUE_TO_DEQUEUE], st->lat_enqueue,
                              st->lat_dequeue);
        hdr_hist_record_ticks(&st->lat[HDR_STAGE_DEQUEUE_TO_MATCHED], st->lat_dequeue,
                              st->lat_matched);
        if (!st->journaled)         /* journaled: published when the group is released */
            runner_lat_published(st, st->lat_enqueue, st->lat_matched, hdr_now(), reply);
    }
}

/* A record that is not a 96-byte command: answered, never sequenced or passed to the engine. */
static void runner_bad_record(runner_state_t *st, uint32_t p, int32_t type, ring_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    reply->first.hdr.type = ENG_EVT_REJECTED;
    reply->first.hdr.reason = ENG_REJ_UNKNOWN_COMMAND;
    reply->first.rejected.cmd_type = (uint16_t)(type > 0 && type < 65536 ? type : 0);
    st->res.bad_records++;
    ring_producer_slot_t *slot = &st->ctl->producers[p];
    atomic_store_explicit(ring_a64(&slot->bad_records), slot->bad_records + 1, RING_RELAXED);
}

/* Takes up to limit commands from producer p. Returns how many. */
static uint32_t runner_poll_producer(runner_state_t *st, uint32_t p, uint32_t limit)
{
    ring_spsc_t *in = &st->cfg->cmd_rings[p];
    ring_spsc_t *out = &st->cfg->reply_rings[p];
    uint32_t n = 0;
    runner_lookahead_t ahead;
    runner_lookahead_reset(&ahead);
    while (n < limit) {
        if (!ring_spsc_has_room(out, sizeof(ring_reply_t))) {
            st->res.reply_room_waits++;
            break;                  /* back-pressure: this producer is not reading its replies */
        }
        runner_lookahead_prefetch(&ahead, in, st->cfg->engine);
        int32_t type;
        uint32_t length;
        int32_t off = ring_spsc_peek(in, &type, &length);
        if (off < 0)
            break;                  /* RING_EMPTY, or a corrupt ring: leave it, never guess */
        int32_t roff = ring_spsc_claim(out, RING_MSG_ENG_REPLY, sizeof(ring_reply_t));
        ring_reply_t *reply = (ring_reply_t *)(out->data + roff);
        eng_cmd_t cmd;
        if (runner_read_cmd(st, in->data + off, type, length, &cmd)) {
            ring_spsc_consume(in);
            runner_execute(st, &cmd, p + 1, reply);
        } else {
            ring_spsc_consume(in);
            runner_bad_record(st, p, type, reply);
        }
        runner_lookahead_advance(&ahead);
        ring_spsc_commit(out, roff);
        n++;
    }
    if (n) {
        ring_spsc_release(in);
        ring_producer_slot_t *slot = &st->ctl->producers[p];
        atomic_store_explicit(ring_a64(&slot->commands), slot->commands + n, RING_RELAXED);
        st->notify[p] = 1;
    }
    return n;
}

static void runner_wake(runner_state_t *st)
{
    /* One full fence for all bells: orders the reply commits (release stores) above before
     * the sleepers loads; pairs with the waiter's fence in ring_wait.c. */
    ring_fence_seq_cst();
    for (uint32_t p = 0; p < st->cfg->producer_count; p++) {
        if (st->notify[p]) {
            ring_doorbell_wake_if_sleeping(&st->cfg->reply_rings[p].ctl->consumer_bell);
            st->notify[p] = 0;
        }
    }
    /* The same fence is B4 for the readers asleep on the event log (venue_layout.h Section 4):
     * events published since the last wake reach a sleeping gateway or feed at once. After the
     * producers' bells, so a reader's futex_wake never delays a reply; with no sleeper this is
     * one relaxed load, never a system call. */
    ring_bcast_wake_readers_fenced(st->cfg->events);
}

/* Releases held items up to (rep_end, ev_end): events onto the broadcast log in sequence order,
 * then the replies, then the bells. The caller has made their records durable per the mode. */
static void runner_release(runner_state_t *st, uint64_t rep_end, uint64_t ev_end,
                           ring_bcast_mark_t ev_mark, uint64_t seq)
{
    const runner_config_t *cfg = st->cfg;
    jrnl_log_release(cfg->cmd_journal, seq);
    jrnl_log_release(cfg->evt_journal, seq);
    if (st->ev_head != ev_end) {
        ring_bcast_publish(cfg->events, ev_mark);
        st->ev_head = ev_end;
    }
    uint64_t published = st->lat ? hdr_now() : 0;  /* latency: the group's events are out */
    for (; st->rep_head < rep_end; st->rep_head++) {
        runner_pending_reply_t *pr = &st->pend[st->rep_head & (RUNNER_PENDING_REPLIES - 1)];
        ring_spsc_t *out = &cfg->reply_rings[pr->producer];
        if (pr->lat_enqueue)
            runner_lat_published(st, pr->lat_enqueue, pr->lat_matched, published,
                                 (ring_reply_t *)(out->data + pr->offset));
        ring_spsc_commit(out, pr->offset);  /* claims are committed in claim order */
        st->notify[pr->producer] = 1;
    }
    runner_wake(st);
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
                 "%s: msync failed: %s", st->cfg->cmd_journal->dir, strerror(-rc));
        return;
    }
    st->cfg->cmd_journal->synced_slot = st->syncer.cmd_to;
    st->cfg->cmd_journal->syncs++;
    runner_count_sync(st, st->inflight_t0);
    runner_release(st, st->inflight_rep_end, st->inflight_ev_end, st->inflight_ev_mark,
                   st->inflight_seq);
}

/* Closes the open group. ASYNC: released at once. EACH: synced here, then released. GROUP:
 * handed to the sync thread (after the previous group is done: one in flight), released by a
 * later runner_poll_inflight(). 0, or the journal error. */
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
    /* A small group on an idle loop: synced here, as the loop would only sleep until the sync
     * thread rang it. Commands arriving meanwhile wait in their rings for one sync, as they
     * would wait behind a sync in flight; their own group follows. Only the command journal,
     * as below. */
    int inline_sync = idle && cfg->group_inline_max && st->pend_cmds <= cfg->group_inline_max;
    if (cfg->durability == RUNNER_DURABILITY_GROUP && st->pend_cmds && inline_sync) {
        int64_t t0 = ring_now_ns();
        int rc = jrnl_log_sync(cfg->cmd_journal);
        if (rc != 0) {
            st->jerr = rc;
            return rc;
        }
        runner_count_sync(st, t0);
        st->pend_cmds = 0;
        runner_release(st, st->rep_tail, st->ev_tail, ring_bcast_written(cfg->events),
                       runner_complete_seq(st));
        return 0;
    }
    if (cfg->durability == RUNNER_DURABILITY_GROUP && st->pend_cmds) {
        st->inflight = 1;
        st->inflight_rep_end = st->rep_tail;
        st->inflight_ev_end = st->ev_tail;
        st->inflight_ev_mark = ring_bcast_written(cfg->events);
        st->inflight_t0 = ring_now_ns();
        st->inflight_seq = runner_complete_seq(st);
        st->pend_cmds = 0;
        /* Only the command journal: the events are a pure function of it (the replay writes
         * the same bytes again, tests/journal/test_replay_determinism.py), so an ack needs its
         * command durable, not its events. Syncing both cost the sync thread 3.8x the CPU
         * (480 vs 128 bytes per command), taken from the producers' core on 2 CPUs. Events
         * become durable behind it: full segments by the segment maker (sync_retired), the
         * rest by each snapshot (jrnl_snapshot_fork_synced) and at stop. */
        runner_syncer_post(&st->syncer, cfg->cmd_journal, NULL);
        return 0;
    }
    if (cfg->durability != RUNNER_DURABILITY_ASYNC && st->pend_cmds) {
        int64_t t0 = ring_now_ns();
        int rc = jrnl_log_sync(cfg->cmd_journal);
        if (rc == 0)
            rc = jrnl_log_sync(cfg->evt_journal);
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

/* Everything held becomes durable and is released before this returns (full hold buffers,
 * boot, stop). 0 or the journal error. */
static int runner_commit(runner_state_t *st)
{
    int rc = runner_close_group(st, 0);
    if (rc == 0)
        runner_poll_inflight(st, 1);
    return st->jerr;
}

/* Journaled variant of runner_poll_producer: replies are held in st->pend until committed. */
static uint32_t runner_poll_producer_journaled(runner_state_t *st, uint32_t p, uint32_t limit)
{
    ring_spsc_t *in = &st->cfg->cmd_rings[p];
    uint32_t n = 0;
    runner_lookahead_t ahead;
    runner_lookahead_reset(&ahead);
    while (n < limit && !st->jerr) {
        if (st->rep_tail - st->rep_head == RUNNER_PENDING_REPLIES) {
            st->res.forced_commits++;
            if (runner_commit(st) != 0)
                break;
        }
        ring_spsc_t *out = &st->cfg->reply_rings[p];
        if (!ring_spsc_has_room(out, sizeof(ring_reply_t))) {
            st->res.reply_room_waits++;
            break;                  /* back-pressure: this producer is not reading its replies */
        }
        runner_lookahead_prefetch(&ahead, in, st->cfg->engine);
        int32_t type;
        uint32_t length;
        int32_t off = ring_spsc_peek(in, &type, &length);
        if (off < 0)
            break;
        runner_pending_reply_t *pr = &st->pend[st->rep_tail & (RUNNER_PENDING_REPLIES - 1)];
        pr->producer = p;
        /* Cannot fail: room was checked above and nothing else claims in this ring. */
        pr->offset = ring_spsc_claim(out, RING_MSG_ENG_REPLY, sizeof(ring_reply_t));
        ring_reply_t *reply = (ring_reply_t *)(out->data + pr->offset);
        eng_cmd_t cmd;
        if (runner_read_cmd(st, in->data + off, type, length, &cmd)) {
            ring_spsc_consume(in);
            runner_execute(st, &cmd, p + 1, reply);
            if (st->jerr) {
                ring_spsc_abort(out, pr->offset);   /* never durable: never answered */
                break;
            }
        } else {
            ring_spsc_consume(in);
            runner_bad_record(st, p, type, reply);
        }
        runner_lookahead_advance(&ahead);
        pr->lat_enqueue = st->lat_enqueue;  /* 0 for a malformed record: read_cmd reset it */
        pr->lat_matched = st->lat_matched;
        st->rep_tail++;
        n++;
        if (st->cfg->durability == RUNNER_DURABILITY_EACH)
            runner_close_group(st, 0);
    }
    if (n) {
        ring_spsc_release(in);
        ring_producer_slot_t *slot = &st->ctl->producers[p];
        atomic_store_explicit(ring_a64(&slot->commands), slot->commands + n, RING_RELAXED);
    }
    return n;
}

/* Reaps a finished snapshot child; starts a new snapshot once snapshot_every commands have been
 * committed since the last one. Called right after a commit, when every command the engine has
 * seen is durable and released: a quiescent point, so the child copies a state between two
 * commands whose seq is in the journal. */
static void runner_snapshot_tick(runner_state_t *st, int committed)
{
    const runner_config_t *cfg = st->cfg;
    if (st->snap_pid) {
        int status;
        pid_t r = waitpid(st->snap_pid, &status, WNOHANG);
        if (r == st->snap_pid) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                st->res.snapshots++;
                st->prev_snap_seq = st->snap_seq;
                st->res.last_snapshot_seq = st->snap_seq;
            } else {
                st->res.snapshot_failures++;
            }
            st->snap_pid = 0;
        }
    }
    if (!committed || st->snap_pid || !cfg->snapshot_every || !cfg->snapshot_dir ||
        st->seq - st->res.last_snapshot_seq < cfg->snapshot_every ||
        st->seq - st->snap_seq < cfg->snapshot_every)
        return;
    int32_t pid;
    int64_t pause;
    if (jrnl_snapshot_fork_synced(cfg->engine, cfg->snapshot_dir, st->seq, st->prev_snap_seq,
                                  cfg->durability == RUNNER_DURABILITY_GROUP ? cfg->evt_journal
                                                                             : NULL,
                                  cfg->keep_snapshots, cfg->archive_dir, &pid, &pause) != 0) {
        st->res.snapshot_failures++;
        st->snap_seq = st->seq;     /* retry after another snapshot_every commands */
        return;
    }
    st->snap_pid = pid;
    st->snap_seq = st->seq;
    st->res.snapshot_pause_ns_total += (uint64_t)pause;
    if ((uint64_t)pause > st->res.snapshot_pause_ns_max)
        st->res.snapshot_pause_ns_max = (uint64_t)pause;
}

/* Releases a synced group; closes the open group when it is due (a group holding only
 * malformed-record replies needs nothing from the disk). */
static void runner_maybe_commit(runner_state_t *st, uint32_t work)
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
    int quiescent = !st->jerr && !st->inflight && st->rep_head == st->rep_tail &&
                    st->ev_head == st->ev_tail;
    if (st->snap_pid || (quiescent && cfg->snapshot_every))
        runner_snapshot_tick(st, quiescent);
}

/* One pass over all producers; wakes the producers that got replies. Returns commands taken. */
static uint32_t runner_pass(runner_state_t *st)
{
    uint32_t work = 0;
    if (st->journaled) {
        for (uint32_t p = 0; p < st->cfg->producer_count && !st->jerr; p++)
            work += runner_poll_producer_journaled(st, p, st->cfg->batch_limit);
        runner_maybe_commit(st, work);
        return work;
    }
    for (uint32_t p = 0; p < st->cfg->producer_count; p++)
        work += runner_poll_producer(st, p, st->cfg->batch_limit);
    if (work)
        runner_wake(st);
    return work;
}

static int runner_stop_requested(const runner_state_t *st)
{
    /* acquire: pairs with the release store of stop_requested by whoever asks us to stop. */
    return atomic_load_explicit(&runner_stop_flag, RING_RELAXED) ||
           atomic_load_explicit(ring_a32(&st->ctl->stop_requested), RING_ACQUIRE);
}

static int runner_commands_pending(const runner_state_t *st)
{
    for (uint32_t p = 0; p < st->cfg->producer_count; p++)
        if (ring_spsc_ready(&st->cfg->cmd_rings[p]))
            return 1;
    return 0;
}

/* The wait strategy's re-check before sleeping: a command or a stop request. */
static int runner_has_work(void *ctx)
{
    runner_state_t *st = (runner_state_t *)ctx;
    /* An open group is work: the loop must not sleep past its window. A group being synced is
     * work once the sync is done: the sync thread rings our bell then, so the loop sleeps
     * meanwhile and a gateway sharing its CPU gets it (polling through each sync cost the
     * gateway its time slice: 1 ms P50 at 10k orders/s under SCHED_OTHER, bench/journal.py). */
    int32_t ignored;
    return runner_stop_requested(st) || runner_commands_pending(st) || st->pend_cmds != 0 ||
           (st->inflight && runner_syncer_poll(&st->syncer, 0, &ignored));
}

static void runner_heartbeat(runner_state_t *st, int64_t now)
{
    const runner_config_t *cfg = st->cfg;
    ring_seg_heartbeat(cfg->control_seg, now);
    for (uint32_t i = 0; i < cfg->seg_count; i++)
        ring_seg_heartbeat(&cfg->segs[i], now);
    /* relaxed: counters for monitors; nothing is ordered by them. */
    atomic_store_explicit(ring_a64(&st->ctl->last_seq), st->seq, RING_RELAXED);
    atomic_store_explicit(ring_a64(&st->ctl->commands), st->res.commands, RING_RELAXED);
    atomic_store_explicit(ring_a64(&st->ctl->events), st->events, RING_RELAXED);
    atomic_store_explicit(ring_a64(&st->ctl->sleeps), st->wait.sleeps, RING_RELAXED);
}

static int runner_config_ok(const runner_config_t *cfg)
{
    if (!cfg || !cfg->engine || !cfg->control_seg || cfg->control_seg->kind != RING_KIND_CONTROL ||
        !cfg->cmd_rings || !cfg->reply_rings || !cfg->events || cfg->producer_count == 0 ||
        cfg->producer_count > RING_MAX_PRODUCERS || cfg->batch_limit == 0 ||
        (cfg->seg_count && !cfg->segs) || (cfg->boot_count && !cfg->boot_cmds) ||
        cfg->heartbeat_interval_ns == 0)
        return 0;
    if (cfg->cmd_journal && (!cfg->evt_journal || cfg->group_records == 0 ||
                             cfg->durability < RUNNER_DURABILITY_ASYNC ||
                             cfg->durability > RUNNER_DURABILITY_EACH))
        return 0;
    if (cfg->events->max_record < RING_RECORD_HDR_BYTES + sizeof(eng_evt_t))
        return 0;
    for (uint32_t p = 0; p < cfg->producer_count; p++)
        if (cfg->reply_rings[p].max_record < RING_RECORD_HDR_BYTES + sizeof(ring_reply_t))
            return 0;
    return cfg->wait.mode == RING_WAIT_SPIN || cfg->wait.mode == RING_WAIT_BACKOFF;
}

static uint64_t runner_undrained(const runner_state_t *st)
{
    uint64_t n = 0;
    for (uint32_t p = 0; p < st->cfg->producer_count; p++) {
        ring_spsc_t *in = &st->cfg->cmd_rings[p];
        int32_t type;
        uint32_t length;
        uint64_t saved = in->read_pos;
        while (ring_spsc_peek(in, &type, &length) >= 0) {
            ring_spsc_consume(in);
            n++;
        }
        in->read_pos = saved;       /* counted, not taken: the records stay for an inspector */
    }
    return n;
}

int runner_run(const runner_config_t *cfg, runner_result_t *out)
{
    if (!runner_config_ok(cfg) || !out)
        return RING_INVALID;
    static runner_state_t st;       /* static: the event buffer must not live on the stack of
                                       every caller, and there is one runner per process */
    memset(&st, 0, sizeof st);
    st.cfg = cfg;
    st.ctl = (ring_control_t *)cfg->control_seg->ctl;
    st.sink.buf = st.buf;
    st.sink.cap = RUNNER_SINK_EVENTS;
    st.sink.flush = runner_flush;
    st.sink.ctx = &st;
    st.wait = cfg->wait;
    st.seq = cfg->start_seq;
    st.last_ts = cfg->start_ts_ns;
    st.journaled = cfg->cmd_journal != NULL;
    st.lat = cfg->latency;
    st.res.last_snapshot_seq = cfg->last_snapshot_seq;
    st.prev_snap_seq = cfg->last_snapshot_seq;
    st.snap_seq = cfg->last_snapshot_seq;
    if (st.journaled) {
        st.pend = malloc(RUNNER_PENDING_REPLIES * sizeof *st.pend);
        if (!st.pend)
            return -ENOMEM;
        runner_prefault(st.pend, RUNNER_PENDING_REPLIES * sizeof *st.pend);
        cfg->cmd_journal->sync_on_roll = cfg->durability != RUNNER_DURABILITY_ASYNC;
        cfg->evt_journal->sync_on_roll = cfg->durability == RUNNER_DURABILITY_EACH;
        cfg->evt_journal->sync_retired = cfg->durability == RUNNER_DURABILITY_GROUP;
        int rc = cfg->durability == RUNNER_DURABILITY_GROUP ? runner_syncer_start(&st.syncer, cfg->sync_cpu, &st.ctl->engine_bell) : 0;
        jrnl_log_t *const logs[2] = {cfg->cmd_journal, cfg->evt_journal};
        uint32_t spares = cfg->spare_segments ? cfg->spare_segments : 2;
        if (spares > JRNL_SPARES_MAX)
            spares = JRNL_SPARES_MAX;
        if (rc == 0 && (rc = jrnl_spare_start(&st.spare, logs, 2, spares, cfg->sync_cpu)) != 0)
            runner_syncer_stop(&st.syncer);
        if (rc == 0)                /* start of day: preallocate before taking orders */
            st.res.prealloc_ns = (uint64_t)jrnl_spare_wait_ready(&st.spare);
        if (rc != 0) {
            free(st.pend);
            return rc;
        }
    }

    atomic_store_explicit(ring_a32(&st.ctl->wait_mode), st.wait.mode, RING_RELAXED);
    /* release: wait_mode above happens-before a client's use of it; pairs with the acquire
     * load of producer_count in runner_slot_claim(), which admits clients only after this. */
    atomic_store_explicit(ring_a32(&st.ctl->producer_count), cfg->producer_count, RING_RELEASE);
    for (uint32_t i = 0; i < cfg->boot_count; i++) {
        eng_cmd_t cmd = cfg->boot_cmds[i];
        ring_reply_t ignored;
        runner_execute(&st, &cmd, 0, &ignored);
    }
    if (st.journaled)
        runner_commit(&st);
    int64_t last_hb = ring_now_ns();
    runner_heartbeat(&st, last_hb);

    while (!runner_stop_requested(&st) && !st.jerr) {
        uint32_t work = runner_pass(&st);
        int64_t now = ring_now_ns();
        if (now - last_hb >= (int64_t)cfg->heartbeat_interval_ns) {
            last_hb = now;
            runner_heartbeat(&st, now);
        }
        if (work) {
            st.wait.idle = 0;
        } else {
            st.res.idle_passes++;
            /* idle: the moment to grow the engine's resident pools ahead of its live orders
             * (a page write per new page, no call into the kernel beyond the faults it takes) */
            eng_prefault_ahead(cfg->engine);
            ring_wait_idle(&st.wait, &st.ctl->engine_bell, runner_has_work, &st);
        }
    }

    /* Stop: tell producers to submit nothing new, then drain what they already committed. A
     * producer whose reply ring stays full (dead or stuck reader) ends the drain after
     * drain_timeout_ns without progress; its records are counted as undrained. */
    ring_seg_set_state(cfg->control_seg, RING_STATE_DRAINING);
    int64_t last_progress = ring_now_ns();
    while (!st.jerr) {
        uint32_t work = runner_pass(&st);
        int64_t now = ring_now_ns();
        if (work) {
            last_progress = now;
            continue;
        }
        if (!runner_commands_pending(&st) || now - last_progress >= (int64_t)cfg->drain_timeout_ns)
            break;
        ring_cpu_relax();
    }
    if (st.journaled) {
        runner_commit(&st);
        /* a clean stop leaves the event journal's current segment durable too */
        if (!st.jerr && cfg->durability == RUNNER_DURABILITY_GROUP &&
            jrnl_log_sync(cfg->evt_journal) != 0)
            st.jerr = cfg->evt_journal->error;
    }
    st.res.undrained = runner_undrained(&st);
    st.res.events = st.events;
    st.res.last_seq = st.seq;
    st.res.sleeps = st.wait.sleeps;
    runner_heartbeat(&st, ring_now_ns());
    atomic_store_explicit(ring_a64(&st.ctl->undrained), st.res.undrained, RING_RELAXED);
    atomic_store_explicit(ring_a64(&st.ctl->sleeps), st.wait.sleeps, RING_RELAXED);
    for (uint32_t i = 0; i < cfg->seg_count; i++)
        ring_seg_set_state(&cfg->segs[i], RING_STATE_CLOSED);
    ring_seg_set_state(cfg->control_seg, RING_STATE_CLOSED);
    if (st.snap_pid) {               /* a stop waits for its snapshot: never leave a .tmp */
        int status;
        if (waitpid(st.snap_pid, &status, 0) == st.snap_pid && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0) {
            st.res.snapshots++;
            st.res.last_snapshot_seq = st.snap_seq;
        } else {
            st.res.snapshot_failures++;
        }
        st.snap_pid = 0;
    }
    st.res.journal_error = st.jerr;
    if (st.journaled) {
        runner_syncer_stop(&st.syncer);
        jrnl_spare_stop(&st.spare);
        st.res.sync_thread_cpu_ns = st.syncer.cpu_ns;
        st.res.sync_thread_realtime = (uint64_t)st.syncer.realtime;
        st.res.roll_ns_total = cfg->cmd_journal->roll_ns + cfg->evt_journal->roll_ns;
    }
    *out = st.res;
    if (st.journaled) {
        free(st.pend);
        st.pend = NULL;
    }
    return st.jerr;
}
