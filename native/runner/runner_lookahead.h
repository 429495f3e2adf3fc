/*
 * runner_lookahead.h - the commands waiting in a producer's command ring behind the one the
 * engine is about to process, seen without taking them, so that the engine's batch prefetch runs
 * on the venue's own path: whenever a ring holds several commands, each one gets the prefetch
 * stages of eng_prefetch_schedule ENG_PREFETCH_FAR, MID and NEAR commands before the engine
 * reaches it, exactly as in eng_submit and the benchmark loop (native/bench/eng_perf.c). A ring
 * holding one command gets nothing: there is no look-ahead the live path does not have.
 */
#ifndef RUNNER_LOOKAHEAD_H
#define RUNNER_LOOKAHEAD_H

#include <stdint.h>

#include "eng_engine.h"
#include "ring_spsc.h"

#define RUNNER_LOOKAHEAD 32         /* records looked at per scan of the ring */

typedef struct runner_lookahead {
    const eng_cmd_t *cmd[RUNNER_LOOKAHEAD]; /* cmd[pos]: the record at the read position; NULL
                                               for a record that is not a command */
    uint32_t n, pos;
} runner_lookahead_t;

/* Forgets the window (call when starting on a ring). */
void runner_lookahead_reset(runner_lookahead_t *la);

/* Called before the record at in's read position is taken: rescans the ring when the window runs
 * short (restoring the read position: nothing is consumed) and issues the prefetch stages for the
 * commands behind that record. Reads only; the engine's state and events are unaffected. */
void runner_lookahead_prefetch(runner_lookahead_t *la, ring_spsc_t *in, const eng_engine_t *eng);

/* The record at the read position was taken. */
static inline void runner_lookahead_advance(runner_lookahead_t *la) { la->pos++; }

#endif /* RUNNER_LOOKAHEAD_H */
