/*
 * jrnl_segment.h - the journal's files by name (jrnl_segment.c): segment and snapshot paths,
 * creating, mapping and validating a segment file. The layer under the writer, its helper
 * thread, the readers, retention and snapshots; it calls none of them.
 */
#ifndef JRNL_SEGMENT_H
#define JRNL_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "jrnl_log.h"

/* CFFI-BEGIN */
/* Writes "<dir>/<cmd|evt>-<16 digits>.jrnl" into out. 0 or JRNL_INVALID (too long, bad kind). */
int jrnl_segment_path(char *out, size_t cap, const char *dir, uint32_t kind, uint64_t index);

/* Writes "<dir>/snap-<20 digits>.snap" into out. 0 or -ENAMETOOLONG. */
int jrnl_snapshot_path(char *out, size_t cap, const char *dir, uint64_t seq);

/* Writes real zero blocks over [0, bytes) of fd, a 4 KiB page per call, each MiB written back
 * (waited) before the next is written, so a new segment never puts more than a MiB in front of
 * other durable writes at the disk (jrnl_segment.c says why; bench/journal_files.py measures
 * it). Not durable: the caller's fdatasync is. 0 or an errno value. */
int jrnl_segment_zero_fill(int fd, uint64_t bytes);
/* CFFI-END */

/* Starts writeback of [off, off + n) of fd and waits for it (sync_file_range; no cache flush,
 * no metadata): a writer of a large file calls it per chunk so the disk is never handed the
 * whole file at once. 0 or -errno. */
int jrnl_write_back(int fd, uint64_t off, uint64_t n);

/* jrnl_segment_zero_fill over [from, to) only (bytes outside it untouched). 0 or an errno
 * value. */
int jrnl_zero_fill_range(int fd, uint64_t from, uint64_t to);

/* jrnl_write_back over the whole file, a MiB at a time: before the fdatasync of a file that may
 * hold many dirty MiB (a full event segment, the event tail a snapshot makes durable), so they
 * reach the disk a MiB at a time instead of all at once. 0 or -errno (the caller's fdatasync
 * reports what matters). */
int jrnl_write_back_file(int fd);

/* "cmd" or "evt" for JRNL_KIND_CMD / JRNL_KIND_EVT; NULL for any other kind. */
const char *jrnl_kind_name(uint32_t kind);

/* printf into msg (cap bytes, always terminated): the journal's error messages. */
void jrnl_say(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Creates segment `index` of the log's journal (preallocated with real zero blocks, header
 * synced, renamed into place, directory synced), maps it read-write and pre-faults it writable.
 * Reads only the log's constant fields (dir, kind, segment_bytes, limits), so a helper thread
 * may call it while the writer appends. 0 with *map / *fd set, or -errno (message says why). */
int jrnl_segment_make(const jrnl_log_t *log, uint64_t index, uint8_t **map, int32_t *fd,
                      char *message, size_t message_cap);

/* Maps segment `index` of a journal and validates its header (limits may be NULL: not compared).
 * 0 with *base / *bytes set, or the jrnl_log_open codes; message gets the reason. */
int jrnl_segment_map(const char *dir, uint32_t kind, uint64_t index, int writable,
                     const uint32_t *limits, uint8_t **base, uint64_t *bytes, int32_t *fd_out,
                     char *message, size_t message_cap);

#endif /* JRNL_SEGMENT_H */
