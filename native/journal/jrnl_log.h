/*
 * jrnl_log.h - one journal (commands or events): a directory of preallocated, memory-mapped
 * segment files of fixed 128-byte CRC32C-checked records (layout: venue_layout.h, Section 6).
 *
 * jrnl_log_open() scans and validates what is there (headers, every record's checksum, sequence
 * order), zeroes a torn last record (and says so in log->message), refuses corruption in the
 * middle, another layout version or another engine's capacities, and positions the writer at the
 * end. Appends are memory copies; jrnl_log_sync() makes them durable (jrnl_durable_sync: the
 * range's writeback and the device's cache flush where that is provable, else msync MS_SYNC,
 * a data-integrity fsync of the range: mm/msync.c -> vfs_fsync_range(datasync=1));
 * jrnl_log_release() publishes released_seq for tailing readers. One writer per directory and kind.
 */
#ifndef JRNL_LOG_H
#define JRNL_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "jrnl_durable.h"
#include "venue_layout.h"

/* CFFI-BEGIN */
#define JRNL_PATH_MAX 256
#define JRNL_MESSAGE_MAX 512
#define JRNL_OPEN_READONLY 1          /* validate and report only: repair, create and keep nothing */
#define JRNL_OPEN_REGENERABLE 2       /* an event journal that recovery's replay completes: a
                                         valid record after a bad slot is a hole left by a machine
                                         crash (group commit syncs events behind the commands),
                                         so the journal is cut at the hole, not refused */
#define JRNL_DEFAULT_SEGMENT_BYTES 67108864
#define JRNL_SPARES_MAX 8

typedef struct jrnl_log {
    uint8_t *map;                     /* the last segment, mapped read-write (NULL: none yet) */
    uint8_t *prev_map;                /* the segment before it, until its header got the last
                                         released_seq (see jrnl_log_release) */
    uint64_t map_bytes;
    uint64_t prev_map_bytes;
    int32_t fd;
    uint32_t kind;                    /* jrnl_kind_t */
    uint64_t segment_bytes;           /* size of segments this handle creates */
    uint64_t records_per_segment;     /* of the mapped segment */
    uint64_t segment_index;           /* of the mapped segment */
    uint64_t segments;                /* segment files: indexes 0 .. segments-1 */
    uint64_t next_slot;               /* next free slot in the mapped segment */
    uint64_t synced_slot;             /* slots below it are on disk (jrnl_log_sync) */
    uint64_t first_seq;               /* seq of the journal's first record, 0 if empty */
    uint64_t last_seq;                /* seq of its last record, 0 if empty */
    uint64_t released_seq;            /* what jrnl_log_release last published (open: last_seq) */
    int64_t last_ts_ns;
    uint32_t last_index;
    uint32_t sync_on_roll;            /* 1: msync a full segment before moving on */
    uint64_t records;                 /* valid records found at open plus appended since */
    uint64_t appended;
    uint64_t syncs;
    uint64_t roll_ns;                 /* time appends spent opening new segments */
    uint64_t truncated_records;       /* torn (or beyond max_seq) records zeroed at open */
    uint32_t limits[4];               /* engine max_orders, max_levels, max_instruments,
                                         max_accounts the journal belongs to */
    int32_t error;                    /* first failure that made the log unusable, else 0 */
    uint32_t _pad0;
    /* Segments made ahead by a helper thread (jrnl_spare.c), so a roll on the order path only
     * swaps mappings: created with real zero blocks, named, synced, mapped and pre-faulted
     * writable. An SPSC ring of JRNL_SPARES_MAX: the helper makes spare number k (segment
     * spare_base + k) into slot k % JRNL_SPARES_MAX and then stores spare_made = k + 1 (release);
     * the writer takes them in order and stores spare_taken (release). spare_target == 0: no
     * helper, a roll creates the segment inline. spare_error != 0: the helper failed (disk
     * full); once the made ones are used up the roll fails with it. */
    uint8_t *spare_maps[8];
    int32_t spare_fds[8];
    uint8_t spare_fast[8];            /* 1: the spare passed jrnl_durable_provable */
    uint64_t spare_made;
    uint64_t spare_taken;
    uint64_t spare_base;
    uint32_t spare_target;            /* spares to keep ready, <= JRNL_SPARES_MAX */
    int32_t spare_error;
    /* With sync_retired (a journal not synced per group: the event journal in group mode), a
     * roll hands the segment it left to the helper, which fdatasyncs and closes it; the ring of
     * retired descriptors works like the spares (retired_put by the writer, retired_done by
     * the helper). The writer never has more than JRNL_SPARES_MAX in flight (else it syncs
     * inline), and a roll waits for retired_done to cover every segment before the one it
     * leaves, so when segment c is current every segment before c - 1 is durable. */
    int32_t retired_fds[8];
    uint64_t retired_put;
    uint64_t retired_done;
    uint32_t sync_retired;
    uint32_t _pad1;
    /* How the current segment is made durable (jrnl_durable.c): durable.fd is fd, and
     * durable.flush_fd is flush_fd when the segment passed jrnl_durable_provable, else -1
     * (msync). flush_fd: the journal directory's flush file, opened by open (not read-only),
     * closed by close when flush_owned; -1 if it could not be made (msync throughout). */
    jrnl_durable_t durable;
    int32_t flush_fd;
    uint32_t flush_owned;
    void *spare_owner;                /* the jrnl_spare_t to wake after taking the spare */
    char dir[256];
    char message[512];                /* what open repaired, or why a call failed, in words */
} jrnl_log_t;

/* Opens (creating the directory and segment 0 if needed) the journal of `kind` in dir. limits:
 * the engine's 4 capacities (stored in new segments, compared with existing ones). Records with
 * seq > max_seq are cut off like a torn tail (the event journal is cut at the command journal's
 * last seq). segment_bytes: size of new segments, at least one page and a multiple of 128.
 * Returns 0 (log->message says what was repaired, empty if nothing) or JRNL_INVALID,
 * JRNL_BAD_MAGIC, JRNL_BAD_VERSION, JRNL_BAD_SEGMENT, JRNL_BAD_CONFIG, JRNL_CORRUPT,
 * JRNL_SEQ_GAP, -errno (-EACCES, -EROFS, -ENOSPC, ...); on failure log->message names the file
 * and offset and nothing has been changed on disk. With JRNL_OPEN_READONLY nothing is written
 * and no mapping is kept: the log only reports first_seq, last_seq and records. */
int jrnl_log_open(jrnl_log_t *log, const char *dir, uint32_t kind, uint64_t segment_bytes,
                  const uint32_t *limits, uint64_t max_seq, uint32_t flags);

/* Appends one record (payload: 96 bytes). Rolls to a new segment when the current one is full.
 * 0, or -errno / JRNL_FAILED once a roll failed (disk full: -ENOSPC); after a failure every
 * call returns JRNL_FAILED and nothing more is written. Never waits for the disk. */
int jrnl_log_append(jrnl_log_t *log, uint64_t seq, int64_t ts_ns, uint32_t index,
                    const void *payload);

/* Makes every appended record durable. 0, or -errno (then log->error is set). */
int jrnl_log_sync(jrnl_log_t *log);

/* Publishes released_seq = seq (<= last_seq: records up to it are complete and, per the
 * durability mode, durable) in the segment headers for tailing readers. Cannot fail. */
void jrnl_log_release(jrnl_log_t *log, uint64_t seq);

/* Unmaps and closes (no sync). Safe on a log that failed to open or was closed. */
void jrnl_log_close(jrnl_log_t *log);
/* CFFI-END */

/* Records appended by jrnl_log_append_batched() whose crc is not stored yet: their bodies are
 * in their slots with crc 0 (a torn record to recovery) until jrnl_crc_batch_seal() checksums
 * them four lanes at a time (jrnl_crc32c_x4_ptrs) and stores the crcs, in append order. The
 * on-disk record is the same as jrnl_log_append() writes. Invariant kept by the caller: the
 * batch is sealed before anything reads, syncs or releases those records (a commit, a release,
 * a snapshot), and jrnl_log_append_batched seals it itself before a roll, so a segment is never
 * left (synced on roll, retired, unmapped) with an unsealed record. */
#define JRNL_CRC_BATCH 4
typedef struct jrnl_crc_batch {
    uint8_t *slots[JRNL_CRC_BATCH];
    uint32_t count;
} jrnl_crc_batch_t;

/* As jrnl_log_append(), but the record's crc is left to `batch` (sealed here when it is full). */
int jrnl_log_append_batched(jrnl_log_t *log, uint64_t seq, int64_t ts_ns, uint32_t index,
                            const void *payload, jrnl_crc_batch_t *batch);

/* Checksums and completes the batch's records (stores their crcs, oldest first). Cannot fail. */
void jrnl_crc_batch_seal(jrnl_crc_batch_t *batch);

/* Record slot i of a mapped segment. */
static inline uint8_t *jrnl_slot(uint8_t *base, uint64_t i)
{
    return base + JRNL_SEG_HDR_BYTES + i * JRNL_RECORD_BYTES;
}

/* 1 if the next append will open a new segment (and unmap the one before the current). */
static inline int jrnl_log_will_roll(const jrnl_log_t *log)
{
    return !log->map || log->next_slot == log->records_per_segment;
}

/* Makes record slots [from, to) of the segment mapped at base durable, as d says
 * (jrnl_durable_sync: the segment's jrnl_log_t.durable, or a copy of it). 0 or -errno. */
int jrnl_sync_slots(const jrnl_durable_t *d, uint8_t *base, uint64_t from, uint64_t to);

/* 1 if the record at p is complete and belongs to a journal of `kind`. */
int jrnl_record_valid(const uint8_t *p, uint32_t kind);

/* Open in two halves, so that recovery can validate the event journal in the same pass over
 * its memory as the replay compares it (jrnl_replay.c) instead of in a pass of its own.
 * jrnl_log_open() is jrnl_log_open_begin() + jrnl_log_open_finish(); in between, the caller may
 * take records with jrnl_walk_fill() / jrnl_walk_accept(), which apply exactly the checks of
 * open's scan (length, kind, crc, sequence order, max_seq) in journal order. finish continues
 * the walk from the first record not accepted, so every record is checked either way, then
 * checks the slots after the end (corruption in the middle refused, holes, torn tail) and
 * repairs; until it returns nothing is written. */
#define JRNL_WALK_WINDOW 64             /* records crc-checked per jrnl_walk_fill() */
typedef struct jrnl_walk {
    jrnl_log_t *log;
    uint64_t max_seq;                   /* a record beyond it ends the journal (cut) */
    uint32_t flags;                     /* JRNL_OPEN_* */
    uint32_t kind;
    uint64_t first_seg, nseg;           /* segment files first_seg .. nseg-1 */
    uint8_t *base;                      /* the mapped segment (read-only), NULL: none yet */
    uint64_t bytes;
    uint64_t seg;
    uint64_t rps;                       /* its record slots */
    uint64_t slot;                      /* next slot to accept */
    uint64_t valid_to;                  /* slots [slot, valid_to) are complete records: length,
                                           kind and crc checked */
    int at_end;                         /* 1: end_seg/end_slot is the journal's end */
    int end_is_cut;                     /* 1: the end is a record beyond max_seq, not a bad slot */
    int pruned_start;                   /* 1: segments before the first were removed (retention) */
    int holes;                          /* set by finish: valid records after a bad slot */
    uint64_t end_seg, end_slot;         /* first slot after the last good record */
    uint64_t prev_seq;
    uint32_t prev_index;
    uint32_t _pad0;
    uint64_t stray_to;                  /* regenerable journal with a missing segment: the walk
                                           stops before the gap (nseg); files nseg+1 .. stray_to-1
                                           are after it and finish removes them; 0: no gap */
} jrnl_walk_t;

/* Checks the arguments, creates the directory (unless JRNL_OPEN_READONLY), lists the segments
 * and starts the walk; maps nothing yet. 0 or the jrnl_log_open codes (log->message). Close the
 * walk with jrnl_log_open_finish() or jrnl_walk_close(). */
int jrnl_log_open_begin(jrnl_log_t *log, jrnl_walk_t *w, const char *dir, uint32_t kind,
                        uint64_t segment_bytes, const uint32_t *limits, uint64_t max_seq,
                        uint32_t flags);

/* Makes records available: > 0: slots [w->slot, w->valid_to) hold complete records (a window
 * of up to JRNL_WALK_WINDOW within the mapped segment); 0: the journal ends at w->slot (a
 * zero, torn or foreign slot, or the end of the last segment); < 0: a segment that cannot be
 * mapped or has a bad header (log->message). */
int jrnl_walk_fill(jrnl_walk_t *w);

/* Reports a sequence break at the record at w->slot: JRNL_SEQ_GAP, log->message says where. */
int jrnl_walk_seq_error(jrnl_walk_t *w);

/* Accepts the record at w->slot (which must be < w->valid_to) after checking its order against
 * the one before: 1 accepted (w->slot moves on, the log's first/last seq and count follow),
 * 0 it is beyond max_seq (the journal is cut there: w->at_end), or JRNL_SEQ_GAP. */
static inline int jrnl_walk_accept(jrnl_walk_t *w)
{
    const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)jrnl_slot(w->base, w->slot);
    if (h->seq > w->max_seq) {
        w->log->truncated_records++;
        w->at_end = 1;
        w->end_is_cut = 1;
        w->end_seg = w->seg;
        w->end_slot = w->slot;
        return 0;
    }
    int ok;
    if (w->kind == JRNL_KIND_CMD)
        ok = (w->prev_seq == 0 ? h->seq >= 1 : h->seq == w->prev_seq + 1) &&
             h->index <= RING_MAX_PRODUCERS;    /* its producer slot + 1 */
    else
        ok = w->prev_seq == 0 ? (h->index == 0 || w->pruned_start)
             : (h->seq == w->prev_seq ? h->index == w->prev_index + 1
                                      : h->seq > w->prev_seq && h->index == 0);
    if (!ok)
        return jrnl_walk_seq_error(w);
    w->prev_seq = h->seq;
    w->prev_index = h->index;
    jrnl_log_t *log = w->log;
    if (log->first_seq == 0)
        log->first_seq = h->seq;
    log->last_seq = h->seq;
    log->last_ts_ns = h->ts_ns;
    log->last_index = h->index;
    log->records++;
    w->slot++;
    return 1;
}

/* Finishes the open begun by jrnl_log_open_begin(): walks (and checks) the records not
 * accepted yet, the slots after the end, then repairs and positions the writer, all as
 * jrnl_log_open() documents. Closes the walk. */
int jrnl_log_open_finish(jrnl_log_t *log, jrnl_walk_t *w);

/* Unmaps the walk's segment (an open abandoned between begin and finish). */
void jrnl_walk_close(jrnl_walk_t *w);

#endif /* JRNL_LOG_H */
