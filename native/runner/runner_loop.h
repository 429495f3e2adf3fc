/*
 * runner_loop.h - the engine process's C loop: sequencer, engine call, event publication,
 * replies, heartbeat, wait strategy and a draining stop.
 *
 * Python (gateway/engine_process.py) creates the segments, the engine and the ring handles, pins
 * and locks the process, then calls runner_run(), which returns only when a stop was requested
 * (SIGTERM/SIGINT via runner_install_stop_signals, or control->stop_requested) and the command
 * rings are drained. Nothing on this path calls back into Python.
 *
 * With journals (cfg->cmd_journal), every command is appended to the input journal before the
 * engine sees it and its events to the output journal as they come; its reply and its events on
 * the broadcast log are held back until the command's records are durable as the durability
 * mode says (hold-back, not a watermark: a subscriber of the log never sees an event that could
 * be lost, and needs no rule of its own). Group commit: commands are taken and processed while
 * the group is open. A group closes when it holds group_records commands, its oldest command
 * is group_window_ns old or the loop found no command to take, once the previous group's sync
 * has finished; a closed group is synced (one msync of the command journal: the events are a
 * pure function of the commands and recovery rewrites any it lacks) by a sync thread
 * (runner_syncer.c, SCHED_FIFO where allowed) while matching goes on, and released when that
 * sync is done. So the disk sees at most one sync at a time, groups grow to the disk's pace,
 * and an ack waits at most about one window plus one or two syncs (a lone command on an idle
 * loop: one sync). The event journal becomes durable behind it: each full segment is synced by
 * the segment maker (jrnl_spare.c) and each snapshot syncs the rest first, so a snapshot never
 * needs an event that is not on disk. Segments are made ahead by that helper, never on the
 * loop.
 */
#ifndef RUNNER_LOOP_H
#define RUNNER_LOOP_H

#include <stdint.h>

#include "eng_engine.h"
#include "hdr_recorder.h"
#include "jrnl_log.h"
#include "ring_bcast.h"
#include "ring_spsc.h"
#include "ring_wait.h"

/* CFFI-BEGIN */
#define RUNNER_SINK_EVENTS 256      /* events buffered between flushes to the broadcast log */
/* Replies and events held for durability. A full hold forces a commit that stalls the loop for
 * up to two syncs, so they hold what arrives during a slow sync (about 2 ms here at 4 M/s) and
 * more. Both are held where they will be read, written once: replies claimed in their reply ring
 * and committed at the release (the ring's room bounds them too; the hold keeps 65536 claim
 * offsets, 1.5 MiB), events staged on the event log (ring_bcast_stage), at most 262144 of them
 * and half the log's capacity. */
#define RUNNER_PENDING_REPLIES 65536
#define RUNNER_PENDING_EVENTS 262144

typedef enum runner_durability {
    RUNNER_DURABILITY_ASYNC = 1,    /* ack once in the journal's page cache: survives a crash of
                                       the engine process, not of the machine */
    RUNNER_DURABILITY_GROUP = 2,    /* ack after the group's msync (the default) */
    RUNNER_DURABILITY_EACH = 3      /* msync after every command, then ack it */
} runner_durability_t;

typedef struct runner_config {
    eng_engine_t *engine;
    ring_seg_t *control_seg;        /* kind CONTROL: heartbeat, counters, producer table, bell */
    ring_seg_t *segs;               /* every segment this engine created (heartbeat, close) */
    uint32_t seg_count;
    uint32_t producer_count;        /* 1..RING_MAX_PRODUCERS */
    ring_spsc_t *cmd_rings;         /* [producer_count], consumer handles */
    ring_spsc_t *reply_rings;       /* [producer_count], producer handles */
    ring_bcast_tx_t *events;        /* the broadcast log's writer */
    const eng_cmd_t *boot_cmds;     /* sequenced and published before polling; no replies */
    uint32_t boot_count;
    uint32_t batch_limit;           /* commands taken from one producer per pass, >= 1 */
    ring_wait_t wait;
    uint64_t heartbeat_interval_ns;
    uint64_t drain_timeout_ns;      /* give up draining after this long without progress */
    jrnl_log_t *cmd_journal;        /* NULL: no journaling, replies and events go out at once */
    jrnl_log_t *evt_journal;        /* required with cmd_journal */
    uint32_t durability;            /* runner_durability_t, with journals */
    uint32_t group_records;         /* group commit: a group this big closes before its window
                                       (once the previous sync is done; not a cap: the loop never
                                       waits for the disk, groups grow while a sync is slow) */
    uint64_t group_window_ns;       /* ... and its oldest command waits at most this long */
    uint32_t group_inline_max;      /* group commit: a group of at most this many commands that
                                       closes on an idle pass (no command taken) with no sync in
                                       flight is synced on the engine thread, which would
                                       otherwise sleep: a lone order's ack skips the hand-off to
                                       the sync thread and back (two wake-ups); 0: never */
    uint32_t _pad_group;
    uint64_t start_seq;             /* last seq already journaled (recovery); 0 when fresh */
    int64_t start_ts_ns;            /* its ts_ns: sequencer timestamps never go back */
    const char *snapshot_dir;       /* with journals: where forked children write snapshots */
    uint64_t snapshot_every;        /* commands between snapshots; 0: none */
    uint64_t last_snapshot_seq;     /* seq of the newest snapshot on disk (recovery), 0: none */
    int32_t sync_cpu;               /* CPU of the sync and segment-maker threads, -1: the
                                       engine's */
    uint32_t spare_segments;        /* segments of each journal made ahead (1..JRNL_SPARES_MAX;
                                       0: 2); made before the first command is taken */
    uint32_t keep_snapshots;        /* retention: 0 keeps every segment (and the newest two
                                       snapshots); N keeps N snapshots and removes segments
                                       wholly before the oldest of them (jrnl_prune.h) */
    uint32_t _pad2;
    const char *archive_dir;        /* retention moves segments here instead (NULL: delete) */
    const hdr_hist_t *latency;      /* [HDR_STAGE_COUNT] writer handles into this engine's latency
                                       region (venue_layout.h Section 5): the engine records
                                       enqueue_to_dequeue, dequeue_to_matched and
                                       matched_to_published of stamped commands; NULL: stamps off */
} runner_config_t;

typedef struct runner_result {
    uint64_t commands;              /* sequenced (boot commands included) */
    uint64_t events;
    uint64_t bad_records;           /* malformed ring records answered with seq 0 */
    uint64_t undrained;             /* command records left at stop (reply ring never freed) */
    uint64_t last_seq;
    uint64_t sleeps;
    uint64_t syncs;                 /* journal commits that synced (msync of both journals) */
    uint64_t sync_ns_max;           /* the longest of them */
    uint64_t sync_ns_total;
    int32_t journal_error;          /* 0, or the journal failure (-errno, JRNL_*) that stopped it */
    uint32_t snapshot_failures;     /* forks refused or children that exited non-zero */
    uint64_t snapshots;             /* snapshots written (children that exited 0) */
    uint64_t snapshot_pause_ns_max; /* longest fork() pause of the loop */
    uint64_t snapshot_pause_ns_total;
    uint64_t last_snapshot_seq;
    /* where group commit spends the loop's time (bench/journal.py prints them) */
    uint64_t stall_ns_total;        /* loop waiting for the sync thread (a group that must close
                                       while the previous one is still syncing) */
    uint64_t forced_commits;        /* commits forced by a full hold buffer */
    uint64_t roll_ns_total;         /* loop time spent opening new segments */
    uint64_t sync_thread_cpu_ns;    /* CPU time of the sync thread */
    uint64_t prealloc_ns;           /* start: time spent making the first spare segments */
    uint64_t idle_passes;           /* loop passes that found no command (engine waiting) */
    uint64_t reply_room_waits;      /* polls stopped because a producer's reply ring had no room
                                       for its held replies (it is not reading them) */
    uint64_t sync_thread_realtime;  /* 1: the sync thread got SCHED_FIFO */
} runner_result_t;

/* Installs SIGTERM and SIGINT handlers that request a stop (async-signal-safe: they only store
 * to a lock-free atomic). 0 or -errno. */
int runner_install_stop_signals(void);

/* Runs until a stop is requested, then stops taking new work, drains the command rings
 * (answering every command it takes), marks every segment CLOSED and returns 0 with *out filled.
 * RING_INVALID for a bad config (nothing is touched). A journal failure (disk full, I/O error)
 * stops the loop at once without releasing anything not yet durable: it returns that error
 * (also in out->journal_error; the journals' message fields say what failed). The sequencer gives each command
 * seq = previous + 1 and ts_ns = CLOCK_MONOTONIC when it is dequeued. */
int runner_run(const runner_config_t *cfg, runner_result_t *out);
/* CFFI-END */

#endif /* RUNNER_LOOP_H */
