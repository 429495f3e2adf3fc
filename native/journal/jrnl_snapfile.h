/*
 * jrnl_snapfile.h - an engine snapshot as a file: the engine's image (eng_snapshot.h) behind its
 * header, with a CRC32C over the body, written so that a file with the final name is always
 * complete, and read back with the checksum verified before the engine is used.
 */
#ifndef JRNL_SNAPFILE_H
#define JRNL_SNAPFILE_H

#include <stdint.h>

#include "eng_engine.h"
#include "eng_snapshot.h"

/* CFFI-BEGIN */
/* Writes eng's state to path (through path.tmp, fdatasync, rename, directory fsync), streaming
 * the image through a 1 MiB buffer. 0 or -errno (path.tmp removed). Reads eng only. */
int jrnl_snapshot_save(const eng_engine_t *eng, const char *path);

/* Loads the snapshot at path into eng, which must be fresh (no command processed) and have the
 * same capacities. 0 with *hdr filled, or ENG_SNAP_* (ENG_SNAP_CORRUPT: short file, body
 * checksum, state hash) or -errno; after any failure callers destroy eng and make a new one. */
int jrnl_snapshot_load(eng_engine_t *eng, const char *path, eng_snap_hdr_t *hdr);
/* CFFI-END */

#endif /* JRNL_SNAPFILE_H */
