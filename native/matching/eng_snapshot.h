/*
 * eng_snapshot.h - the engine's whole state as one file, and back: books, orders, order-id and
 * level indexes, GTD heap, positions, risk settings, kill switches, phases, engine time, last
 * seq, next trade id. A snapshot is a byte image of the engine's pools up to their high-water
 * marks (so a loaded engine is the same engine, slot for slot) behind a header that pins the capacities and the internal
 * record sizes of the build that wrote it, with a CRC32C over the body and the state hash.
 */
#ifndef ENG_SNAPSHOT_H
#define ENG_SNAPSHOT_H

#include <stdint.h>

#include "eng_engine.h"

/* CFFI-BEGIN */
#define ENG_SNAP_MAGIC 0x31504E5345554E56    /* "VNUESNP1" as little-endian bytes */
#define ENG_SNAP_VERSION 2               /* 2: pools and order index up to their high-water marks */

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
    uint8_t _pad0[24];
} eng_snap_hdr_t;

/* Writes eng's state to path (through path.tmp, fdatasync, rename, directory fsync: a file
 * with the final name is always complete). 0 or -errno. Reads eng only. */
int eng_snapshot_save(const eng_engine_t *eng, const char *path);

/* Loads a snapshot into eng, which must be fresh (no command processed) and have the same
 * capacities. 0 with *hdr filled, or ENG_SNAP_* / -errno; on failure eng is left fresh again
 * only for -errno before reading, so callers destroy and recreate it after any failure. */
int eng_snapshot_load(eng_engine_t *eng, const char *path, eng_snap_hdr_t *hdr);
/* CFFI-END */

#endif /* ENG_SNAPSHOT_H */
