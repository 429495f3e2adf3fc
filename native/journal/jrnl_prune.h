/*
 * jrnl_prune.h - retention of a journal directory: after a snapshot is durable, keep the newest
 * keep_snapshots snapshots and remove (or move to an archive directory) every segment whose
 * records all lie before the oldest kept snapshot, so recovery from any kept snapshot still has
 * every record it replays. Readers that tail the event journal (the drop copy) hold what they
 * have not read yet with a hold file, "<dir>/hold-<name>", holding one decimal seq: events with
 * seq <= it are consumed; an event segment is removed only once it is below every hold too.
 * Segments go lowest index first, so the ones left are always a contiguous range (a crash in
 * the middle of a prune leaves a valid journal), and never the last (open) one.
 */
#ifndef JRNL_PRUNE_H
#define JRNL_PRUNE_H

#include <stdint.h>

#include "venue_layout.h"

/* CFFI-BEGIN */
typedef struct jrnl_prune_result {
    uint64_t snapshots_removed;
    uint64_t retain_from_seq;         /* records with seq <= this may go (0: nothing may) */
    uint64_t hold_seq;                /* lowest hold found (UINT64_MAX: none) */
    uint64_t cmd_segments_removed;
    uint64_t evt_segments_removed;
    char message[512];                /* what failed, if something did */
} jrnl_prune_result_t;

/* Applies the retention above to dir. keep_snapshots >= 1; archive_dir NULL or "": delete,
 * else rename segments into it (same file system). 0, or -errno of the first failure (what was
 * done stays done; message says what failed). */
int jrnl_prune(const char *dir, uint32_t keep_snapshots, const char *archive_dir,
               jrnl_prune_result_t *out);

/* Lowest segment index of a journal kind in dir: 0 with *index, or -ENOENT if none. */
int jrnl_first_segment(const char *dir, uint32_t kind, uint64_t *index);

/* Writes "<dir>/hold-<name>" = seq atomically (temporary file renamed over it). 0 or -errno. */
int jrnl_hold_write(const char *dir, const char *name, uint64_t seq);
/* CFFI-END */

#endif /* JRNL_PRUNE_H */
