/*
 * jrnl_prune.c - journal retention (see jrnl_prune.h). Runs in the snapshot child (off the
 * engine loop) right after the snapshot is written, and from tools/tests.
 */
#define _GNU_SOURCE
#include "jrnl_prune.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jrnl_drop.h"
#include "jrnl_log.h"
#include "jrnl_snapshot.h"
#include "jrnl_segment.h"

#define JRNL_PRUNE_MAX_SNAPS 4096

static int jrnl_cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int jrnl_first_segment(const char *dir, uint32_t kind, uint64_t *index)
{
    const char *name = kind == JRNL_KIND_CMD ? "cmd-" : kind == JRNL_KIND_EVT ? "evt-" : NULL;
    if (!name)
        return -EINVAL;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    int found = 0;
    uint64_t lowest = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        const char *f = ent->d_name;
        if (strncmp(f, name, 4) != 0 || strlen(f) != 4 + 16 + 5 || strcmp(f + 20, ".jrnl") != 0)
            continue;
        char *end;
        unsigned long long idx = strtoull(f + 4, &end, 10);
        if (end != f + 20)
            continue;
        if (!found || idx < lowest)
            lowest = idx;
        found = 1;
    }
    closedir(d);
    if (!found)
        return -ENOENT;
    *index = lowest;
    return 0;
}

/* seq of the last record of segment `index` (full: a later segment exists); 0 if unreadable. */
static uint64_t jrnl_segment_last_seq(const char *dir, uint32_t kind, uint64_t index)
{
    char path[JRNL_PATH_MAX + 32];
    if (jrnl_segment_path(path, sizeof path, dir, kind, index) != 0)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    jrnl_seg_hdr_t h;
    jrnl_rec_hdr_t r;
    uint64_t seq = 0;
    if (pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h && h.magic == JRNL_SEG_MAGIC &&
        h.segment_bytes > JRNL_SEG_HDR_BYTES) {
        uint64_t rps = (h.segment_bytes - JRNL_SEG_HDR_BYTES) / JRNL_RECORD_BYTES;
        off_t off = (off_t)(JRNL_SEG_HDR_BYTES + (rps - 1) * JRNL_RECORD_BYTES);
        if (pread(fd, &r, sizeof r, off) == (ssize_t)sizeof r && r.length == JRNL_RECORD_BYTES)
            seq = r.seq;
    }
    close(fd);
    return seq;
}

static int jrnl_prune_kind(const char *dir, uint32_t kind, uint64_t upto_seq,
                           const char *archive_dir, uint64_t *removed, char *msg, size_t cap)
{
    uint64_t first;
    if (jrnl_first_segment(dir, kind, &first) != 0)
        return 0;
    for (uint64_t k = first;; k++) {
        char next[JRNL_PATH_MAX + 32], path[JRNL_PATH_MAX + 32];
        if (jrnl_segment_path(next, sizeof next, dir, kind, k + 1) != 0 ||
            jrnl_segment_path(path, sizeof path, dir, kind, k) != 0)
            return -EINVAL;
        if (access(next, F_OK) != 0)
            return 0;               /* k is the last segment: the writer's, never removed */
        uint64_t last = jrnl_segment_last_seq(dir, kind, k);
        if (last == 0 || last > upto_seq)
            return 0;               /* still needed (or not a full segment: leave it) */
        int rc;
        if (archive_dir && archive_dir[0]) {
            char to[JRNL_PATH_MAX + 64];
            const char *base = strrchr(path, '/');
            snprintf(to, sizeof to, "%s%s", archive_dir, base ? base : path);
            rc = rename(path, to) == 0 ? 0 : -errno;
        } else {
            rc = jrnl_drop_file(path);      /* not unlink: one 64 MiB discard stalls the disk */
        }
        if (rc != 0) {
            snprintf(msg, cap, "%s: cannot %s: %s", path,
                     archive_dir && archive_dir[0] ? "archive" : "remove", strerror(-rc));
            return rc;
        }
        (*removed)++;
    }
}

int jrnl_prune(const char *dir, uint32_t keep_snapshots, const char *archive_dir,
               jrnl_prune_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->hold_seq = UINT64_MAX;
    if (!dir || keep_snapshots == 0)
        return -EINVAL;
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        snprintf(out->message, sizeof out->message, "%s: %s", dir, strerror(e));
        return -e;
    }
    static uint64_t snaps[JRNL_PRUNE_MAX_SNAPS];
    size_t n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        unsigned long long seq;
        char tail[8];
        if (sscanf(ent->d_name, "snap-%20llu.%5s", &seq, tail) == 2 &&
            strcmp(tail, "snap") == 0 && n < JRNL_PRUNE_MAX_SNAPS) {
            snaps[n++] = seq;
        } else if (strncmp(ent->d_name, "hold-", 5) == 0 && !strchr(ent->d_name, '.')) {
            char path[JRNL_PATH_MAX + 300], buf[32] = {0};
            snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                ssize_t r = read(fd, buf, sizeof buf - 1);
                close(fd);
                /* An unreadable hold holds everything: never drop what a reader may need. */
                uint64_t h = r > 0 ? strtoull(buf, NULL, 10) : 0;
                if (h < out->hold_seq)
                    out->hold_seq = h;
            }
        }
    }
    closedir(d);
    qsort(snaps, n, sizeof snaps[0], jrnl_cmp_desc);
    for (size_t i = keep_snapshots; i < n; i++) {
        char path[JRNL_PATH_MAX + 64];
        if (jrnl_snapshot_path(path, sizeof path, dir, snaps[i]) == 0 &&
            jrnl_drop_file(path) == 0)
            out->snapshots_removed++;
    }
    jrnl_drop_leftovers(dir);       /* what a crash in an earlier prune's removal left */
    /* Fewer snapshots than asked for: recovery may have to start from scratch, keep it all. */
    if (n < keep_snapshots)
        return 0;
    out->retain_from_seq = snaps[keep_snapshots - 1];
    uint64_t evt_upto = out->retain_from_seq < out->hold_seq ? out->retain_from_seq
                                                             : out->hold_seq;
    int rc = jrnl_prune_kind(dir, JRNL_KIND_CMD, out->retain_from_seq, archive_dir,
                             &out->cmd_segments_removed, out->message, sizeof out->message);
    if (rc == 0)
        rc = jrnl_prune_kind(dir, JRNL_KIND_EVT, evt_upto, archive_dir,
                             &out->evt_segments_removed, out->message, sizeof out->message);
    return rc;
}

int jrnl_hold_write(const char *dir, const char *name, uint64_t seq)
{
    char path[JRNL_PATH_MAX + 128], tmp[JRNL_PATH_MAX + 136], buf[32];
    if (!dir || !name || !name[0] || strchr(name, '/') || strchr(name, '.') ||
        snprintf(path, sizeof path, "%s/hold-%s", dir, name) >= (int)sizeof path)
        return -EINVAL;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int len = snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)seq);
    int rc = write(fd, buf, (size_t)len) == len ? 0 : -errno;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    return rc;
}
