/*
 * jrnl_drop.h - removing a journal file (a pruned segment, an old snapshot) without stalling
 * the disk for everyone else (see jrnl_drop.c for why and for the measurement).
 */
#ifndef JRNL_DROP_H
#define JRNL_DROP_H

/* CFFI-BEGIN */
/* Removes the file at path: renamed to "<path>.drop" (a name no journal reader takes: segments
 * and snapshots are matched by their exact names), shrunk JRNL_DROP_STEP_BYTES at a time with a
 * pause between steps, then unlinked. A crash part-way leaves a "*.drop" file that
 * jrnl_drop_leftovers removes later; the journal is valid either way. Sleeps (about 1 ms per
 * MiB): call it off the engine loop (the snapshot child, tools). 0, or -errno of the rename
 * or of the unlink. */
int jrnl_drop_file(const char *path);
/* CFFI-END */

/* Removes every "*.drop" file in dir as jrnl_drop_file does (what a crash mid-drop left).
 * The count removed, or -errno if dir cannot be read. */
int jrnl_drop_leftovers(const char *dir);

#endif /* JRNL_DROP_H */
