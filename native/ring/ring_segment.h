/*
 * ring_segment.h - create, attach, validate and retire shared-memory segments (one file each).
 *
 * Owns the segment header's life: a creator builds the file under a temporary name, fills the
 * header and control block, marks it READY and only then links it under its real name, so an
 * attacher never sees a half-built segment. Attach validates every header field and says exactly
 * what is wrong. The rings themselves (ring_spsc.h, ring_bcast.h) only use the mapping.
 */
#ifndef RING_SEGMENT_H
#define RING_SEGMENT_H

#include <stdint.h>

#include "venue_layout.h"

/* CFFI-BEGIN */
#define RING_SEG_PATH_MAX 256

/* ring_seg_create flags */
#define RING_SEG_REPLACE_STALE 1    /* replace an existing file whose creator is dead or closed */

/* A process's handle on one mapped segment (process memory, never shared). */
typedef struct ring_seg {
    uint8_t *base;                  /* the mapping, size_bytes long */
    uint64_t size_bytes;
    ring_seg_hdr_t *hdr;
    uint8_t *ctl;                   /* base + RING_SEG_CTL_OFFSET */
    uint8_t *data;                  /* base + RING_SEG_DATA_OFFSET (rings only, else NULL) */
    uint32_t kind;
    int32_t created;                /* 1: this process created it (and heartbeats it) */
    uint64_t err_found;             /* after a failed attach: the offending value found ... */
    uint64_t err_expected;          /* ... and the value wanted, where the error has one */
    char path[256];
} ring_seg_t;

/* Creates the segment file `path` of `kind` and maps it (MAP_POPULATE: prefaulted). capacity:
 * data bytes, a power of two in [RING_MIN_CAPACITY, RING_MAX_CAPACITY] for SPSC and BROADCAST,
 * 0 for CONTROL. max_record: largest record (header included) writers may put, 0 for the default
 * capacity / 8, at most capacity / 8. On a hugetlbfs directory the file size is rounded up to the
 * huge page size. Returns 0 with *seg filled and the segment READY, or RING_INVALID (bad kind,
 * capacity, max_record or path too long), RING_SEG_EXISTS (a live or foreign file has that name;
 * with RING_SEG_REPLACE_STALE a file whose creator is dead or which is CLOSED is replaced), or
 * -errno from open/ftruncate/mmap/link. On failure nothing is left behind and *seg is untouched. */
int ring_seg_create(ring_seg_t *seg, const char *path, uint32_t kind, uint64_t capacity,
                    uint32_t max_record, uint32_t flags);

/* Maps an existing segment and validates it, in this order: missing (RING_SEG_MISSING), shorter
 * than a header (RING_SEG_TRUNCATED), magic (RING_SEG_BAD_MAGIC), layout version
 * (RING_SEG_BAD_VERSION), kind (RING_SEG_BAD_KIND), file size vs header (RING_SEG_TRUNCATED),
 * capacity when capacity != 0 (RING_SEG_BAD_CAPACITY), inconsistent fields (RING_SEG_CORRUPT),
 * state INITIALISING (RING_SEG_NOT_READY) or CLOSED (RING_SEG_CLOSED), creator process gone
 * (RING_SEG_CREATOR_DEAD), and when stale_ns != 0 a heartbeat older than stale_ns
 * (RING_SEG_HEARTBEAT_STALE). Other failures: -errno. Returns 0 with *seg filled; on failure the
 * mapping is undone and seg->err_found / seg->err_expected hold the offending values where the
 * error has them (everything else in *seg untouched). */
int ring_seg_attach(ring_seg_t *seg, const char *path, uint32_t kind, uint64_t capacity,
                    uint64_t stale_ns);

/* Re-checks a mapped segment's liveness: 0, RING_SEG_CLOSED, RING_SEG_CREATOR_DEAD or (stale_ns
 * != 0) RING_SEG_HEARTBEAT_STALE. Cheap enough for a client's slow path, not for a hot loop. */
int ring_seg_check_live(const ring_seg_t *seg, uint64_t stale_ns);

/* Stores the state (release: orders everything the creator wrote before it; pairs with the
 * acquire load in ring_seg_attach / ring_seg_state). Returns 0 or RING_INVALID (unknown state). */
int ring_seg_set_state(ring_seg_t *seg, uint32_t state);
uint32_t ring_seg_state(const ring_seg_t *seg);

/* Stores now_ns as the heartbeat (relaxed: it orders nothing, a reader only compares it with
 * its own clock). */
void ring_seg_heartbeat(ring_seg_t *seg, int64_t now_ns);
int64_t ring_seg_heartbeat_ns(const ring_seg_t *seg);

/* Unmaps. The handle must not be used afterwards. Returns 0 or -errno. */
int ring_seg_detach(ring_seg_t *seg);

/* Removes a segment file by name: 0, or -errno (-ENOENT if it was not there). */
int ring_seg_unlink(const char *path);

/* 1 if the process is gone (or its pid now belongs to a process started at another time), 0 if
 * it is alive or cannot be checked. start_ticks 0 skips the start-time comparison. */
int ring_proc_dead(int32_t pid, uint64_t start_ticks);

/* CLOCK_MONOTONIC in ns: the clock of heartbeats, sequencer timestamps and probes. */
int64_t ring_now_ns(void);
/* CFFI-END */

#endif /* RING_SEGMENT_H */
