/*
 * jrnl_cursor.h - a sequential reader of one journal (recovery's replay, the drop copy's tail).
 *
 * It maps one segment at a time read-only and moves to the next segment when the current one is
 * exhausted and the next file exists, so it can follow a journal that is still being written.
 * It never writes. Records are trusted only up to a limit the caller gives (the seq recovery
 * validated, or released_seq for a live tail), so it never hands out a record being written.
 */
#ifndef JRNL_CURSOR_H
#define JRNL_CURSOR_H

#include <stdint.h>

#include "venue_layout.h"

/* CFFI-BEGIN */
typedef struct jrnl_cursor {
    uint8_t *map;                     /* the segment being read, NULL before the first */
    uint64_t map_bytes;
    uint64_t records_per_segment;
    uint64_t segment_index;
    uint64_t slot;                    /* next slot to read in it */
    uint64_t records;                 /* records returned so far */
    uint32_t kind;
    uint32_t _pad0;
    char dir[256];
    char message[512];
} jrnl_cursor_t;

/* Prepares a cursor at the start of the journal of `kind` in dir (nothing is mapped yet).
 * 0 or JRNL_INVALID. */
int jrnl_cursor_open(jrnl_cursor_t *c, const char *dir, uint32_t kind);

/* The next record with seq <= limit_seq: returns 1 and sets *rec (valid until the next call);
 * 0 if there is none now (end of what is written, or the next record's seq > limit_seq: the
 * cursor stays there); JRNL_CORRUPT (check_crc and a record below the limit fails its check),
 * or a segment error (JRNL_BAD_*, -errno) with c->message saying which file. */
int jrnl_cursor_next(jrnl_cursor_t *c, uint64_t limit_seq, int check_crc, const uint8_t **rec);

/* Moves the cursor to the first record with seq >= seq (of the journal as written now): by
 * segment (the first record of each later segment) and then by binary search inside one, so a
 * reader that resumes near the end of a long journal does not walk it. 1 positioned on a
 * record, 0 every record is older (the cursor is at the end), or a segment error as for
 * jrnl_cursor_next. */
int jrnl_cursor_seek(jrnl_cursor_t *c, uint64_t seq);

/* Copies up to max records with seq <= limit_seq (checksums checked) into hdrs[i] and
 * payloads[i] (96 bytes each). Returns the number copied (0: none now) or a negative error as
 * for jrnl_cursor_next. One call per batch. */
int32_t jrnl_cursor_read(jrnl_cursor_t *c, uint64_t limit_seq, jrnl_rec_hdr_t *hdrs,
                         uint8_t *payloads, uint32_t max);

/* Live tail of an event journal for consumers such as the drop copy: copies up to max released
 * events (seq <= the writer's released_seq) into out, and their seqs into seqs. Returns the
 * number copied (0: nothing new) or a negative error as for jrnl_cursor_next. One call per
 * batch: Python never crosses into C per record. */
int32_t jrnl_tail_events(jrnl_cursor_t *c, eng_evt_t *out, uint32_t max);

/* The released_seq of the segment the cursor is in (0 before the first segment exists). */
uint64_t jrnl_cursor_released(jrnl_cursor_t *c);

/* Unmaps the cursor's current segment; closing a closed cursor is a no-op. Never fails. */
void jrnl_cursor_close(jrnl_cursor_t *c);
/* CFFI-END */

#endif /* JRNL_CURSOR_H */
