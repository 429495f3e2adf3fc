/*
 * ring_bcast.h - single-writer, many-reader broadcast log (the engine's event stream).
 *
 * Shape and ordering argument: venue_layout.h, Section 4 (W1-W2, R1-R3). The writer never waits
 * and never reads anything a reader writes, so a slow or dead reader cannot hold it up. Each
 * reader keeps its cursor in its own memory; one that falls more than `capacity` bytes behind
 * detects the lap, counts it, jumps to the latest record and says RING_LAPPED, never returning
 * bytes that were being overwritten.
 */
#ifndef RING_BCAST_H
#define RING_BCAST_H

#include <stdint.h>

#include "ring_segment.h"

/* Headers reach cffi in name order, so this one is parsed before ring_segment.h: it names the
 * segment handle by its struct tag, which cffi (like C) lets a later declaration complete. */

/* CFFI-BEGIN */
typedef struct ring_bcast_tx {
    ring_bcast_ctl_t *ctl;
    uint8_t *data;
    uint64_t capacity;
    uint64_t mask;
    uint32_t max_record;
    uint32_t _pad0;
    uint64_t tail;                  /* private: end of the last record written, published or
                                       only staged (only we write it); >= the shared tail */
    uint64_t records;               /* records written */
    uint64_t latest;                /* start of the last record written */
} ring_bcast_tx_t;

/* A point in what the writer has written: ring_bcast_publish makes everything before it
 * visible to readers at once. */
typedef struct ring_bcast_mark {
    uint64_t tail, latest, records;
} ring_bcast_mark_t;

typedef struct ring_bcast_rx {
    ring_bcast_ctl_t *ctl;
    uint8_t *data;
    uint64_t capacity;
    uint64_t mask;
    uint32_t max_record;
    uint32_t _pad0;
    uint64_t cursor;                /* next position to read (private) */
    uint64_t received;              /* records returned */
    uint64_t lapped;                /* times this reader was lapped */
    uint64_t lapped_bytes;          /* bytes skipped over because of laps */
} ring_bcast_rx_t;

/* Binds a writer handle to a mapped BROADCAST segment, continuing at its shared tail.
 * 0 or RING_INVALID. Only one writer may exist per segment. */
int ring_bcast_tx_init(ring_bcast_tx_t *tx, const struct ring_seg *seg);

/* Appends one record (type > 0, `length` payload bytes) and publishes it with everything
 * staged before it. Never waits. 0, RING_INVALID (type <= 0) or RING_TOO_BIG (8 + length >
 * max_record). */
int ring_bcast_transmit(ring_bcast_tx_t *tx, int32_t type, const void *src, uint32_t length);

/* Writes one record after the last one written without publishing it (step W1, not W2): readers
 * see it once a ring_bcast_publish covers it. For a writer that must hold records back until
 * some condition (the journal's durability) without copying them twice. What is staged and not
 * yet published must stay well under the capacity (readers further behind than the capacity
 * minus it are lapped). Results as ring_bcast_transmit. */
int ring_bcast_stage(ring_bcast_tx_t *tx, int32_t type, const void *src, uint32_t length);

/* Where the writer is now (after the last record staged or transmitted). */
ring_bcast_mark_t ring_bcast_written(const ring_bcast_tx_t *tx);

/* Publishes every record before m (a mark from ring_bcast_written, not older than what is
 * already published) with one release store (W2). */
void ring_bcast_publish(ring_bcast_tx_t *tx, ring_bcast_mark_t m);

/* Bytes staged and not yet published. */
uint64_t ring_bcast_unpublished(const ring_bcast_tx_t *tx);

/* Binds a reader handle; it starts at the current tail (it sees what is published from now on).
 * 0 or RING_INVALID. */
int ring_bcast_rx_init(ring_bcast_rx_t *rx, const struct ring_seg *seg);

/* Copies the next record's payload into dst (at most dst_cap bytes) and sets *type, *length.
 * Returns 1 (a record), RING_EMPTY (nothing new), RING_LAPPED (the reader fell behind: nothing
 * was copied that can be trusted, the cursor moved to the latest record, rx->lapped counts it),
 * RING_INVALID (dst_cap smaller than the record; the cursor stays), RING_SEG_CORRUPT. */
int ring_bcast_receive(ring_bcast_rx_t *rx, void *dst, uint32_t dst_cap, int32_t *type,
                       uint32_t *length);

/* Copies up to max records, each as its 8-byte header followed by the payload padded to 8 bytes,
 * back to back into dst (dst_cap bytes); *used_bytes gets the bytes written. Returns the number of records copied (>= 0); stops early
 * at a lap (sets *lapped to 1; the records before it are good), when the next record does not fit
 * in dst, or when nothing more is published. A negative return is RING_SEG_CORRUPT. */
int32_t ring_bcast_receive_batch(ring_bcast_rx_t *rx, uint8_t *dst, uint64_t dst_cap,
                                 uint32_t max, uint32_t *lapped, uint64_t *used_bytes);

/* Bytes published but not yet read by this reader (may exceed capacity: it will be lapped). */
uint64_t ring_bcast_backlog(const ring_bcast_rx_t *rx);
/* CFFI-END */

#endif /* RING_BCAST_H */
