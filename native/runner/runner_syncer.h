/*
 * runner_syncer.h - the journal's sync thread for group commit: the engine thread hands it the
 * byte ranges of a closed group (both journals) and goes on matching the next group while the
 * thread runs msync; the engine releases the group's acks once the thread reports it durable.
 * One request in flight at a time. C only (no CFFI section): the runner's private helper.
 */
#ifndef RUNNER_SYNCER_H
#define RUNNER_SYNCER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "jrnl_log.h"
#include "ring_wait.h"

typedef struct runner_syncer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;
    int realtime;                   /* 1: the thread runs SCHED_FIFO (see runner_syncer_start) */
    int stop;                       /* under mu */
    uint64_t req;                   /* under mu: requests posted */
    /* the request: written by the engine under mu, read by the thread under mu */
    uint8_t *cmd_map, *evt_map;
    jrnl_durable_t cmd_durable, evt_durable;    /* how each segment is synced (jrnl_durable.c) */
    uint64_t cmd_from, cmd_to, evt_from, evt_to;
    int32_t rc;                     /* thread writes before its release store of done */
    uint64_t cpu_ns;                /* thread CPU time, written when it exits */
    _Atomic uint64_t done;          /* thread: release store after each request; engine: acquire */
    ring_doorbell_t *wake_bell;     /* rung after each request (the engine's bell: it may sleep
                                       while its group is synced); NULL: none */
} runner_syncer_t;

/* Starts the thread, pinned to cpu unless cpu < 0 (then it shares the caller's CPUs: on a
 * pinned engine it would take its time from matching); it rings wake_bell (may be NULL) after
 * each request. 0 or -errno. */
int runner_syncer_start(runner_syncer_t *s, int32_t cpu, ring_doorbell_t *wake_bell);

/* Posts the unsynced ranges of both logs ([synced_slot, next_slot) of their current segments;
 * evt may be NULL: only cmd is synced).
 * The caller guarantees no request is in flight and that neither log rolls to a new segment
 * (which unmaps the old one) before runner_syncer_poll() reported this request done. */
void runner_syncer_post(runner_syncer_t *s, const jrnl_log_t *cmd, const jrnl_log_t *evt);

/* 1 if the last posted request is done (its result in *rc: 0 or -errno from msync), 0 if it is
 * still running. With wait, blocks (yielding) until it is done. */
int runner_syncer_poll(runner_syncer_t *s, int wait, int32_t *rc);

/* Stops and joins the thread (after its current request). Safe if never started. */
void runner_syncer_stop(runner_syncer_t *s);

#endif /* RUNNER_SYNCER_H */
