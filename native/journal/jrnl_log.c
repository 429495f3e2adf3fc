/*
 * jrnl_log.c - segment files of one journal: create (preallocated, header first, then linked
 * under its name), validate and repair at open, append, sync, release, roll.
 * Invariants: records are appended only at next_slot of the last segment; a segment is left
 * only when full; slots after the journal's end hold no valid record (open checks it).
 */
#define _GNU_SOURCE
#include "jrnl_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jrnl_crc.h"
#include "jrnl_spare.h"
#include "jrnl_segment.h"

int jrnl_record_valid(const uint8_t *p, uint32_t kind)
{
    const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)p;
    if (h->length != JRNL_RECORD_BYTES || h->kind != kind)
        return 0;
    return h->crc == jrnl_crc32c(0, p + JRNL_CRC_FROM, JRNL_RECORD_BYTES - JRNL_CRC_FROM);
}

/* 1 if segment file fd of `bytes` may be made durable by writeback + the device's flush. */
static int jrnl_log_fast_ok(const jrnl_log_t *log, int32_t fd, uint64_t bytes)
{
    char why[256];
    return log->flush_fd >= 0 && jrnl_durable_provable(fd, bytes, log->flush_fd, why, sizeof why);
}

/* Makes `map`/`fd` (segment log->segments) the log's current segment; fast: it passed
 * jrnl_log_fast_ok (its durable syncs take the fast path). */
static void jrnl_log_adopt(jrnl_log_t *log, uint8_t *map, int32_t fd, int fast)
{
    log->map = map;
    log->map_bytes = log->segment_bytes;
    log->fd = fd;
    log->durable.fd = fd;
    log->durable.flush_fd = fast ? log->flush_fd : -1;
    log->segment_index = log->segments;
    log->segments++;
    log->records_per_segment = (log->segment_bytes - JRNL_SEG_HDR_BYTES) / JRNL_RECORD_BYTES;
    log->next_slot = 0;
    log->synced_slot = 0;
    /* release: as in jrnl_log_release() (tailing readers take the newest header's value); pairs
     * with the acquire load of released_seq in jrnl_hdr_released() (jrnl_cursor.c). */
    atomic_store_explicit((_Atomic uint64_t *)&((jrnl_seg_hdr_t *)map)->released_seq,
                          log->released_seq, memory_order_release);
}

/* Creates and adopts segment log->segments inline (no helper thread: open, tests, tools). */
static int jrnl_segment_create(jrnl_log_t *log)
{
    uint8_t *map;
    int32_t fd;
    int rc = jrnl_segment_make(log, log->segments, &map, &fd, log->message, sizeof log->message);
    if (rc == 0)
        jrnl_log_adopt(log, map, fd, jrnl_log_fast_ok(log, fd, log->segment_bytes));
    return rc;
}

int jrnl_sync_slots(const jrnl_durable_t *d, uint8_t *base, uint64_t from_slot, uint64_t to_slot)
{
    if (to_slot <= from_slot)
        return 0;
    uint64_t off = (uint64_t)(jrnl_slot(base, from_slot) - base);
    return jrnl_durable_sync(d, base, off, (to_slot - from_slot) * JRNL_RECORD_BYTES);
}

#define JRNL_LOAD_ACQ(p) atomic_load_explicit((_Atomic uint64_t *)(p), memory_order_acquire)

/* Hands the fd of the segment being left to the helper for a background fdatasync (sync_retired),
 * after every segment retired before it is durable. */
static void jrnl_log_retire(jrnl_log_t *log, int32_t fd)
{
    if (!log->sync_retired || !log->spare_target) {
        close(fd);
        return;
    }
    while (JRNL_LOAD_ACQ(&log->retired_done) != log->retired_put)
        sched_yield();              /* rare: the helper had a whole segment's time for it */
    log->retired_fds[log->retired_put % JRNL_SPARES_MAX] = fd;
    /* release: the descriptor is stored before the helper sees the new count; pairs with the
     * acquire load of retired_put in jrnl_spare_load() (jrnl_spare.c). */
    atomic_store_explicit((_Atomic uint64_t *)&log->retired_put, log->retired_put + 1,
                          memory_order_release);
}

static int jrnl_log_roll(jrnl_log_t *log)
{
    if (log->map) {
        if (log->sync_on_roll) {
            int rc = jrnl_sync_slots(&log->durable, log->map, log->synced_slot, log->next_slot);
            if (rc != 0)
                return rc;
        }
        if (log->prev_map)
            munmap(log->prev_map, log->prev_map_bytes);
        log->prev_map = log->map;   /* kept until its header has the final released_seq */
        log->prev_map_bytes = log->map_bytes;
        jrnl_log_retire(log, log->fd);
        log->map = NULL;
        log->fd = -1;
    }
    if (!log->spare_target)
        return jrnl_segment_create(log);
    /* acquire: pairs with the helper's release store of spare_made (jrnl_spare.c): the spare's
     * slot and the file behind it are complete before we use them. */
    while (JRNL_LOAD_ACQ(&log->spare_made) == log->spare_taken) {
        if (atomic_load_explicit((_Atomic int32_t *)&log->spare_error, memory_order_acquire))
            return log->spare_error;    /* log->message: the helper's words */
        jrnl_spare_kick((jrnl_spare_t *)log->spare_owner);
        sched_yield();              /* the helper is behind: no slower than making it here */
    }
    uint32_t k = (uint32_t)(log->spare_taken % JRNL_SPARES_MAX);
    jrnl_log_adopt(log, log->spare_maps[k], log->spare_fds[k], log->spare_fast[k]);
    log->spare_maps[k] = NULL;
    log->spare_fds[k] = -1;
    /* release: our reads of the slot are done before the helper reuses it; pairs with the acquire
     * load of spare_taken in jrnl_spare_load() (jrnl_spare.c). */
    atomic_store_explicit((_Atomic uint64_t *)&log->spare_taken, log->spare_taken + 1,
                          memory_order_release);
    jrnl_spare_kick((jrnl_spare_t *)log->spare_owner);
    return 0;
}

/* Rolls to the next segment, adding the time it took to roll_ns (an appender's stall: the
 * bench reports it); a failure is sticky in log->error. */
static int jrnl_log_roll_timed(jrnl_log_t *log)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = jrnl_log_roll(log);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log->roll_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec - t0.tv_nsec);
    if (rc != 0)
        log->error = rc;
    return rc;
}

/* The slot just written is the log's newest record: advance the append position and the
 * bookkeeping recovery and the readers rely on. */
static inline void jrnl_log_advance(jrnl_log_t *log, uint64_t seq, int64_t ts_ns, uint32_t index)
{
    log->next_slot++;
    if (log->first_seq == 0)
        log->first_seq = seq;
    log->last_seq = seq;
    log->last_ts_ns = ts_ns;
    log->last_index = index;
    log->records++;
    log->appended++;
}

/* Everything of a record but its crc: header fields and payload. */
static inline void jrnl_fill_record(uint8_t *rec, const jrnl_log_t *log, uint64_t seq,
                                    int64_t ts_ns, uint32_t index, const void *payload)
{
    jrnl_rec_hdr_t *h = (jrnl_rec_hdr_t *)rec;
    h->length = JRNL_RECORD_BYTES;
    h->kind = (uint16_t)log->kind;
    h->_pad0 = 0;
    h->index = index;
    h->seq = seq;
    h->ts_ns = ts_ns;
    memcpy(rec + sizeof *h, payload, JRNL_RECORD_BYTES - sizeof *h);
}

int jrnl_log_append(jrnl_log_t *log, uint64_t seq, int64_t ts_ns, uint32_t index,
                    const void *payload)
{
    if (log->error)
        return JRNL_FAILED;
    if (!log->map || log->next_slot == log->records_per_segment) {
        int rc = jrnl_log_roll_timed(log);
        if (rc != 0)
            return rc;
    }
    uint8_t rec[JRNL_RECORD_BYTES];
    jrnl_rec_hdr_t *h = (jrnl_rec_hdr_t *)rec;
    jrnl_fill_record(rec, log, seq, ts_ns, index, payload);
    h->crc = jrnl_crc32c(0, rec + JRNL_CRC_FROM, JRNL_RECORD_BYTES - JRNL_CRC_FROM);
    uint8_t *dst = jrnl_slot(log->map, log->next_slot);
    /* Body first, crc last: a process killed inside this copy leaves a record whose crc does
     * not match (or is still 0), which recovery treats as torn. The signal fence keeps the
     * compiler from sinking the body stores below the crc store; no other thread reads the
     * slot before jrnl_log_release(), so no hardware ordering is needed. Its partner is the crc
     * check of recovery's record walk (jrnl_walk), after a crash. */
    memcpy(dst + JRNL_CRC_FROM, rec + JRNL_CRC_FROM, JRNL_RECORD_BYTES - JRNL_CRC_FROM);
    atomic_signal_fence(memory_order_seq_cst);
    memcpy(dst, rec, JRNL_CRC_FROM);
    jrnl_log_advance(log, seq, ts_ns, index);
    return 0;
}

void jrnl_crc_batch_seal(jrnl_crc_batch_t *batch)
{
    uint32_t n = batch->count;
    if (n == 0)
        return;
    uint32_t crcs[JRNL_CRC_BATCH];
    if (n == 1) {
        crcs[0] = jrnl_crc32c(0, batch->slots[0] + JRNL_CRC_FROM,
                              JRNL_RECORD_BYTES - JRNL_CRC_FROM);
    } else {
        /* Fewer than four: the spare lanes repeat the last record (free: they run in parallel). */
        const void *bufs[JRNL_CRC_BATCH];
        for (uint32_t k = 0; k < JRNL_CRC_BATCH; k++)
            bufs[k] = batch->slots[k < n ? k : n - 1] + JRNL_CRC_FROM;
        jrnl_crc32c_x4_ptrs(bufs, JRNL_RECORD_BYTES - JRNL_CRC_FROM, crcs);
    }
    /* The bodies were stored before this (jrnl_log_append_batched); the fence keeps the
     * compiler from sinking them below the crc stores, as in jrnl_log_append() (partner: the crc
     * check of recovery's record walk). */
    atomic_signal_fence(memory_order_seq_cst);
    for (uint32_t k = 0; k < n; k++)
        memcpy(batch->slots[k], &crcs[k], sizeof crcs[k]);
    batch->count = 0;
}

int jrnl_log_append_batched(jrnl_log_t *log, uint64_t seq, int64_t ts_ns, uint32_t index,
                            const void *payload, jrnl_crc_batch_t *batch)
{
    if (log->error)
        return JRNL_FAILED;
    if (!log->map || log->next_slot == log->records_per_segment) {
        jrnl_crc_batch_seal(batch);     /* the segment being left is complete before the roll */
        int rc = jrnl_log_roll_timed(log);
        if (rc != 0)
            return rc;
    }
    uint8_t *dst = jrnl_slot(log->map, log->next_slot);
    jrnl_rec_hdr_t *h = (jrnl_rec_hdr_t *)dst;
    /* A free slot is all zero (open zeroes what follows the journal's end); the crc stays 0,
     * so until the seal the record reads as torn (stored anyway: never trust a stale one). The
     * compiler-only fence keeps the zero crc before the body; partner: the fence in
     * jrnl_crc_batch_seal() and recovery's crc check. */
    h->crc = 0;
    atomic_signal_fence(memory_order_seq_cst);
    jrnl_fill_record(dst, log, seq, ts_ns, index, payload);
    batch->slots[batch->count++] = dst;
    if (batch->count == JRNL_CRC_BATCH)
        jrnl_crc_batch_seal(batch);
    jrnl_log_advance(log, seq, ts_ns, index);
    return 0;
}

int jrnl_log_sync(jrnl_log_t *log)
{
    if (log->error)
        return JRNL_FAILED;
    if (!log->map)
        return 0;
    int rc = jrnl_sync_slots(&log->durable, log->map, log->synced_slot, log->next_slot);
    if (rc != 0) {
        log->error = rc;
        jrnl_say(log->message, sizeof log->message, "%s: sync of segment %llu failed: %s",
                 log->dir, (unsigned long long)log->segment_index, strerror(-rc));
        return rc;
    }
    log->synced_slot = log->next_slot;
    log->syncs++;
    return 0;
}

void jrnl_log_release(jrnl_log_t *log, uint64_t seq)
{
    log->released_seq = seq;
    /* release: the records (plain stores in jrnl_log_append) happen-before a tailing reader's
     * reads of them; pairs with the acquire load of released_seq in jrnl_hdr_released()
     * (jrnl_cursor.c, for jrnl_tail_events). */
    if (log->prev_map) {
        atomic_store_explicit((_Atomic uint64_t *)&((jrnl_seg_hdr_t *)log->prev_map)->released_seq,
                              seq, memory_order_release);
        munmap(log->prev_map, log->prev_map_bytes);
        log->prev_map = NULL;
    }
    if (log->map)   /* the same release for the current segment (pairs with jrnl_hdr_released) */
        atomic_store_explicit((_Atomic uint64_t *)&((jrnl_seg_hdr_t *)log->map)->released_seq,
                              seq, memory_order_release);
}

void jrnl_log_close(jrnl_log_t *log)
{
    if (log->prev_map)
        munmap(log->prev_map, log->prev_map_bytes);
    if (log->map)
        munmap(log->map, log->map_bytes);
    if (log->map && log->fd >= 0)
        close(log->fd);
    if (log->flush_owned)
        close(log->flush_fd);
    log->flush_owned = 0;
    log->flush_fd = -1;
    log->durable = (jrnl_durable_t){.fd = -1, .flush_fd = -1};
    log->prev_map = NULL;
    log->map = NULL;
    log->fd = -1;
}

/* Segment indexes present: sets *first to the lowest and *count to 1 + the highest index found
 * (0: none) and returns 0, or JRNL_BAD_SEGMENT if an index between them is missing. A missing
 * prefix is retention (jrnl_prune.c removes segments lowest first), a missing middle is not. */
static int jrnl_list_segments(jrnl_log_t *log, uint64_t *first, uint64_t *count)
{
    DIR *d = opendir(log->dir);
    if (!d)
        return -errno;
    const char *name = jrnl_kind_name(log->kind);
    size_t nlen = strlen(name);
    uint64_t found = 0, highest = 0, lowest = UINT64_MAX;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        const char *f = ent->d_name;
        if (strncmp(f, name, nlen) != 0 || f[nlen] != '-' || strlen(f) != nlen + 1 + 16 + 5 ||
            strcmp(f + nlen + 17, ".jrnl") != 0)
            continue;
        char *end;
        unsigned long long idx = strtoull(f + nlen + 1, &end, 10);
        if (end != f + nlen + 17)
            continue;
        found++;
        if (idx + 1 > highest)
            highest = idx + 1;
        if (idx < lowest)
            lowest = idx;
    }
    closedir(d);
    if (!found)
        lowest = 0;
    *first = lowest;                /* also on a gap: a regenerable journal is cut there */
    *count = highest;
    if (found != highest - lowest) {
        jrnl_say(log->message, sizeof log->message, "%s: %s segments missing: %llu files for "
                 "indexes %llu..%llu", log->dir, name, (unsigned long long)found,
                 (unsigned long long)lowest, (unsigned long long)(highest - 1));
        return JRNL_BAD_SEGMENT;
    }
    *first = lowest;
    *count = highest;
    return 0;
}

int jrnl_walk_seq_error(jrnl_walk_t *w)
{
    const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)jrnl_slot(w->base, w->slot);
    jrnl_log_t *log = w->log;
    jrnl_say(log->message, sizeof log->message, "%s: %s segment %llu record %llu: seq %llu "
             "index %u after seq %llu index %u breaks the sequence", log->dir,
             jrnl_kind_name(w->kind), (unsigned long long)w->seg, (unsigned long long)w->slot,
             (unsigned long long)h->seq, h->index, (unsigned long long)w->prev_seq,
             w->prev_index);
    return JRNL_SEQ_GAP;
}

void jrnl_walk_close(jrnl_walk_t *w)
{
    if (w->base)
        munmap(w->base, w->bytes);
    w->base = NULL;
}

/* Maps segment s (read-only, header and capacities checked) in place of the walk's one. */
static int jrnl_walk_map(jrnl_walk_t *w, uint64_t s)
{
    jrnl_walk_close(w);
    jrnl_log_t *log = w->log;
    int rc = jrnl_segment_map(log->dir, w->kind, s, 0, log->limits, &w->base, &w->bytes, NULL,
                              log->message, sizeof log->message);
    if (rc != 0) {
        w->base = NULL;
        return rc;
    }
    w->seg = s;
    w->rps = (w->bytes - JRNL_SEG_HDR_BYTES) / JRNL_RECORD_BYTES;
    w->slot = 0;
    w->valid_to = 0;
    return 0;
}

int jrnl_walk_fill(jrnl_walk_t *w)
{
    for (;;) {
        if (w->at_end)
            return 0;
        if (w->slot < w->valid_to)
            return (int)(w->valid_to - w->slot);
        if (!w->base || w->slot == w->rps) {
            uint64_t next = w->base ? w->seg + 1 : w->first_seg;
            if (next >= w->nseg) {
                /* The last segment is full (or there is none): the next append rolls. */
                w->at_end = 1;
                w->end_seg = w->base ? w->seg : 0;
                w->end_slot = w->base ? w->rps : 0;
                return 0;
            }
            int rc = jrnl_walk_map(w, next);
            if (rc != 0)
                return rc;
            continue;
        }
        /* Checksums four records at a time (four independent crc32 chains: about 2.5x one
         * chain), a window at a time: the consumer reads the records right after, while they
         * are still in the cache. */
        uint64_t n = w->rps - w->slot < JRNL_WALK_WINDOW ? w->rps - w->slot : JRNL_WALK_WINDOW;
        uint64_t good = 0;
        while (good < n) {
            const uint8_t *p = jrnl_slot(w->base, w->slot + good);
            /* Non-temporal prefetch 48 records ahead: the journal streams through L1 only,
             * instead of through L2 and L3 where it would evict the engine's tables (a replay
             * on the other CPU ran 1.3-2.5x slower beside a check streaming with plain loads;
             * the window of records stays in L1 for the caller). */
            for (uint64_t q = 0; q < 4 * JRNL_RECORD_BYTES; q += 64)
                __builtin_prefetch(p + 48 * JRNL_RECORD_BYTES + q, 0, 0);
            uint32_t crcs[4];
            uint64_t k = n - good >= 4 ? 4 : 1;
            if (k == 4)
                jrnl_crc32c_x4(p + JRNL_CRC_FROM, JRNL_RECORD_BYTES,
                               JRNL_RECORD_BYTES - JRNL_CRC_FROM, crcs);
            else
                crcs[0] = jrnl_crc32c(0, p + JRNL_CRC_FROM, JRNL_RECORD_BYTES - JRNL_CRC_FROM);
            uint64_t j = 0;
            for (; j < k; j++) {
                const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)(p + j * JRNL_RECORD_BYTES);
                if (h->length != JRNL_RECORD_BYTES || h->kind != w->kind || h->crc != crcs[j])
                    break;
            }
            good += j;
            if (j < k)
                break;
        }
        if (good) {
            w->valid_to = w->slot + good;
            return (int)good;
        }
        /* Not a complete record of this journal: the journal ends here (a never-written slot,
         * or a torn one, which finish truncates unless valid records follow). */
        const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)jrnl_slot(w->base, w->slot);
        if (h->length != 0 || h->crc != 0)
            w->log->truncated_records++;
        w->at_end = 1;
        w->end_seg = w->seg;
        w->end_slot = w->slot;
        return 0;
    }
}

int jrnl_log_open_begin(jrnl_log_t *log, jrnl_walk_t *w, const char *dir, uint32_t kind,
                        uint64_t segment_bytes, const uint32_t *limits, uint64_t max_seq,
                        uint32_t flags)
{
    memset(log, 0, sizeof *log);
    memset(w, 0, sizeof *w);
    log->fd = -1;
    log->flush_fd = -1;
    log->durable = (jrnl_durable_t){.fd = -1, .flush_fd = -1};
    log->kind = kind;
    log->segment_bytes = segment_bytes;
    w->log = log;
    w->kind = kind;
    w->flags = flags;
    w->max_seq = max_seq;
    w->at_end = 1;                  /* nothing to walk until the segments are listed */
    if (!dir || !jrnl_kind_name(kind) || strlen(dir) >= sizeof log->dir || !limits ||
        segment_bytes < 4096 + JRNL_SEG_HDR_BYTES || segment_bytes % JRNL_RECORD_BYTES != 0) {
        jrnl_say(log->message, sizeof log->message, "journal: bad arguments (directory, kind %u "
                 "or segment size %llu: at least 4224 and a multiple of 128)", kind,
                 (unsigned long long)segment_bytes);
        return JRNL_INVALID;
    }
    strcpy(log->dir, dir);
    memcpy(log->limits, limits, sizeof log->limits);
    int readonly = (flags & JRNL_OPEN_READONLY) != 0;
    if (!readonly && mkdir(dir, 0755) != 0 && errno != EEXIST) {
        int e = errno;
        jrnl_say(log->message, sizeof log->message, "%s: cannot create journal directory: %s",
                 dir, strerror(e));
        return -e;
    }
    if (!readonly && access(dir, W_OK) != 0) {
        int e = errno;
        jrnl_say(log->message, sizeof log->message, "%s: journal directory not writable: %s",
                 dir, strerror(e));
        return -e;
    }
    uint64_t nseg = 0, first_seg = 0;
    int rc = jrnl_list_segments(log, &first_seg, &nseg);
    if (rc == -ENOENT && readonly)
        return 0;                   /* no journal at all: empty (finish reports it so) */
    if (rc == JRNL_BAD_SEGMENT && (flags & JRNL_OPEN_REGENERABLE) && !readonly) {
        /* A segment missing in the middle of a journal the commands can regenerate: it ends
         * before the gap, finish removes the files after it and says so, and the replay writes
         * the rest again. (A command journal with a gap stays refused.) */
        uint64_t k = first_seg;
        char path[JRNL_PATH_MAX + 32];
        while (k < nseg && jrnl_segment_path(path, sizeof path, dir, kind, k) == 0 &&
               access(path, F_OK) == 0)
            k++;
        w->stray_to = nseg;
        nseg = k;
        rc = 0;
    }
    if (rc != 0) {
        if (rc < 0 && rc > -2000)   /* an errno; JRNL_* codes (-20xx) left their own message */
            jrnl_say(log->message, sizeof log->message, "%s: cannot list: %s", dir,
                     strerror(-rc));
        return rc;
    }
    w->first_seg = first_seg;
    w->nseg = nseg;
    /* After retention the first segment may start in the middle of a command's events. */
    w->pruned_start = first_seg > 0;
    w->at_end = 0;
    return 0;
}

/* Pass 1's second half: the slots after the journal's end. A valid record after a bad slot is
 * corruption in the middle (refused) or, in a regenerable journal, a hole (cut there). */
static int jrnl_check_after_end(jrnl_log_t *log, jrnl_walk_t *w)
{
    if (w->nseg == 0)
        return 0;
    for (uint64_t s = w->end_seg; s < w->nseg; s++) {
        if (s != w->end_seg || !w->base || w->seg != s) {
            int rc = jrnl_walk_map(w, s);
            if (rc != 0)
                return rc;
        }
        for (uint64_t i = s == w->end_seg ? w->end_slot + 1 : 0; i < w->rps; i++) {
            const uint8_t *p = jrnl_slot(w->base, i);
            const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)p;
            if (h->length == 0 && h->crc == 0)
                continue;
            log->truncated_records++;
            if (w->end_is_cut || h->length == 0 || !jrnl_record_valid(p, w->kind))
                continue;
            if (w->flags & JRNL_OPEN_REGENERABLE) {
                w->holes = 1;       /* cut at the hole: everything after it is zeroed */
                continue;
            }
            jrnl_say(log->message, sizeof log->message, "%s: corrupt %s record in the middle of "
                     "the journal: segment %llu offset %llu fails its checksum but a valid "
                     "record (seq %llu) follows at segment %llu offset %llu; refusing to start "
                     "(restore the journal or cut it there by hand)", log->dir,
                     jrnl_kind_name(w->kind), (unsigned long long)w->end_seg,
                     (unsigned long long)(JRNL_SEG_HDR_BYTES + w->end_slot * JRNL_RECORD_BYTES),
                     (unsigned long long)h->seq, (unsigned long long)s,
                     (unsigned long long)(JRNL_SEG_HDR_BYTES + i * JRNL_RECORD_BYTES));
            return JRNL_CORRUPT;
        }
    }
    return 0;
}

/* Pass 1 (read-only): accepts the records not accepted yet, then checks what follows the end. */
static int jrnl_open_pass1(jrnl_log_t *log, jrnl_walk_t *w)
{
    int rc;
    while ((rc = jrnl_walk_fill(w)) > 0) {
        for (int n = rc; n > 0; n--) {
            rc = jrnl_walk_accept(w);
            if (rc <= 0)
                break;
        }
        if (rc < 0)
            break;
    }
    if (rc == 0)
        rc = jrnl_check_after_end(log, w);
    jrnl_walk_close(w);
    return rc;
}

/* Pass 2's repair of the end segment (mapped at base, rps slots): zeroes the torn or cut slots
 * from the end on (all of them up to the segment's end where there are holes), syncs them, and
 * removes the segment files after the end (and after a gap). Returns 0 or -errno. */
static int jrnl_repair_end(const jrnl_log_t *log, const jrnl_walk_t *w, uint8_t *base, uint64_t rps)
{
    uint64_t zero_to = w->end_slot;
    while (zero_to < rps) {
        jrnl_rec_hdr_t *h = (jrnl_rec_hdr_t *)jrnl_slot(base, zero_to);
        if (h->length == 0 && h->crc == 0 && !w->holes)
            break;                  /* without holes the rest of the segment is zero */
        if (h->length != 0 || h->crc != 0)
            memset(h, 0, JRNL_RECORD_BYTES);
        zero_to++;
    }
    const jrnl_durable_t msync_only = {.fd = -1, .flush_fd = -1};    /* rare: no need to be fast */
    int rc = jrnl_sync_slots(&msync_only, base, w->end_slot, zero_to);
    char path[JRNL_PATH_MAX + 32];
    for (uint64_t s = w->stray_to; rc == 0 && s > w->nseg; s--) {     /* after a gap */
        jrnl_segment_path(path, sizeof path, log->dir, w->kind, s - 1);
        if (unlink(path) != 0 && errno != ENOENT)
            rc = -errno;
    }
    for (uint64_t s = w->nseg; rc == 0 && s > w->end_seg + 1; s--) {
        jrnl_segment_path(path, sizeof path, log->dir, w->kind, s - 1);
        if (unlink(path) != 0)
            rc = -errno;
    }
    return rc;
}

/* The start-up message that says what a repair did (nothing when the journal ended cleanly).
 * end_damaged: the slot that ends the valid records was written (torn or corrupt), not zero. */
static void jrnl_say_repair(jrnl_log_t *log, const jrnl_walk_t *w, int end_damaged)
{
    const char *dir = log->dir, *kind = jrnl_kind_name(w->kind);
    unsigned long long end_off = JRNL_SEG_HDR_BYTES + w->end_slot * JRNL_RECORD_BYTES;
    unsigned long long last = log->last_seq, cut = log->truncated_records;
    if (w->stray_to > w->nseg)
        jrnl_say(log->message, sizeof log->message, "%s: %s journal repaired: segment %llu is "
                 "missing (segment files up to %llu exist after it); the journal is cut at the "
                 "gap (the files after it removed) and the replay rewrites every later record "
                 "from the command journal; continuing after seq %llu", dir, kind,
                 (unsigned long long)w->nseg, (unsigned long long)(w->stray_to - 1), last);
    else if (cut && w->holes && !w->end_is_cut && end_damaged)
        /* Said as what it is: damage with valid records after it, repaired from the authority. */
        jrnl_say(log->message, sizeof log->message, "%s: %s journal repaired: the record at "
                 "segment %llu offset %llu (after the records of seq %llu) is damaged (checksum "
                 "mismatch) although valid records follow it; the journal is cut there (%llu "
                 "record slot(s) discarded) and the replay rewrites every later record from the "
                 "command journal (events are a function of the commands); continuing after seq "
                 "%llu", dir, kind, (unsigned long long)w->end_seg, end_off, last, cut, last);
    else if (cut)
        jrnl_say(log->message, sizeof log->message, "%s: %s journal: %s %llu record(s) at "
                 "segment %llu offset %llu (after seq %llu); continuing after seq %llu", dir, kind,
                 w->end_is_cut ? "cut off (beyond the command journal's end)"
                 : w->holes ? "hole (records the machine lost before they were written back), "
                              "never-written slots with valid records after them: repaired by "
                              "cutting the journal there, the replay rewrites every later record "
                              "from the command journal;"
                 : "torn last record (checksum mismatch), truncated",
                 cut, (unsigned long long)w->end_seg, end_off, last, last);
}

/* Pass 2: repair (zero torn or cut slots, remove segments after the end), map the end. */
static int jrnl_open_end(jrnl_log_t *log, jrnl_walk_t *w)
{
    uint8_t *base;
    uint64_t bytes;
    int32_t fd;
    int rc = jrnl_segment_map(log->dir, w->kind, w->end_seg, 1, log->limits, &base, &bytes, &fd,
                              log->message, sizeof log->message);
    if (rc != 0)
        return rc;
    uint64_t rps = (bytes - JRNL_SEG_HDR_BYTES) / JRNL_RECORD_BYTES;
    /* What ends the valid records: a never-written (zero) slot, or a damaged one. */
    const jrnl_rec_hdr_t *end_hdr = w->end_slot < rps
        ? (const jrnl_rec_hdr_t *)jrnl_slot(base, w->end_slot) : NULL;
    int end_damaged = end_hdr && (end_hdr->length != 0 || end_hdr->crc != 0);
    rc = jrnl_repair_end(log, w, base, rps);
    if (rc != 0) {
        jrnl_say(log->message, sizeof log->message, "%s: cannot repair the journal's end: %s",
                 log->dir, strerror(-rc));
        munmap(base, bytes);
        close(fd);
        return rc;
    }
    jrnl_say_repair(log, w, end_damaged);
    log->map = base;
    log->map_bytes = bytes;
    log->fd = fd;
    log->durable.fd = fd;
    log->durable.flush_fd = jrnl_log_fast_ok(log, fd, bytes) ? log->flush_fd : -1;
    log->segment_index = w->end_seg;
    log->segments = w->end_seg + 1;
    log->records_per_segment = rps;
    log->next_slot = w->end_slot;
    log->synced_slot = w->end_slot;
    return 0;
}

int jrnl_log_open_finish(jrnl_log_t *log, jrnl_walk_t *w)
{
    int rc = jrnl_open_pass1(log, w);
    if (rc != 0)
        return rc;
    log->released_seq = log->last_seq;   /* what survived recovery counts as released */
    if (w->flags & JRNL_OPEN_READONLY)
        return 0;
    /* The directory's flush file (jrnl_durable.c); without it every sync is an msync (the
     * directory is writable: begin checked it, so this fails only as a new segment would). */
    char why[JRNL_MESSAGE_MAX];
    int32_t ffd = jrnl_flush_file_open(log->dir, why, sizeof why);
    log->flush_fd = ffd >= 0 ? ffd : -1;
    log->flush_owned = ffd >= 0;
    rc = w->nseg == 0 ? jrnl_segment_create(log) : jrnl_open_end(log, w);
    if (rc != 0 && log->flush_owned) {
        close(log->flush_fd);
        log->flush_fd = -1;
        log->flush_owned = 0;
    }
    return rc;
}

int jrnl_log_open(jrnl_log_t *log, const char *dir, uint32_t kind, uint64_t segment_bytes,
                  const uint32_t *limits, uint64_t max_seq, uint32_t flags)
{
    jrnl_walk_t w;
    int rc = jrnl_log_open_begin(log, &w, dir, kind, segment_bytes, limits, max_seq, flags);
    return rc != 0 ? rc : jrnl_log_open_finish(log, &w);
}
