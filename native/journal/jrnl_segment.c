/*
 * jrnl_segment.c - the journal's files by name: segment and snapshot paths, creating a segment
 * file (preallocated with real zero blocks, header first, renamed into place) and mapping and
 * validating one. The writer (jrnl_log.c), its helper thread (jrnl_spare.c), the readers
 * (jrnl_cursor.c), retention (jrnl_prune.c) and snapshots (jrnl_snapshot.c) all build on these;
 * nothing here calls back into them.
 */
#define _GNU_SOURCE
#include "jrnl_segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jrnl_crc.h"

const char *jrnl_kind_name(uint32_t kind)
{
    return kind == JRNL_KIND_CMD ? "cmd" : kind == JRNL_KIND_EVT ? "evt" : NULL;
}

void jrnl_say(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
}

int jrnl_segment_path(char *out, size_t cap, const char *dir, uint32_t kind, uint64_t index)
{
    const char *name = jrnl_kind_name(kind);
    if (!name || !dir)
        return JRNL_INVALID;
    int n = snprintf(out, cap, "%s/%s-%016llu.jrnl", dir, name, (unsigned long long)index);
    return n < 0 || (size_t)n >= cap ? JRNL_INVALID : 0;
}

static uint32_t jrnl_hdr_crc(const jrnl_seg_hdr_t *h)
{
    jrnl_seg_hdr_t copy;
    memcpy(&copy, h, 64);
    copy.hdr_crc = 0;
    return jrnl_crc32c(0, &copy, 64);
}

/* Checks a mapped segment's header against what the reader expects (magic, layout version,
 * header CRC, kind, index, size, the engine limits it was written for). Returns 0 or the
 * JRNL_* code, with the reason in message. */
static int jrnl_segment_check(const jrnl_seg_hdr_t *h, const char *path, uint32_t kind,
                              uint64_t index, uint64_t size, const uint32_t *limits,
                              char *message, size_t message_cap)
{
    int rc = 0;
    if (h->magic != JRNL_SEG_MAGIC) {
        jrnl_say(message, message_cap, "%s: not a venue journal segment (magic %#018llx)", path,
                 (unsigned long long)h->magic);
        rc = JRNL_BAD_MAGIC;
    } else if (h->layout_version != JRNL_LAYOUT_VERSION) {
        jrnl_say(message, message_cap, "%s: journal layout version %u, this build reads version "
                 "%u; replay it with the build that wrote it", path, h->layout_version,
                 JRNL_LAYOUT_VERSION);
        rc = JRNL_BAD_VERSION;
    } else if (h->hdr_crc != jrnl_hdr_crc(h) || h->kind != kind || h->segment_index != index ||
               h->record_bytes != JRNL_RECORD_BYTES || h->segment_bytes != size) {
        jrnl_say(message, message_cap, "%s: inconsistent segment header (crc, kind, index or "
                 "size %lld vs %llu)", path, (long long)size,
                 (unsigned long long)h->segment_bytes);
        rc = JRNL_BAD_SEGMENT;
    } else if (limits && (h->max_orders != limits[0] || h->max_levels != limits[1] ||
                          h->max_instruments != limits[2] || h->max_accounts != limits[3])) {
        jrnl_say(message, message_cap, "%s: written by an engine with max_orders=%u "
                 "max_levels=%u max_instruments=%u max_accounts=%u; start the engine with those",
                 path, h->max_orders, h->max_levels, h->max_instruments, h->max_accounts);
        rc = JRNL_BAD_CONFIG;
    }
    return rc;
}

int jrnl_segment_map(const char *dir, uint32_t kind, uint64_t index, int writable,
                     const uint32_t *limits, uint8_t **base, uint64_t *bytes, int32_t *fd_out,
                     char *message, size_t message_cap)
{
    char path[JRNL_PATH_MAX + 32];
    if (jrnl_segment_path(path, sizeof path, dir, kind, index) != 0)
        return JRNL_INVALID;
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        jrnl_say(message, message_cap, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if ((uint64_t)st.st_size < JRNL_SEG_HDR_BYTES + JRNL_RECORD_BYTES) {
        jrnl_say(message, message_cap, "%s: %lld bytes, shorter than a header and one record",
                 path, (long long)st.st_size);
        close(fd);
        return JRNL_BAD_SEGMENT;
    }
    /* Readers walk the whole segment: MAP_POPULATE maps its pages in one go instead of one
     * fault per 4 KiB, which is most of a replay's time spent outside the engine. */
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | (writable ? PROT_WRITE : 0),
                   MAP_SHARED | (writable ? 0 : MAP_POPULATE), fd, 0);
    if (m == MAP_FAILED) {
        int e = errno;
        jrnl_say(message, message_cap, "%s: mmap: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    int rc = jrnl_segment_check((const jrnl_seg_hdr_t *)m, path, kind, index, (uint64_t)st.st_size,
                                limits, message, message_cap);
    if (rc != 0) {
        munmap(m, (size_t)st.st_size);
        close(fd);
        return rc;
    }
    *base = (uint8_t *)m;
    *bytes = (uint64_t)st.st_size;
    if (fd_out)
        *fd_out = fd;
    else
        close(fd);
    return 0;
}

int jrnl_write_back(int fd, uint64_t off, uint64_t n)
{
    if (sync_file_range(fd, (off64_t)off, (off64_t)n, SYNC_FILE_RANGE_WAIT_BEFORE |
                        SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0)
        return -errno;
    return 0;
}

int jrnl_write_back_file(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    const uint64_t pace = 1u << 20;
    for (uint64_t off = 0; off < (uint64_t)st.st_size; off += pace) {
        int rc = jrnl_write_back(fd, off, pace);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Zeros one 4 KiB page per call. Not in bigger writes: the page cache keeps the folio size a
 * write created (ext4 has large folios since Linux 6.x), dirty tracking and writeback are per
 * folio, and the engine dirties the mapping 128 bytes at a time: with the 64 KiB folios that
 * 64 KiB writes made, each group's msync wrote 64 KiB back for a few records (measured with
 * /proc/kpageflags: one record dirtied 16 pages).
 * Written back a MiB at a time: the segment maker makes a 64 MiB segment while the venue trades,
 * and left to the one fdatasync at the end, all 64 MiB reached the disk at once, in front of
 * every order's journal and flow-store sync (a snapshot's single fdatasync of 30-96 MiB held a
 * concurrent 4 KiB durable write 20-39 ms; paced, 7-9 ms at load 5-7: bench/journal_files.py). */
int jrnl_zero_fill_range(int fd, uint64_t from, uint64_t to)
{
    static const uint8_t zeros[4096];
    const uint64_t pace = 1u << 20;
    uint64_t written_back = from;
    for (uint64_t off = from; off < to;) {
        size_t n = to - off < sizeof zeros ? (size_t)(to - off) : sizeof zeros;
        ssize_t w = pwrite(fd, zeros, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        off += (uint64_t)w;
        if (off - written_back >= pace || off == to) {
            int rc = jrnl_write_back(fd, written_back, off - written_back);
            if (rc < 0)
                return -rc;
            written_back = off;
        }
    }
    return 0;
}

int jrnl_segment_zero_fill(int fd, uint64_t bytes)
{
    return jrnl_zero_fill_range(fd, 0, bytes);
}

/* A new segment's header for log's kind, size and limits (hdr_crc left to the caller). */
static void jrnl_segment_header(jrnl_seg_hdr_t *hp, const jrnl_log_t *log, uint64_t index)
{
    memset(hp, 0, sizeof *hp);
    hp->magic = JRNL_SEG_MAGIC;
    hp->layout_version = JRNL_LAYOUT_VERSION;
    hp->kind = log->kind;
    hp->segment_index = index;
    hp->segment_bytes = log->segment_bytes;
    hp->record_bytes = JRNL_RECORD_BYTES;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    hp->created_realtime_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    hp->max_orders = log->limits[0];
    hp->max_levels = log->limits[1];
    hp->max_instruments = log->limits[2];
    hp->max_accounts = log->limits[3];
    hp->released_seq = 0;           /* never ahead of what was released: the writer stores the
                                       real value when it starts using the segment */
}

int jrnl_segment_make(const jrnl_log_t *log, uint64_t index, uint8_t **map, int32_t *fd_out,
                      char *message, size_t message_cap)
{
    char path[JRNL_PATH_MAX + 32], tmp[JRNL_PATH_MAX + 40];
    if (jrnl_segment_path(path, sizeof path, log->dir, log->kind, index) != 0)
        return JRNL_INVALID;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        jrnl_say(message, message_cap, "%s: cannot create: %s", tmp, strerror(e));
        return -e;
    }
    /* Real zero blocks, not fallocate's unwritten extents: a write fault on an unwritten
     * extent allocates and journals (ext4_page_mkwrite), and the first msync of each extent
     * would commit the conversion; and running out of space shows here, never later as a
     * SIGBUS. */
    int e = jrnl_segment_zero_fill(fd, log->segment_bytes);
    if (e != 0) {
        jrnl_say(message, message_cap, "%s: cannot reserve %llu bytes: %s", tmp,
                 (unsigned long long)log->segment_bytes, strerror(e));
        close(fd);
        unlink(tmp);
        return -e;
    }
    jrnl_seg_hdr_t h;
    jrnl_segment_header(&h, log, index);
    h.hdr_crc = jrnl_hdr_crc(&h);
    if (pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h || fdatasync(fd) != 0 ||
        rename(tmp, path) != 0) {
        e = errno;
        jrnl_say(message, message_cap, "%s: cannot write header: %s", path, strerror(e));
        close(fd);
        unlink(tmp);
        return -e;
    }
    int dfd = open(log->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);                 /* the new name is durable before records go in it */
        close(dfd);
    }
    void *m = mmap(NULL, (size_t)log->segment_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        e = errno;
        jrnl_say(message, message_cap, "%s: mmap: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    /* Pre-fault every page writable now: otherwise each 4 KiB page costs the order path a
     * write-protect fault (page_mkwrite) on its first record, about 60 ns per record measured
     * (bench/journal.py, async mode). Best effort: without it (kernel < 5.14) the faults
     * simply come later. */
    madvise(m, (size_t)log->segment_bytes, MADV_POPULATE_WRITE);
    *map = (uint8_t *)m;
    *fd_out = fd;
    return 0;
}

int jrnl_snapshot_path(char *out, size_t cap, const char *dir, uint64_t seq)
{
    int n = snprintf(out, cap, "%s/snap-%020llu.snap", dir, (unsigned long long)seq);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
