/*
 * jrnl_snapshot.c - fork-based snapshots (see jrnl_snapshot.h). The engine process runs its
 * loop on its only thread, so the child may use stdio-free libc calls (open, write, opendir);
 * it never returns into the caller's code, it _exits.
 */
#define _GNU_SOURCE
#include "jrnl_snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jrnl_snapfile.h"
#include "jrnl_prune.h"
#include "ring_segment.h"
#include "jrnl_segment.h"

static void jrnl_snapshot_prune(const char *dir, uint64_t keep_from_seq)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        unsigned long long seq;
        char tail[8];
        if (sscanf(ent->d_name, "snap-%20llu.%5s", &seq, tail) == 2 && strcmp(tail, "snap") == 0 &&
            seq < keep_from_seq) {
            char path[4096];
            if (jrnl_snapshot_path(path, sizeof path, dir, seq) == 0)
                unlink(path);
        }
    }
    closedir(d);
}

/* In the child: fdatasync of segments index - 1 and index of a journal (by path: the parent may
 * close or hand over its descriptors at any time). 0 or -1. */
static int jrnl_snapshot_sync_tail(const jrnl_log_t *log)
{
    for (uint64_t k = log->segment_index ? log->segment_index - 1 : 0; k <= log->segment_index;
         k++) {
        char path[JRNL_PATH_MAX + 32];
        if (jrnl_segment_path(path, sizeof path, log->dir, log->kind, k) != 0)
            return -1;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;               /* pruned or never there: nothing to make durable */
        jrnl_write_back_file(fd);   /* a MiB at a time: the tail may be many dirty MiB */
        int rc = fdatasync(fd);
        close(fd);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int jrnl_snapshot_fork(const eng_engine_t *eng, const char *dir, uint64_t seq,
                       uint64_t keep_from_seq, int32_t *pid, int64_t *pause_ns)
{
    return jrnl_snapshot_fork_synced(eng, dir, seq, keep_from_seq, NULL, 0, NULL, pid, pause_ns);
}

/* In the child, after the snapshot: retention, and one line on stderr about it. */
static void jrnl_snapshot_retain(const char *dir, uint64_t seq, uint32_t keep,
                                 const char *archive_dir)
{
    jrnl_prune_result_t res;
    int rc = jrnl_prune(dir, keep, archive_dir, &res);
    char line[768];
    int n = 0;
    if (rc != 0)
        n = snprintf(line, sizeof line, "engine: journal retention after snapshot %llu failed: "
                     "%s\n", (unsigned long long)seq, res.message);
    else if (res.cmd_segments_removed || res.evt_segments_removed)
        n = snprintf(line, sizeof line, "engine: journal retention after snapshot %llu: %s %llu "
                     "command and %llu event segment(s) wholly before seq %llu (hold %llu)\n",
                     (unsigned long long)seq, archive_dir && archive_dir[0] ? "archived" : "removed",
                     (unsigned long long)res.cmd_segments_removed,
                     (unsigned long long)res.evt_segments_removed,
                     (unsigned long long)res.retain_from_seq,
                     (unsigned long long)(res.hold_seq == UINT64_MAX ? 0 : res.hold_seq));
    if (n > 0 && write(2, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1)) < 0)
        return;                     /* nowhere to say it */
}

int jrnl_snapshot_fork_synced(const eng_engine_t *eng, const char *dir, uint64_t seq,
                              uint64_t keep_from_seq, const jrnl_log_t *evt_log,
                              uint32_t keep_snapshots, const char *archive_dir, int32_t *pid,
                              int64_t *pause_ns)
{
    char path[4096];
    int rc = jrnl_snapshot_path(path, sizeof path, dir, seq);
    if (rc != 0)
        return rc;
    int64_t t0 = ring_now_ns();
    pid_t child = fork();
    if (child < 0)
        return -errno;
    if (child == 0) {
        /* A snapshot outliving a crashed engine would race the restarted one's start-up: die
         * with the parent (the .tmp it leaves is never read: only *.snap files are). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(1);
        if (evt_log && evt_log->map && jrnl_snapshot_sync_tail(evt_log) != 0)
            _exit(1);
        rc = jrnl_snapshot_save(eng, path);
        if (rc == 0 && keep_snapshots)
            jrnl_snapshot_retain(dir, seq, keep_snapshots, archive_dir);
        else if (rc == 0)
            jrnl_snapshot_prune(dir, keep_from_seq);
        _exit(rc == 0 ? 0 : 1);
    }
    *pause_ns = ring_now_ns() - t0;
    *pid = (int32_t)child;
    return 0;
}
