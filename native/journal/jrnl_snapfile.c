/*
 * jrnl_snapfile.c - engine snapshots as files (see jrnl_snapfile.h). The engine hands out its
 * image a piece at a time (eng_snapshot_copy_out / copy_in); this file owns everything about
 * storing it: the file, the CRC32C over the body (the header's body_crc), the creation time,
 * and the durability of the rename. Snapshots are taken in a forked child (jrnl_snapshot.c) and
 * loaded at start-up, never on the order path, so one heap buffer per call is fine.
 *
 * The body is written back a chunk at a time as it is written (write_chunk), not left to one
 * fdatasync at the end: that one sync put the whole image (tens to hundreds of MiB) in front of
 * the disk at once, and every durable write queued behind it (the engine's journal sync of an
 * order being acked, the gateway's flow-store sync) waited for all of it. Measured on this
 * machine (2 vCPUs, virtio disk, load 5: a 4 KiB O_DIRECT|O_DSYNC write every 0.5 ms while a
 * 96 MiB file is written): one fdatasync at the end, the longest write 37.7-39.1 ms; each MiB
 * written back as it is written (sync_file_range, waited), 8.7-8.8 ms, the file's own writing
 * 124-136 ms -> 163 ms. bench/journal_files.py measures it beside the removal of old files.
 */
#define _GNU_SOURCE
#include "jrnl_snapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jrnl_crc.h"
#include "jrnl_segment.h"

#define SNAP_CHUNK (1u << 20)

static int write_all(int fd, const void *buf, uint64_t n)
{
    const uint8_t *p = (const uint8_t *)buf;
    while (n) {
        ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (uint64_t)w;
    }
    return 0;
}

/* Writes n bytes at the file offset off (the file's position) and waits until the disk has
 * them (not durable yet: the fdatasync at the end flushes the disk's cache and the metadata), so
 * at most one chunk of the snapshot is ever queued at the disk ahead of other writes. */
static int write_chunk(int fd, const void *buf, uint64_t n, uint64_t off)
{
    int rc = write_all(fd, buf, n);
    return rc == 0 ? jrnl_write_back(fd, off, n) : rc;
}

/* Reads up to n bytes; returns the count read (short only at end of file) or -errno. */
static int64_t read_full(int fd, void *buf, uint64_t n)
{
    uint8_t *p = (uint8_t *)buf;
    uint64_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) break;
        got += (uint64_t)r;
    }
    return (int64_t)got;
}

/* The header (with its checksum and creation time) then the body, into an open file. */
static int write_image(const eng_engine_t *eng, int fd, uint8_t *buf)
{
    eng_snap_hdr_t h;
    eng_snapshot_header(eng, &h);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h.created_realtime_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (lseek(fd, sizeof h, SEEK_SET) < 0) return -errno;
    uint64_t off = 0;
    int rc = 0;
    while (rc == 0 && off < h.body_bytes) {
        uint64_t n = eng_snapshot_copy_out(eng, off, buf, SNAP_CHUNK);
        if (n == 0) return -EIO;
        h.body_crc = jrnl_crc32c(h.body_crc, buf, n);
        rc = write_chunk(fd, buf, n, sizeof h + off);
        off += n;
    }
    if (rc == 0) {
        ssize_t w = pwrite(fd, &h, sizeof h, 0);
        if (w != (ssize_t)sizeof h) rc = w < 0 ? -errno : -EIO;
    }
    if (rc == 0 && fdatasync(fd) != 0) rc = -errno;
    return rc;
}

/* See jrnl_snapfile.h. */
int jrnl_snapshot_save(const eng_engine_t *eng, const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return -ENAMETOOLONG;
    uint8_t *buf = malloc(SNAP_CHUNK);
    if (!buf) return -ENOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : write_image(eng, fd, buf);
    free(buf);
    if (fd >= 0) close(fd);
    if (rc == 0 && rename(tmp, path) != 0) rc = -errno;
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);                 /* the rename is durable before the snapshot is relied on */
        close(dfd);
    }
    return 0;
}

/* The body from fd into eng, checksummed on the way: 0 or ENG_SNAP_* / -errno. */
static int read_body(eng_engine_t *eng, int fd, const eng_snap_hdr_t *h, uint8_t *buf)
{
    uint64_t off = 0;
    uint32_t crc = 0;
    for (;;) {
        int64_t n = read_full(fd, buf, SNAP_CHUNK);
        if (n < 0) return (int)n;
        if (n == 0) break;
        crc = jrnl_crc32c(crc, buf, (size_t)n);
        int rc = eng_snapshot_copy_in(eng, off, buf, (uint64_t)n);
        if (rc != 0) return rc;
        off += (uint64_t)n;
    }
    if (off != h->body_bytes || crc != h->body_crc) return ENG_SNAP_CORRUPT;
    return eng_snapshot_finish(eng, h, off);
}

/* See jrnl_snapfile.h. */
int jrnl_snapshot_load(eng_engine_t *eng, const char *path, eng_snap_hdr_t *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    eng_snap_hdr_t h;
    int64_t got = read_full(fd, &h, sizeof h);
    int rc = got < 0 ? (int)got : got != (int64_t)sizeof h ? ENG_SNAP_CORRUPT : eng_snapshot_accepts(eng, &h);
    uint8_t *buf = rc == 0 ? malloc(SNAP_CHUNK) : NULL;
    if (rc == 0 && !buf) rc = -ENOMEM;
    if (rc == 0) rc = read_body(eng, fd, &h, buf);
    free(buf);
    close(fd);
    if (rc == 0) *out = h;
    return rc;
}
