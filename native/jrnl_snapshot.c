/*
 * jrnl_snapshot.c - fork-based snapshots (see jrnl_snapshot.h). The engine process runs its
 * loop on its only thread, so the child may use stdio-free libc calls (open, write, opendir);
 * it never returns into the caller's code, it _exits.
 */
#define _GNU_SOURCE
#include "jrnl_snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eng_snapshot.h"
#include "ring_segment.h"

int jrnl_snapshot_path(char *out, size_t cap, const char *dir, uint64_t seq)
{
    int n = snprintf(out, cap, "%s/snap-%020llu.snap", dir, (unsigned long long)seq);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

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

int jrnl_snapshot_fork(const eng_engine_t *eng, const char *dir, uint64_t seq,
                       uint64_t keep_from_seq, int32_t *pid, int64_t *pause_ns)
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
        rc = eng_snapshot_save(eng, path);
        if (rc == 0)
            jrnl_snapshot_prune(dir, keep_from_seq);
        _exit(rc == 0 ? 0 : 1);
    }
    *pause_ns = ring_now_ns() - t0;
    *pid = (int32_t)child;
    return 0;
}
