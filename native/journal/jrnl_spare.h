/*
 * jrnl_spare.h - the journal's segment maker: a helper thread that keeps the next segment of
 * each journal ready (created with real zero blocks, named, synced, mapped and pre-faulted
 * writable), so a roll on the order path swaps two pointers instead of writing and syncing a
 * whole segment (about 40 ms for 64 MiB measured here) and instead of taking one page fault per
 * 4 KiB afterwards. It also fdatasyncs the segments a roll retired (jrnl_log_t.sync_retired).
 * The handshakes are SPSC counters in jrnl_log_t. C only (no CFFI section): the runner's
 * private helper.
 */
#ifndef JRNL_SPARE_H
#define JRNL_SPARE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "jrnl_log.h"

#define JRNL_SPARE_MAX_LOGS 2

typedef struct jrnl_spare {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;
    int stop;                       /* under mu */
    _Atomic int prefaulted;         /* the current segments' rest is pre-faulted (start) */
    uint32_t count;
    jrnl_log_t *logs[JRNL_SPARE_MAX_LOGS];
} jrnl_spare_t;

/* Attaches the logs (each open for writing) and starts the thread, pinned to cpu unless
 * cpu < 0, which keeps `spares` (1..JRNL_SPARES_MAX) segments ready ahead of each log. 0 or
 * -errno (then nothing is attached). */
int jrnl_spare_start(jrnl_spare_t *sp, jrnl_log_t *const *logs, uint32_t count, uint32_t spares,
                     int32_t cpu);

/* Waits until every log has its spares made or the helper failed (start of day: the venue
 * preallocates before it takes orders). Returns the time it waited in ns. */
int64_t jrnl_spare_wait_ready(jrnl_spare_t *sp);

/* Wakes the thread after a writer took a spare or retired a segment. Safe with NULL. */
void jrnl_spare_kick(jrnl_spare_t *sp);

/* Stops and joins the thread (after the segment it is making), detaches the logs and removes
 * unused spares (an empty segment after the journal's end is harmless, but tidy). Safe if never
 * started. */
void jrnl_spare_stop(jrnl_spare_t *sp);

#endif /* JRNL_SPARE_H */
