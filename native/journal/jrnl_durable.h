/*
 * jrnl_durable.h - "make these bytes of a mapped file durable" for the journal's segments and the
 * gateway's flow store: one device write per dirty page and one cache flush, where that is
 * provably enough, else msync MS_SYNC of the range (jrnl_durable.c says why and when).
 */
#ifndef JRNL_DURABLE_H
#define JRNL_DURABLE_H

#include <stddef.h>
#include <stdint.h>

/* CFFI-BEGIN */
/* How one data file's bytes are made durable. flush_fd >= 0: the fast path was proven for fd
 * (jrnl_durable_provable) and flush_fd is the never-written flush target on its device; -1:
 * msync. Both descriptors belong to the caller (the journal log, the gateway), which keeps them
 * open while the struct is in use. */
typedef struct jrnl_durable {
    int32_t fd;
    int32_t flush_fd;
} jrnl_durable_t;

/* Opens the flush target for data files in directory dir, read-only (it is never written): the
 * root directory of dir's filesystem when that is ext4 and this mount namespace shows its root
 * (its inode-table block is not dirtied by our per-order writes; jrnl_durable.c says why), else
 * "<dir>/device-flush", created if needed, then fsynced with dir so that it is clean and its name
 * durable. Returns the descriptor (the caller closes it) or -errno with the reason in msg. */
int32_t jrnl_flush_file_open(const char *dir, char *msg, size_t cap);

/* 1 if writeback of a range of fd plus fdatasync(flush_fd) makes that range durable: fd is a
 * regular file of bytes [0, bytes) on ext4 (not data=journal) or xfs, every byte in written,
 * allocated, unshared extents (no hole, no unwritten or delayed-allocation extent), and flush_fd
 * a regular file (or, on ext4, a directory) on the same device. 0 (not provable, the reason in
 * why) otherwise, including when a check itself fails. Checks only; changes nothing. */
int jrnl_durable_provable(int32_t fd, uint64_t bytes, int32_t flush_fd, char *why, size_t cap);

/* Writes real zero blocks into every hole (and unwritten extent) of fd's bytes [0, bytes), leaves
 * every byte that holds data alone, and fdatasyncs fd: afterwards the file can pass
 * jrnl_durable_provable. 0 or -errno (-ENOSPC: the disk is full). */
int jrnl_fill_holes(int32_t fd, uint64_t bytes);
/* CFFI-END */

/* Makes bytes [off, off + len) of d->fd durable; map is its MAP_SHARED mapping from offset 0
 * (what was stored through it is what becomes durable). Fast path (d->flush_fd >= 0): writeback
 * of the range's pages, waited for, then fdatasync(d->flush_fd), the device's cache flush; else
 * msync(MS_SYNC) of the range. 0 or -errno. Safe to call from another thread than the one that
 * writes the mapping (a page written again meanwhile is written again by the next call). */
int jrnl_durable_sync(const jrnl_durable_t *d, uint8_t *map, uint64_t off, uint64_t len);

#endif
