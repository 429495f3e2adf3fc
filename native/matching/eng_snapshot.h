/*
 * eng_snapshot.h - the engine's whole state as a byte image, and back: books, orders, order-id
 * and level indexes, GTD heap, positions, risk settings, kill switches, phases, engine time, last
 * seq, next trade id, order-velocity buckets. The image holds the engine's pools up to their high-water marks (so a
 * loaded engine is the same engine, slot for slot) behind a header that pins the capacities and
 * the internal record sizes of the build that wrote it, and the state hash. The engine copies
 * the image to and from its caller's buffers and does no I/O; the journal's jrnl_snapfile.c
 * stores it as a file with a CRC32C over the body (body_crc).
 */
#ifndef ENG_SNAPSHOT_H
#define ENG_SNAPSHOT_H

#include <stdint.h>

#include "eng_engine.h"

/* CFFI-BEGIN */
#define ENG_SNAP_MAGIC 0x31504E5345554E56    /* "VNUESNP1" as little-endian bytes */
#define ENG_SNAP_VERSION 4               /* 3: 56-byte orders and their extension pool; 4: order-velocity buckets */

/* Results besides -errno. */
typedef enum eng_snap_status {
    ENG_SNAP_BAD_MAGIC = -2101,       /* not a snapshot file */
    ENG_SNAP_BAD_VERSION = -2102,     /* another snapshot version or internal record layout */
    ENG_SNAP_BAD_CONFIG = -2103,      /* taken from an engine with other capacities */
    ENG_SNAP_CORRUPT = -2104,         /* short file, body checksum, or state hash after load */
    ENG_SNAP_NOT_FRESH = -2105        /* load target has already processed commands */
} eng_snap_status_t;

typedef struct eng_snap_hdr {
    uint64_t magic;                   /* ENG_SNAP_MAGIC */
    uint32_t version;                 /* ENG_SNAP_VERSION */
    uint32_t hdr_bytes;               /* sizeof(eng_snap_hdr_t) */
    uint32_t max_orders;
    uint32_t max_levels;
    uint32_t max_instruments;
    uint32_t max_accounts;
    uint32_t order_bytes;             /* sizeof of the internal records: a build whose layout */
    uint32_t level_bytes;             /* differs refuses the file (ENG_SNAP_BAD_VERSION) */
    uint32_t instr_bytes;
    uint32_t body_crc;                /* CRC32C of every byte after the header */
    uint64_t body_bytes;
    uint64_t last_seq;                /* the engine had processed every command up to this */
    int64_t now_ns;                   /* its engine time */
    uint64_t state_hash;              /* eng_state_hash at that point; checked after load */
    int64_t created_realtime_ns;
    uint32_t ext_bytes;               /* sizeof of the order-extension record, refused like order_bytes */
    uint8_t _pad0[20];
} eng_snap_hdr_t;

/* Saving: eng_snapshot_header fills h for eng's current state (everything but body_crc and
 * created_realtime_ns, which belong to whoever stores the image: jrnl_snapfile.c), then
 * eng_snapshot_copy_out copies bytes [off, off + len) of the body image (h->body_bytes long) into
 * buf and returns how many it copied: len, fewer at the end of the body, 0 past it. Both read eng
 * only; eng must not process commands in between. The caller owns buf. */
void eng_snapshot_header(const eng_engine_t *eng, eng_snap_hdr_t *h);
uint64_t eng_snapshot_copy_out(const eng_engine_t *eng, uint64_t off, void *buf, uint64_t len);

/* Loading: eng_snapshot_accepts says whether an image with header h can be loaded into eng: 0,
 * or ENG_SNAP_NOT_FRESH (eng has processed commands), ENG_SNAP_BAD_MAGIC, ENG_SNAP_BAD_VERSION
 * (another layout), ENG_SNAP_BAD_CONFIG (other capacities). eng_snapshot_copy_in then takes the
 * body in order, off being the bytes given before: 0, or ENG_SNAP_CORRUPT when its scalars do not
 * fit eng or bytes run past the body. eng_snapshot_finish(eng, h, bytes given) completes the load:
 * 0 with eng the snapshot's engine, or ENG_SNAP_CORRUPT (a short or long body, a state hash or an
 * invariant that does not hold). The body's checksum is the caller's to verify before finishing.
 * After any failure eng is half-loaded: callers destroy it. buf stays the caller's. */
int eng_snapshot_accepts(const eng_engine_t *eng, const eng_snap_hdr_t *h);
int eng_snapshot_copy_in(eng_engine_t *eng, uint64_t off, const void *buf, uint64_t len);
int eng_snapshot_finish(eng_engine_t *eng, const eng_snap_hdr_t *h, uint64_t body_got);
/* CFFI-END */

#endif /* ENG_SNAPSHOT_H */
