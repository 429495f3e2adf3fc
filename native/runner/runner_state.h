/*
 * runner_state.h - the engine loop's state, shared by the runner's files (C only, no CFFI
 * section: the runner's private interface). Who owns what:
 *   runner_loop.c     the loop: passes over the producers, the wait, heartbeat, the stop's drain;
 *   runner_execute.c  one command: sequence, journal append, engine, events, its reply;
 *   runner_durable.c  durability: hold a group's replies and events, close it, sync it (here or
 *                     on the sync thread, runner_syncer.c), release it;
 *   runner_publish.c  release to the producers: events onto the log, replies, doorbells;
 *   runner_snapshot.c snapshots forked at quiescent points, and their children reaped.
 * Calls go down that list's dependency order only (loop -> execute -> durable -> publish;
 * loop -> snapshot), never back (tests/native/test_no_call_cycles.py).
 */
#ifndef RUNNER_STATE_H
#define RUNNER_STATE_H

#include <stdint.h>

#include "eng_engine.h"
#include "jrnl_log.h"
#include "jrnl_spare.h"
#include "runner_loop.h"
#include "runner_syncer.h"

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


/* runner_execute.c: points st->sink at st->buf and the loop's flush (the engine's events go
 * through it to the journal and the broadcast log). */
void runner_sink_init(runner_state_t *st);
/* runner_execute.c: takes up to limit commands from producer p (fewer when its reply ring or, in
 * journaled mode, the hold is full, or on a journal failure), executes each and answers it
 * through runner_hold_reply. Returns how many were taken. */
uint32_t runner_poll_producer(runner_state_t *st, uint32_t p, uint32_t limit);
/* runner_execute.c: sequences and executes a command outside the rings (boot commands, source 0);
 * its reply is filled in *reply and not sent anywhere. */
void runner_execute(runner_state_t *st, eng_cmd_t *cmd, uint32_t source, ring_reply_t *reply);

/* runner_durable.c, journaled mode: starts the sync thread (group commit) and the segment maker
 * and allocates the hold; preallocates the first spare segments (start of day). 0 or -errno /
 * the journal error, with nothing left running. */
int runner_durable_start(runner_state_t *st);
/* runner_durable.c: stops the threads runner_durable_start started and frees the hold, copying
 * their counters into st->res. Safe when not journaled. */
void runner_durable_stop(runner_state_t *st);
/* runner_durable.c: before a command is taken: in journaled mode, a full hold is committed first
 * (a forced commit). 1: take it, 0: a journal failure (st->jerr) stops taking. */
int runner_hold_room(runner_state_t *st);
/* runner_durable.c: the reply claimed at offset roff in producer p's reply ring is complete.
 * Plain mode: committed now (the producer is woken after the pass); journaled: held until its
 * group is durable (EACH closes the group at once). */
void runner_hold_reply(runner_state_t *st, uint32_t p, int32_t roff);
/* runner_durable.c: before appending to log: a roll of the command journal waits for the sync
 * thread to finish with the old segment. */
void runner_before_append(runner_state_t *st, const jrnl_log_t *log);
/* runner_durable.c: releases a synced group; closes the open group when it is due (work: the
 * commands this pass took; 0 means the loop found none, so nothing more will share a sync).
 * Returns 1 when quiescent afterwards (nothing held, nothing with the sync thread, no journal
 * failure), else 0. */
int runner_maybe_commit(runner_state_t *st, uint32_t work);
/* runner_durable.c: everything held becomes durable and is released before this returns (full
 * hold, boot, stop). 0 or the journal error (also in st->jerr). */
int runner_commit(runner_state_t *st);
/* runner_durable.c: 1 when a group with the sync thread has finished (the loop has work: its
 * release), else 0. */
int runner_sync_done(runner_state_t *st);

/* runner_publish.c: wakes the producers marked in st->notify and the readers asleep on the event
 * log (one full fence for all bells). */
void runner_wake(runner_state_t *st);
/* runner_publish.c: a stamped command's events are on the log: records matched_to_published and
 * sets the reply's enqueue_to_published_ns. */
void runner_lat_published(const runner_state_t *st, uint64_t enqueue, uint64_t matched,
                          uint64_t published, ring_reply_t *reply);
/* runner_publish.c: releases held items up to (rep_end, ev_end) and announces seq to the
 * journals' tailing readers: events onto the broadcast log in sequence order, then the replies,
 * then the bells. The caller has made their records durable per the mode. */
void runner_release(runner_state_t *st, uint64_t rep_end, uint64_t ev_end,
                    ring_bcast_mark_t ev_mark, uint64_t seq);

/* runner_snapshot.c: reaps a finished snapshot child; with quiescent (every command the engine
 * has seen durable and released), starts a new snapshot once snapshot_every commands have passed
 * since the last one. Failures are counted in st->res, never fatal. */
void runner_snapshot_tick(runner_state_t *st, int quiescent);
/* runner_snapshot.c: at stop, waits for a snapshot child still writing (never leaves a .tmp). */
void runner_snapshot_finish(runner_state_t *st);

#endif /* RUNNER_STATE_H */
