/*
 * ring_spsc.h - single-producer/single-consumer ring of variable-length framed records.
 *
 * Shape and ordering argument: venue_layout.h, Section 4 (P0-P2, C1-C2). Each side uses its own
 * ring_spsc_t handle in its own process memory; one handle is either the producer or the consumer,
 * never both. Calls shaped like liburing: claim, fill, commit; peek, consume, release (once per
 * batch). A full ring never drops: claim returns RING_FULL and writes nothing.
 */
#ifndef RING_SPSC_H
#define RING_SPSC_H

#include <stdint.h>

#include "ring_segment.h"

/* CFFI-BEGIN */
typedef struct ring_spsc {
    ring_spsc_ctl_t *ctl;
    uint8_t *data;
    uint64_t capacity;
    uint64_t mask;
    uint32_t max_record;
    uint32_t peek_bytes;            /* consumer: aligned size of the record peek returned */
    uint64_t tail;                  /* producer: next position to claim (private copy) */
    uint64_t head_cache;            /* producer: last head read from shared memory */
    uint64_t read_pos;              /* consumer: next position to read (private) */
    uint64_t released;              /* consumer: last head it published */
    uint64_t full_count;            /* producer: claims refused with RING_FULL */
} ring_spsc_t;

/* One record found by ring_spsc_read_batch: payload at data + offset, `length` payload bytes. */
typedef struct ring_msg {
    uint32_t offset;
    uint32_t length;
    int32_t type;
    uint32_t _pad0;
} ring_msg_t;

/* Binds a handle to a mapped SPSC segment, picking up the shared positions (so a re-attached
 * producer or consumer resumes where its predecessor stopped). 0, or RING_INVALID if seg is not
 * a mapped SPSC segment. */
int ring_spsc_init(ring_spsc_t *r, const ring_seg_t *seg);

/* Producer. Claims room for a record of `length` payload bytes and `type` (> 0). Returns the
 * payload's offset in r->data (>= 0): fill it, then ring_spsc_commit(offset). RING_FULL: no room
 * now, nothing written (try again). RING_INVALID: type <= 0. RING_TOO_BIG: 8 + length exceeds
 * max_record. Claims must be committed (or aborted) in claim order before the next claim. */
int32_t ring_spsc_claim(ring_spsc_t *r, int32_t type, uint32_t length);

/* Producer. Publishes a claimed record. 0, or RING_INVALID if offset is not an open claim. */
int ring_spsc_commit(ring_spsc_t *r, int32_t offset);

/* Producer. Turns a claimed record into padding the consumer skips. 0 or RING_INVALID. */
int ring_spsc_abort(ring_spsc_t *r, int32_t offset);

/* Producer. claim + copy + commit. 0, RING_FULL, RING_INVALID or RING_TOO_BIG as for claim. */
int ring_spsc_write(ring_spsc_t *r, int32_t type, const void *src, uint32_t length);

/* Producer. 1 if a record of `length` payload bytes can be claimed now (re-reading head only if
 * the cached copy says no), else 0. */
int ring_spsc_has_room(ring_spsc_t *r, uint32_t length);

/* Consumer. The next complete record, skipping padding: returns its payload offset in r->data
 * and sets *type and *length; RING_EMPTY if none is complete yet; RING_SEG_CORRUPT if a length
 * word is impossible (memory was overwritten). Also RING_EMPTY once a whole capacity has been
 * consumed without ring_spsc_release: release, then peek again. Steps over padding, otherwise
 * does not move the read position. */
int32_t ring_spsc_peek(ring_spsc_t *r, int32_t *type, uint32_t *length);

/* Consumer. Steps past the record the last successful peek returned. The payload stays valid
 * until ring_spsc_release. */
void ring_spsc_consume(ring_spsc_t *r);

/* Consumer. Peeks and consumes up to max records into out; returns how many (0 if none). */
uint32_t ring_spsc_read_batch(ring_spsc_t *r, ring_msg_t *out, uint32_t max);

/* Consumer. Gives everything consumed back to the producer: zeroes it and publishes head once.
 * Returns the number of bytes released. */
uint64_t ring_spsc_release(ring_spsc_t *r);

/* Consumer. 1 if a complete record (or padding) waits at the read position, else 0. */
int ring_spsc_ready(ring_spsc_t *r);

/* Another thread of the consumer's process, watching for it while it blocks: 1 if a complete
 * record (or padding) waits at position pos (the consumer's read_pos, handed over through an
 * atomic), else 0. A hint (relaxed load): the consumer reads the record with ring_spsc_peek. */
int ring_spsc_ready_at(const ring_spsc_t *r, uint64_t pos);
/* CFFI-END */

#endif /* RING_SPSC_H */
