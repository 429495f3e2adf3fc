/*
 * runner_loop.h - the engine process's C loop: sequencer, engine call, event publication,
 * replies, heartbeat, wait strategy and a draining stop.
 *
 * Python (gateway/engine_process.py) creates the segments, the engine and the ring handles, pins
 * and locks the process, then calls runner_run(), which returns only when a stop was requested
 * (SIGTERM/SIGINT via runner_install_stop_signals, or control->stop_requested) and the command
 * rings are drained. Nothing on this path calls back into Python.
 */
#ifndef RUNNER_LOOP_H
#define RUNNER_LOOP_H

#include <stdint.h>

#include "eng_engine.h"
#include "ring_bcast.h"
#include "ring_spsc.h"
#include "ring_wait.h"

/* CFFI-BEGIN */
#define RUNNER_SINK_EVENTS 256      /* events buffered between flushes to the broadcast log */

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
} runner_config_t;

typedef struct runner_result {
    uint64_t commands;              /* sequenced (boot commands included) */
    uint64_t events;
    uint64_t bad_records;           /* malformed ring records answered with seq 0 */
    uint64_t undrained;             /* command records left at stop (reply ring never freed) */
    uint64_t last_seq;
    uint64_t sleeps;
} runner_result_t;

/* Installs SIGTERM and SIGINT handlers that request a stop (async-signal-safe: they only store
 * to a lock-free atomic). 0 or -errno. */
int runner_install_stop_signals(void);

/* Requests a stop from this process (tests and embedding). */
void runner_request_stop(void);

/* Runs until a stop is requested, then stops taking new work, drains the command rings
 * (answering every command it takes), marks every segment CLOSED and returns 0 with *out filled.
 * RING_INVALID for a bad config (nothing is touched). The sequencer gives each command
 * seq = previous + 1 and ts_ns = CLOCK_MONOTONIC when it is dequeued. */
int runner_run(const runner_config_t *cfg, runner_result_t *out);
/* CFFI-END */

#endif /* RUNNER_LOOP_H */
