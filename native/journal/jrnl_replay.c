/*
 * jrnl_replay.c - replay of the command journal through eng_process (see jrnl_replay.h).
 * The engine is a pure function of its sequenced input, so the same records always give the
 * same events and state hash; a difference from the event journal is reported, never repaired.
 *
 * Where recovery's time goes (bench/journal.py, 10M commands, 27.6M events, 2-vCPU VM): the
 * engine itself; reading the journals (4.8 GB, more than any cache holds: every pass over them
 * is a pass over DRAM plus mapping their pages) and checksumming them. So:
 *  - events stay in the sink across commands, in chunks of JRNL_CHUNK_EVENTS (one flush per
 *    chunk, not per command), each event tagged with the journal position it must have;
 *  - recovery validates the event journal in the same pass as it compares it (jrnl_walk_*),
 *    while its records are in the cache, instead of in a pass of its own at open;
 *  - with a second CPU, that check runs on a checker thread: the engine thread fills chunks
 *    and publishes them in a ring of JRNL_CHUNKS; whichever thread holds the checker's lock
 *    checks the oldest one, so the engine thread does little more than a plain replay while
 *    the checker keeps up, and checks chunks itself when the ring is full (the checker thread
 *    off its CPU on a shared machine) instead of waiting;
 *  - the journals are read with non-temporal prefetches: they stream through L1 only and do
 *    not evict the engine's tables from L2 and L3 (with plain loads a check streaming on the
 *    other CPU slowed the replay 1.3-2.5x: the L3 is shared).
 */
#define _GNU_SOURCE
#include "jrnl_replay.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jrnl_crc.h"
#include "jrnl_cursor.h"
#include "ring_segment.h"

#define JRNL_CHUNK_EVENTS 256
#define JRNL_CHUNKS 256                 /* 7.6 MB of chunks between the threads */

/* Events of the replay with the journal record each must match (seq, index within its command)
 * and the ts_ns it gets if it is appended. */
typedef struct jrnl_evt_chunk {
    eng_evt_t ev[JRNL_CHUNK_EVENTS];
    uint64_t seq[JRNL_CHUNK_EVENTS];
    int64_t ts_ns[JRNL_CHUNK_EVENTS];
    uint32_t index[JRNL_CHUNK_EVENTS];
    uint32_t n;
} jrnl_evt_chunk_t;

/* The event side: compares produced events with the event journal and appends what it lacks.
 * Owned by one thread at a time (the checker thread while it runs). */
typedef struct jrnl_checker {
    jrnl_log_t *evt_log;            /* NULL: no event check */
    jrnl_cursor_t evt_cur;          /* jrnl_replay: the event journal, validated at open */
    jrnl_walk_t *evt_walk;          /* jrnl_recover: its open, validating as it goes; NULL once
                                       finished or abandoned */
    int evt_ended;                  /* 1: the journal ended, every further event is new */
    int digest;                     /* 1: keep events_crc */
    int rc;
    uint32_t events_crc;
    uint64_t checked, written, mismatch_seq;
    char message[512];
} jrnl_checker_t;

typedef struct jrnl_replay_state {
    eng_sink_t sink;
    jrnl_evt_chunk_t *chunks;       /* JRNL_CHUNKS with a checker thread, else 1 */
    jrnl_evt_chunk_t *cur;          /* the chunk the sink fills */
    uint32_t tagged;                /* cur's events [0, tagged) are tagged; the rest belong to
                                       the command being processed */
    uint32_t index;                 /* events of that command so far */
    uint64_t seq;
    int64_t ts_ns;
    uint64_t events;
    jrnl_checker_t ck;
    /* checker thread: chunks [consumed, produced) are full and not checked yet */
    int threaded;
    _Atomic uint64_t produced;
    _Atomic uint64_t consumed;
    _Atomic int done;               /* the producer published its last chunk */
    _Atomic int failed;             /* a check failed (ck.rc) */
    _Atomic int lock;               /* 1: a thread is checking a chunk (owns ck) */
    int skipped;                    /* the snapshot's past is skipped in the event journal */
    uint64_t nchunks;               /* chunks filled */
    uint64_t engine_checked;        /* chunks the engine thread checked itself */
    uint64_t from_seq;
} jrnl_replay_state_t;

/* The cursor's next record with seq <= limit: jrnl_cursor_next() without a call per record
 * inside a segment (the same checks: a zero slot or a later seq ends it); the call maps the
 * next segment. Records are trusted: the journal was validated when it was opened. */
static inline int jrnl_replay_next(jrnl_cursor_t *c, uint64_t limit, const uint8_t **rec)
{
    if (c->map && c->slot < c->records_per_segment) {
        const uint8_t *p = jrnl_slot(c->map, c->slot);
        const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)p;
        /* Non-temporal prefetch 8 records ahead: the journal passes through L1 only and does
         * not evict the engine's tables from L2 and L3 (replay only: 1.1-1.2x faster). */
        __builtin_prefetch(p + 8 * JRNL_RECORD_BYTES, 0, 0);
        __builtin_prefetch(p + 8 * JRNL_RECORD_BYTES + 64, 0, 0);
        if (h->length == 0 || h->seq > limit)
            return 0;
        c->slot++;
        c->records++;
        *rec = p;
        return 1;
    }
    return jrnl_cursor_next(c, limit, 0, rec);
}

/* 1 if the journal record at p is not event ev at (seq, index). */
static inline int jrnl_evt_differs(const uint8_t *p, uint64_t seq, uint32_t index,
                                   const eng_evt_t *ev)
{
    const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)p;
    uint64_t d = (h->seq ^ seq) | (h->index ^ index);
    const uint8_t *a = p + sizeof *h, *b = (const uint8_t *)ev;
#pragma GCC unroll 12
    for (size_t k = 0; k < sizeof *ev; k += 8) {
        uint64_t x, y;
        memcpy(&x, a + k, 8);
        memcpy(&y, b + k, 8);
        d |= x ^ y;
    }
    return d != 0;
}

static void jrnl_check_fail(jrnl_checker_t *ck, int rc, const char *message)
{
    ck->rc = rc;
    snprintf(ck->message, sizeof ck->message, "%s", message);
}

/* Gives up the event journal's open (an error): nothing more is read or written. */
static void jrnl_check_abandon(jrnl_checker_t *ck)
{
    if (ck->evt_walk)
        jrnl_walk_close(ck->evt_walk);
    ck->evt_walk = NULL;
}

/* The event journal's open (recovery) is complete: what follows its end checked, the tail
 * repaired, the writer positioned, so the events it lacks can be appended. */
static void jrnl_check_finish_open(jrnl_checker_t *ck)
{
    jrnl_walk_t *w = ck->evt_walk;
    ck->evt_walk = NULL;
    int rc = jrnl_log_open_finish(ck->evt_log, w);
    if (rc != 0)
        jrnl_check_fail(ck, rc, ck->evt_log->message);
}

/* The next record of the event journal with seq <= limit at *p: 1, or 0 if there is none
 * (the journal ended, or an error in ck->rc). */
static inline int jrnl_check_next(jrnl_checker_t *ck, uint64_t limit, const uint8_t **p)
{
    jrnl_walk_t *w = ck->evt_walk;
    if (!w) {
        int rc = jrnl_replay_next(&ck->evt_cur, limit, p);
        if (rc < 0)
            jrnl_check_fail(ck, rc, ck->evt_cur.message);
        return rc < 0 ? 0 : rc;
    }
    if (w->at_end)
        return 0;                   /* (a record beyond max_seq ended it) */
    if (w->slot == w->valid_to) {
        int rc = jrnl_walk_fill(w);
        if (rc <= 0) {
            if (rc < 0) {
                jrnl_check_fail(ck, rc, ck->evt_log->message);
                jrnl_check_abandon(ck);
            }
            return 0;
        }
    }
    *p = jrnl_slot(w->base, w->slot);
    if (((const jrnl_rec_hdr_t *)*p)->seq > limit)
        return 0;
    int rc = jrnl_walk_accept(w);
    if (rc < 0) {
        jrnl_check_fail(ck, rc, ck->evt_log->message);
        jrnl_check_abandon(ck);
    }
    return rc < 0 ? 0 : rc;
}

/* Before the first event: events of commands at or before from_seq belong to the snapshot's
 * past. */
static void jrnl_check_skip(jrnl_checker_t *ck, uint64_t from_seq)
{
    while (ck->evt_log && from_seq && ck->rc == 0) {
        const uint8_t *p;
        if (!jrnl_check_next(ck, from_seq, &p))
            break;
    }
}

/* Compares the chunk's events with the event journal's next records; appends those it lacks. */
static void jrnl_check_mismatch(jrnl_checker_t *ck, const jrnl_evt_chunk_t *c, uint32_t i,
                                const uint8_t *p)
{
    const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)p;
    ck->rc = JRNL_MISMATCH;
    ck->mismatch_seq = c->seq[i];
    snprintf(ck->message, sizeof ck->message, "%s: replay of seq %llu gives event %u that "
             "differs from the event journal's record (seq %llu index %u): the journal was not "
             "produced by this engine build", ck->evt_log->dir, (unsigned long long)c->seq[i],
             c->index[i], (unsigned long long)h->seq, h->index);
}

static void jrnl_check_chunk(jrnl_checker_t *ck, const jrnl_evt_chunk_t *c)
{
    if (ck->digest)
        ck->events_crc = jrnl_crc32c(ck->events_crc, c->ev, c->n * sizeof(eng_evt_t));
    uint32_t i = 0;
    while (ck->evt_log && ck->rc == 0 && i < c->n) {
        jrnl_walk_t *w = ck->evt_walk;
        if (w && !w->at_end && w->slot < w->valid_to) {
            /* The common case: the walk's window of checksummed records against the chunk's
             * events, in a tight loop. A record the walk does not accept (beyond the command
             * journal's end, out of order) is left to the general path below. */
            uint64_t m = w->valid_to - w->slot;
            if (m > c->n - i)
                m = c->n - i;
            for (; m > 0; m--, i++) {
                const uint8_t *p = jrnl_slot(w->base, w->slot);
                if (jrnl_walk_accept(w) != 1)
                    break;
                if (jrnl_evt_differs(p, c->seq[i], c->index[i], &c->ev[i])) {
                    jrnl_check_mismatch(ck, c, i, p);
                    return;
                }
                ck->checked++;
            }
            if (m == 0)
                continue;
        }
        const eng_evt_t *ev = &c->ev[i];
        if (!ck->evt_ended) {
            const uint8_t *p;
            uint64_t limit = ck->evt_walk ? UINT64_MAX : ck->evt_log->last_seq;
            if (jrnl_check_next(ck, limit, &p)) {
                if (jrnl_evt_differs(p, c->seq[i], c->index[i], ev)) {
                    jrnl_check_mismatch(ck, c, i, p);
                    return;
                }
                ck->checked++;
                i++;
                continue;
            }
            if (ck->rc != 0)
                return;
            ck->evt_ended = 1;
            if (ck->evt_walk)
                jrnl_check_finish_open(ck);
            if (ck->rc != 0)
                return;
        }
        int rc = jrnl_log_append(ck->evt_log, c->seq[i], c->ts_ns[i], c->index[i], ev);
        if (rc != 0) {
            jrnl_check_fail(ck, rc, ck->evt_log->message);
            return;
        }
        ck->written++;
        i++;
    }
}

/* After the last event: the event journal's open completed (the records after the last one
 * compared are still checked, a record beyond the command journal's end is cut). */
static void jrnl_check_end(jrnl_checker_t *ck)
{
    if (ck->evt_walk && ck->rc == 0)
        jrnl_check_finish_open(ck);
    jrnl_check_abandon(ck);
}

static void jrnl_replay_tag(jrnl_replay_state_t *st)
{
    jrnl_evt_chunk_t *c = st->cur;
    for (uint32_t i = st->tagged; i < st->sink.len; i++) {
        c->seq[i] = st->seq;
        c->ts_ns[i] = st->ts_ns;
        c->index[i] = st->index++;
    }
    st->tagged = st->sink.len;
}

/* Waits a little: spins first (the other side is normally on its own CPU, microseconds
 * away), then yields the CPU. */
static inline void jrnl_replay_wait(uint32_t *spins)
{
    if (++*spins < 256) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
    } else {
        sched_yield();
    }
}

/* Checks the oldest chunk not checked yet, unless someone else is checking one: 1 done, 0 not
 * now. Either thread may check (the lock orders the checker's state between them), so when the
 * checker thread is off its CPU (a shared machine) the engine thread does the check itself
 * instead of waiting for it; chunks are still checked one at a time, in order. */
static int jrnl_pipe_check_one(jrnl_replay_state_t *st)
{
    /* acquire: the checker's state as the last holder left it; pairs with the release store of
     * lock at the end of this function (by the other thread). */
    if (atomic_load_explicit(&st->lock, memory_order_relaxed) ||
        atomic_exchange_explicit(&st->lock, 1, memory_order_acquire))
        return 0;
    int did = 0;
    if (!st->skipped) {
        jrnl_check_skip(&st->ck, st->from_seq);
        st->skipped = 1;
    }
    uint64_t k = atomic_load_explicit(&st->consumed, memory_order_relaxed);
    /* acquire: pairs with the release in jrnl_replay_flush: the chunk's contents */
    if (st->ck.rc == 0 && k != atomic_load_explicit(&st->produced, memory_order_acquire)) {
        jrnl_check_chunk(&st->ck, &st->chunks[k % JRNL_CHUNKS]);
        /* release: we are done reading the chunk before the producer refills it; pairs with the
         * acquire loads of consumed in jrnl_replay_flush() and at the end of the replay. */
        atomic_store_explicit(&st->consumed, k + 1, memory_order_release);
        did = 1;
    }
    /* release (failed): the check's result before the flag; pairs with the acquire loads of
     * failed in jrnl_replay_flush(), jrnl_checker_main() and the replay's drain. release (lock):
     * the checker's state before the next holder's acquire exchange above. */
    if (st->ck.rc != 0)
        atomic_store_explicit(&st->failed, 1, memory_order_release);
    atomic_store_explicit(&st->lock, 0, memory_order_release);
    return did;
}

/* Hands the filled chunk to the checker (or checks it here) and gives the sink an empty one. */
static void jrnl_replay_flush(eng_sink_t *sink)
{
    jrnl_replay_state_t *st = (jrnl_replay_state_t *)sink->ctx;
    jrnl_replay_tag(st);            /* a flush inside eng_process: events of the current command */
    st->cur->n = sink->len;
    st->events += sink->len;
    st->nchunks++;
    if (!st->threaded) {
        jrnl_check_chunk(&st->ck, st->cur);
        st->engine_checked++;
    } else {
        uint64_t k = atomic_load_explicit(&st->produced, memory_order_relaxed) + 1;
        /* release: the chunk's contents before a checker sees it counted; pairs with the acquire
         * load of produced in jrnl_pipe_check_one(). */
        atomic_store_explicit(&st->produced, k, memory_order_release);
        uint32_t spins = 0;
        /* acquire: whoever checked the chunk we are about to refill is done reading it; pairs
         * with the release stores of consumed and failed in jrnl_pipe_check_one(). */
        while (k - atomic_load_explicit(&st->consumed, memory_order_acquire) >= JRNL_CHUNKS &&
               !atomic_load_explicit(&st->failed, memory_order_acquire)) {
            if (jrnl_pipe_check_one(st))
                st->engine_checked++;
            else
                jrnl_replay_wait(&spins);
        }
        st->cur = &st->chunks[k % JRNL_CHUNKS];
        sink->buf = st->cur->ev;
    }
    sink->len = 0;
    st->tagged = 0;
}

static void *jrnl_checker_main(void *arg)
{
    jrnl_replay_state_t *st = (jrnl_replay_state_t *)arg;
    uint32_t spins = 0;
    for (;;) {
        if (jrnl_pipe_check_one(st)) {
            spins = 0;
            continue;
        }
        /* acquire: pairs with the release store of failed in jrnl_pipe_check_one(). */
        if (atomic_load_explicit(&st->failed, memory_order_acquire))
            break;
        /* acquire: done is stored after the last chunk is counted; pairs with the release store
         * of done after the replay loop, and of consumed / produced as above. */
        if (atomic_load_explicit(&st->done, memory_order_acquire) &&
            atomic_load_explicit(&st->consumed, memory_order_acquire) ==
                atomic_load_explicit(&st->produced, memory_order_acquire))
            break;
        if (++spins > 64) {
            /* Idle: sleep rather than spin or yield, which on a shared machine takes CPU time
             * from other work and from the engine thread (measured there: the engine thread
             * off its CPU for a quarter to a third of the replay). Sleeping costs nothing: the
             * ring holds milliseconds of events, and when it is full the engine thread checks
             * chunks itself. */
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
            continue;
        }
        jrnl_replay_wait(&spins);
    }
    return NULL;
}

/* 1 if a checker thread would likely have a CPU of its own: this thread may run on more than
 * one CPU and fewer tasks are runnable than it has CPUs (/proc/loadavg's "running/total"
 * field, this thread included; three looks 1 ms apart, as a thread that just finished, such as
 * the one that made the engine, may still be counted). Without one the checker would only take
 * turns with the engine thread on a CPU and evict its caches (measured on a loaded 2-CPU
 * machine: slower than checking on the engine thread), which then checks every chunk. */
static int jrnl_replay_cpus_for_two(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) < 2)
        return 0;
    for (int look = 0; look < 3; look++) {
        if (look) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        FILE *f = fopen("/proc/loadavg", "r");
        if (!f)
            return 1;
        double l1, l5, l15;
        int running = 0, total = 0;
        int n = fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total);
        fclose(f);
        if (n != 5 || running < CPU_COUNT(&set))
            return 1;
    }
    return 0;
}

/* Where the checker writes its chunks: one static chunk (checked inline, in the flush), or a
 * ring of JRNL_CHUNKS checked on a thread of its own when allow_thread, an event journal to
 * check and a second CPU are all there. Sets st->threaded and *checker. */
static void jrnl_replay_start_checker(jrnl_replay_state_t *st, int allow_thread, pthread_t *checker)
{
    static jrnl_evt_chunk_t single;     /* static: 30 KiB off the caller's stack; replay runs
                                           once per process, before the runner */
    st->chunks = &single;
    if (allow_thread && st->ck.evt_log && jrnl_replay_cpus_for_two()) {
        void *chunks = NULL;
        if (posix_memalign(&chunks, 64, sizeof(jrnl_evt_chunk_t) * JRNL_CHUNKS) == 0) {
            st->chunks = chunks;
            st->threaded = pthread_create(checker, NULL, jrnl_checker_main, st) == 0;
            if (st->threaded) {
                pthread_setname_np(*checker, "jrnl-check");
            } else {
                free(chunks);
                st->chunks = &single;
            }
        }
    }
    if (!st->threaded)
        jrnl_check_skip(&st->ck, st->from_seq);
    st->cur = st->chunks;
    st->sink.buf = st->cur->ev;
    st->sink.cap = JRNL_CHUNK_EVENTS;
    st->sink.flush = jrnl_replay_flush;
    st->sink.ctx = st;
}

/* Every command of the cursor with from_seq < seq <= until_seq through eng_process. Returns 0,
 * or the cursor's error (its message copied to out). Stops early when a check failed. */
static int jrnl_replay_commands(jrnl_replay_state_t *st, eng_engine_t *eng, jrnl_cursor_t *cmd_cur,
                                uint64_t until_seq, jrnl_replay_result_t *out)
{
    for (;;) {
        const uint8_t *p;
        int rc = jrnl_replay_next(cmd_cur, until_seq, &p);
        if (rc <= 0) {
            if (rc < 0)
                snprintf(out->message, sizeof out->message, "%s", cmd_cur->message);
            return rc;
        }
        const jrnl_cmd_rec_t *rec = (const jrnl_cmd_rec_t *)p;
        if (rec->hdr.seq <= st->from_seq)
            continue;
        st->seq = rec->hdr.seq;
        st->ts_ns = rec->hdr.ts_ns;
        st->index = 0;
        eng_process(eng, &rec->cmd, &st->sink);
        jrnl_replay_tag(st);
        out->commands++;
        out->last_seq = st->seq;
        out->last_ts_ns = st->ts_ns;
        /* a check failed (in a flush inside eng_process, or on the checker thread): stop */
        if (st->threaded ? atomic_load_explicit(&st->failed, memory_order_relaxed)
                         : st->ck.rc != 0)
            return 0;
    }
}

/* Ends the checker thread: every chunk produced is checked (by this thread too, while it waits)
 * unless a check failed; then joins it and frees the chunk ring. */
static void jrnl_replay_join_checker(jrnl_replay_state_t *st, pthread_t checker)
{
    /* release: every chunk counted before done; pairs with the acquire load of done in
     * jrnl_checker_main(). The drain below pairs with jrnl_pipe_check_one()'s release
     * stores of consumed and failed. */
    atomic_store_explicit(&st->done, 1, memory_order_release);
    uint32_t spins = 0;
    while (atomic_load_explicit(&st->consumed, memory_order_acquire) !=
               atomic_load_explicit(&st->produced, memory_order_acquire) &&
           !atomic_load_explicit(&st->failed, memory_order_acquire)) {
        if (jrnl_pipe_check_one(st))
            st->engine_checked++;
        else
            jrnl_replay_wait(&spins);
    }
    pthread_join(checker, NULL);
    free(st->chunks);
}

/* The replay loop shared by jrnl_replay and jrnl_recover: every command of the cursor with
 * from_seq < seq <= until_seq through eng_process, events checked by st->ck (on a checker
 * thread when allow_thread and a second CPU). */
static int jrnl_replay_run(jrnl_replay_state_t *st, eng_engine_t *eng, jrnl_cursor_t *cmd_cur,
                           uint64_t from_seq, uint64_t until_seq, jrnl_replay_result_t *out,
                           int allow_thread)
{
    st->from_seq = from_seq;
    pthread_t checker;
    jrnl_replay_start_checker(st, allow_thread, &checker);
    int64_t t0 = ring_now_ns();
    int rc = jrnl_replay_commands(st, eng, cmd_cur, until_seq, out);
    if (rc == 0 && st->sink.len)
        jrnl_replay_flush(&st->sink);
    if (st->threaded)
        jrnl_replay_join_checker(st, checker);
    /* One thread again: the event journal's open completes here. */
    if (rc == 0 && st->ck.rc == 0)
        jrnl_check_end(&st->ck);
    else
        jrnl_check_abandon(&st->ck);
    st->chunks = st->cur = NULL;
    out->elapsed_ns = ring_now_ns() - t0;
    out->state_hash = eng_state_hash(eng);
    out->events = st->events;
    out->events_checked = st->ck.checked;
    out->events_written = st->ck.written;
    out->events_crc = st->ck.events_crc;
    out->mismatch_seq = st->ck.mismatch_seq;
    out->check_chunks = st->nchunks;
    out->check_chunks_inline = st->engine_checked;
    if (rc == 0 && st->ck.rc != 0) {
        rc = st->ck.rc;
        snprintf(out->message, sizeof out->message, "%s", st->ck.message);
    }
    return rc;
}

static jrnl_replay_state_t *jrnl_replay_state(jrnl_replay_result_t *out, uint64_t from_seq)
{
    static jrnl_replay_state_t st;  /* static: replay runs once per process, before the runner */
    memset(&st, 0, sizeof st);
    memset(out, 0, sizeof *out);
    out->from_seq = from_seq;
    out->last_seq = from_seq;
    return &st;
}

int jrnl_replay(eng_engine_t *eng, const char *dir, uint64_t from_seq, uint64_t until_seq,
                jrnl_log_t *evt_log, jrnl_replay_result_t *out)
{
    jrnl_replay_state_t *st = jrnl_replay_state(out, from_seq);
    st->ck.evt_log = evt_log;
    st->ck.digest = 1;
    jrnl_cursor_t cmd_cur;
    int rc = jrnl_cursor_open(&cmd_cur, dir, JRNL_KIND_CMD);
    if (rc == 0 && evt_log)
        rc = jrnl_cursor_open(&st->ck.evt_cur, dir, JRNL_KIND_EVT);
    if (rc != 0) {
        snprintf(out->message, sizeof out->message, "%s: bad journal directory", dir);
        return rc;
    }
    rc = jrnl_replay_run(st, eng, &cmd_cur, from_seq, until_seq, out, 0);
    jrnl_cursor_close(&cmd_cur);
    if (evt_log)
        jrnl_cursor_close(&st->ck.evt_cur);
    return rc < 0 ? rc : 0;
}

int jrnl_recover(eng_engine_t *eng, jrnl_log_t *cmd_log, uint64_t from_seq, jrnl_log_t *evt_log,
                 uint64_t segment_bytes, jrnl_replay_result_t *out)
{
    jrnl_replay_state_t *st = jrnl_replay_state(out, from_seq);
    jrnl_walk_t walk;
    int rc = jrnl_log_open_begin(evt_log, &walk, cmd_log->dir, JRNL_KIND_EVT, segment_bytes,
                                 cmd_log->limits, cmd_log->last_seq, JRNL_OPEN_REGENERABLE);
    if (rc != 0) {
        snprintf(out->message, sizeof out->message, "%s", evt_log->message);
        return rc;
    }
    st->ck.evt_log = evt_log;
    st->ck.evt_walk = &walk;
    jrnl_cursor_t cmd_cur;
    rc = jrnl_cursor_open(&cmd_cur, cmd_log->dir, JRNL_KIND_CMD);
    if (rc == 0) {
        rc = jrnl_replay_run(st, eng, &cmd_cur, from_seq, cmd_log->last_seq, out, 1);
    } else {
        snprintf(out->message, sizeof out->message, "%s: bad journal directory", cmd_log->dir);
        jrnl_check_abandon(&st->ck);
    }
    jrnl_cursor_close(&cmd_cur);
    return rc < 0 ? rc : 0;
}
