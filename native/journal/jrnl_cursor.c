/*
 * jrnl_cursor.c - sequential, read-only walk over a journal's segments (see jrnl_cursor.h).
 */
#define _GNU_SOURCE
#include "jrnl_cursor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jrnl_log.h"
#include "jrnl_prune.h"
#include "jrnl_segment.h"

int jrnl_cursor_open(jrnl_cursor_t *c, const char *dir, uint32_t kind)
{
    memset(c, 0, sizeof *c);
    if (!dir || strlen(dir) >= sizeof c->dir || (kind != JRNL_KIND_CMD && kind != JRNL_KIND_EVT))
        return JRNL_INVALID;
    strcpy(c->dir, dir);
    c->kind = kind;
    return 0;
}

/* Maps segment `index` if its file exists: 1 mapped, 0 not there (yet), < 0 error. */
static int jrnl_cursor_map(jrnl_cursor_t *c, uint64_t index)
{
    char path[JRNL_PATH_MAX + 32];
    if (jrnl_segment_path(path, sizeof path, c->dir, c->kind, index) != 0)
        return JRNL_INVALID;
    if (access(path, F_OK) != 0)
        return 0;
    uint8_t *base;
    uint64_t bytes;
    int rc = jrnl_segment_map(c->dir, c->kind, index, 0, NULL, &base, &bytes, NULL, c->message,
                              sizeof c->message);
    if (rc != 0)
        return rc;
    if (c->map)
        munmap(c->map, c->map_bytes);
    c->map = base;
    c->map_bytes = bytes;
    c->records_per_segment = (bytes - JRNL_SEG_HDR_BYTES) / JRNL_RECORD_BYTES;
    c->segment_index = index;
    c->slot = 0;
    return 1;
}

/* Maps the journal's lowest segment (0 unless retention removed older ones). */
static int jrnl_cursor_map_first(jrnl_cursor_t *c)
{
    uint64_t first;
    int rc = jrnl_first_segment(c->dir, c->kind, &first);
    if (rc == -ENOENT)
        return 0;
    return rc < 0 ? rc : jrnl_cursor_map(c, first);
}

int jrnl_cursor_next(jrnl_cursor_t *c, uint64_t limit_seq, int check_crc, const uint8_t **rec)
{
    if (!c->map) {
        int rc = jrnl_cursor_map_first(c);
        if (rc <= 0)
            return rc;
    }
    if (c->slot == c->records_per_segment) {
        int rc = jrnl_cursor_map(c, c->segment_index + 1);
        if (rc <= 0)
            return rc;
    }
    const uint8_t *p = jrnl_slot(c->map, c->slot);
    const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)p;
    if (h->length == 0 || h->seq > limit_seq)
        return 0;
    if (check_crc && !jrnl_record_valid(p, c->kind)) {
        snprintf(c->message, sizeof c->message, "%s: record at segment %llu offset %llu fails "
                 "its checksum", c->dir, (unsigned long long)c->segment_index,
                 (unsigned long long)(JRNL_SEG_HDR_BYTES + c->slot * JRNL_RECORD_BYTES));
        return JRNL_CORRUPT;
    }
    c->slot++;
    c->records++;
    *rec = p;
    return 1;
}

/* Seq of a mapped segment's record at slot, UINT64_MAX for a slot never written (the unwritten
 * tail sorts after every record). */
static uint64_t jrnl_cursor_seq_at(const jrnl_cursor_t *c, uint64_t slot)
{
    const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)jrnl_slot(c->map, slot);
    return h->length == 0 ? UINT64_MAX : h->seq;
}

int jrnl_cursor_seek(jrnl_cursor_t *c, uint64_t seq)
{
    if (!c->map) {
        int rc = jrnl_cursor_map_first(c);
        if (rc <= 0)
            return rc;
    }
    /* Records are ordered by seq across segments (the events of one seq may straddle two), so
     * the first record >= seq is in the last segment whose first record is < seq, or at the
     * start of the one after it. A segment is mapped only to read its first record. */
    for (;;) {
        uint64_t here = c->segment_index;
        int rc = jrnl_cursor_map(c, here + 1);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;                  /* no later segment: stay in this one */
        if (jrnl_cursor_seq_at(c, 0) >= seq) {
            rc = jrnl_cursor_map(c, here);      /* the target is before it: back one */
            if (rc <= 0)
                return rc < 0 ? rc : JRNL_BAD_SEGMENT;
            break;
        }
    }
    uint64_t lo = 0, hi = c->records_per_segment;   /* first slot with seq >= target */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (jrnl_cursor_seq_at(c, mid) < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    c->slot = lo;
    if (lo == c->records_per_segment) {     /* all older: the answer opens the next segment */
        int rc = jrnl_cursor_map(c, c->segment_index + 1);
        if (rc <= 0) {
            c->slot = c->records_per_segment;   /* stay at the end (rc 0: not there yet) */
            return rc;
        }
    }
    return jrnl_cursor_seq_at(c, c->slot) != UINT64_MAX;
}

static uint64_t jrnl_hdr_released(const uint8_t *base)
{
    /* acquire: pairs with the release store in jrnl_log_release(): records up to this seq are
     * completely written before we read them. */
    return atomic_load_explicit((_Atomic uint64_t *)&((jrnl_seg_hdr_t *)base)->released_seq,
                                memory_order_acquire);
}

uint64_t jrnl_cursor_released(jrnl_cursor_t *c)
{
    if (!c->map && jrnl_cursor_map_first(c) <= 0)
        return 0;
    uint64_t released = jrnl_hdr_released(c->map);
    /* A writer that died between a roll and its next release left this segment's header behind;
     * a newer segment's header (written by the writer that recovered) is then the authority. */
    for (uint64_t k = c->segment_index + 1;; k++) {
        char path[JRNL_PATH_MAX + 32];
        if (jrnl_segment_path(path, sizeof path, c->dir, c->kind, k) != 0)
            break;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            break;
        void *m = mmap(NULL, JRNL_SEG_HDR_BYTES, PROT_READ, MAP_SHARED, fd, 0);
        close(fd);
        if (m == MAP_FAILED)
            break;
        const jrnl_seg_hdr_t *h = (const jrnl_seg_hdr_t *)m;
        if (h->magic == JRNL_SEG_MAGIC && h->kind == c->kind) {
            uint64_t r = jrnl_hdr_released((const uint8_t *)m);
            if (r > released)
                released = r;
        }
        munmap(m, JRNL_SEG_HDR_BYTES);
    }
    return released;
}

int32_t jrnl_tail_events(jrnl_cursor_t *c, eng_evt_t *out, uint32_t max)
{
    if (c->kind != JRNL_KIND_EVT)
        return JRNL_INVALID;
    uint32_t n = 0;
    /* Reloaded once per call: a record past it is read by a later call. When the cursor moves
     * into a newer segment the old limit still holds (seqs only grow). */
    uint64_t limit = jrnl_cursor_released(c);
    while (n < max) {
        const uint8_t *p;
        int rc = jrnl_cursor_next(c, limit, 1, &p);
        if (rc < 0)
            return n ? (int32_t)n : rc;
        if (rc == 0)
            break;
        memcpy(&out[n++], p + sizeof(jrnl_rec_hdr_t), sizeof(eng_evt_t));
    }
    return (int32_t)n;
}

int32_t jrnl_cursor_read(jrnl_cursor_t *c, uint64_t limit_seq, jrnl_rec_hdr_t *hdrs,
                         uint8_t *payloads, uint32_t max)
{
    uint32_t n = 0;
    while (n < max) {
        const uint8_t *p;
        int rc = jrnl_cursor_next(c, limit_seq, 1, &p);
        if (rc < 0)
            return n ? (int32_t)n : rc;
        if (rc == 0)
            break;
        memcpy(&hdrs[n], p, sizeof(jrnl_rec_hdr_t));
        memcpy(payloads + (uint64_t)n * 96, p + sizeof(jrnl_rec_hdr_t), 96);
        n++;
    }
    return (int32_t)n;
}

void jrnl_cursor_close(jrnl_cursor_t *c)
{
    if (c->map)
        munmap(c->map, c->map_bytes);
    c->map = NULL;
}
