/*
 * jrnl_snapshot.h - periodic snapshots next to the journal, taken by a forked child: the
 * engine's pages are shared copy-on-write, so matching stops only for the fork() itself (the
 * measured pause); the child writes snap-<seq>.snap (jrnl_snapshot_save, jrnl_snapfile.c) and exits.
 */
#ifndef JRNL_SNAPSHOT_H
#define JRNL_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "eng_engine.h"
#include "jrnl_log.h"

/* CFFI-BEGIN */
/* Forks a child that saves eng (which has processed every command up to seq) as the snapshot of
 * seq in dir, then deletes snapshots older than keep_from_seq, then exits 0 (1 on failure).
 * The parent returns at once: 0 with *pid and *pause_ns (duration of fork() in the parent), or
 * -errno when fork failed (no snapshot; matching goes on). The caller reaps the child. */
int jrnl_snapshot_fork(const eng_engine_t *eng, const char *dir, uint64_t seq,
                       uint64_t keep_from_seq, int32_t *pid, int64_t *pause_ns);

/* The same, with two more duties for the child. evt_log (may be NULL), for a journal whose
 * event log is not synced per group (group commit): before it writes the snapshot, the child
 * makes the event journal durable through seq (fdatasync of evt_log's current segment and the
 * one before; older ones were synced when they were left, see jrnl_log_t.sync_retired), so
 * recovery, which starts at a snapshot, never needs an event it cannot regenerate.
 * keep_snapshots > 0: after the snapshot, instead of deleting snapshots older than
 * keep_from_seq, the child applies jrnl_prune(dir, keep_snapshots, archive_dir) and says on
 * stderr what it removed. */
int jrnl_snapshot_fork_synced(const eng_engine_t *eng, const char *dir, uint64_t seq,
                              uint64_t keep_from_seq, const jrnl_log_t *evt_log,
                              uint32_t keep_snapshots, const char *archive_dir, int32_t *pid,
                              int64_t *pause_ns);
/* CFFI-END */

#endif /* JRNL_SNAPSHOT_H */
