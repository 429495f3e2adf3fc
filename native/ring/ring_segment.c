/*
 * ring_segment.c - segment files: build under a temporary name and link into place, attach with
 * full header validation, liveness (pid + start time + heartbeat), retire.
 * Invariant: a file visible under its final name has a complete header and an initialised
 * control block, because link() happens after the READY store.
 */
#define _GNU_SOURCE
#include "ring_segment.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "ring_atomic.h"

#define RING_HUGETLBFS_MAGIC 0x958458f6   /* linux/magic.h HUGETLBFS_MAGIC */

int64_t ring_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t ring_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Field 22 (starttime) of /proc/<pid>/stat; the comm field may contain spaces and ')' so parsing
 * starts after the LAST ')' (proc(5)). 0 when unreadable. */
static uint64_t ring_proc_start_ticks(int32_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    /* After ')' come fields 3.. ; starttime is field 22, i.e. the 20th token from here. */
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    if (!p)
        return 0;
    return strtoull(p + 1, NULL, 10);
}

int ring_proc_dead(int32_t pid, uint64_t start_ticks)
{
    if (pid <= 0)
        return 1;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    if (start_ticks != 0) {
        uint64_t now_ticks = ring_proc_start_ticks(pid);
        if (now_ticks != 0 && now_ticks != start_ticks)
            return 1;
    }
    return 0;
}

static int ring_is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

static uint64_t ring_ctl_bytes(uint32_t kind)
{
    switch (kind) {
    case RING_KIND_SPSC: return sizeof(ring_spsc_ctl_t);
    case RING_KIND_BROADCAST: return sizeof(ring_bcast_ctl_t);
    case RING_KIND_CONTROL: return sizeof(ring_control_t);
    default: return 0;
    }
}

/* Checks kind/capacity/max_record as given to create, and as found in a header on attach. */
static int ring_shape_ok(uint32_t kind, uint64_t capacity, uint32_t max_record)
{
    if (ring_ctl_bytes(kind) == 0)
        return 0;
    if (kind == RING_KIND_CONTROL)
        return capacity == 0;
    return ring_is_pow2(capacity) && capacity >= RING_MIN_CAPACITY &&
           capacity <= RING_MAX_CAPACITY && max_record >= 2 * RING_RECORD_HDR_BYTES &&
           max_record <= capacity / 8;
}

static void ring_seg_fill_handle(ring_seg_t *seg, uint8_t *base, uint64_t size, const char *path,
                                 int created)
{
    ring_seg_hdr_t *hdr = (ring_seg_hdr_t *)base;
    seg->base = base;
    seg->size_bytes = size;
    seg->hdr = hdr;
    seg->ctl = base + RING_SEG_CTL_OFFSET;
    seg->data = hdr->kind == RING_KIND_CONTROL ? NULL : base + RING_SEG_DATA_OFFSET;
    seg->kind = hdr->kind;
    seg->created = created;
    seg->err_found = 0;
    seg->err_expected = 0;
    snprintf(seg->path, sizeof seg->path, "%s", path);
}

/* An existing file at path: may it be replaced? Only if it is one of ours and either CLOSED or
 * its creator is dead; a foreign or live file is never touched. */
static int ring_existing_replaceable(const char *path)
{
    ring_seg_t probe;
    int rc = ring_seg_attach(&probe, path, 0, 0, 0);
    if (rc == RING_SEG_CLOSED || rc == RING_SEG_CREATOR_DEAD)
        return 1;
    if (rc == 0)
        ring_seg_detach(&probe);
    return 0;
}

/* The segment's size: header plus capacity, rounded up to the huge page size on hugetlbfs. */
static uint64_t ring_seg_size(int fd, uint64_t capacity)
{
    uint64_t size = RING_SEG_DATA_OFFSET + capacity;
    struct statfs sfs;
    if (fstatfs(fd, &sfs) == 0 && (uint64_t)sfs.f_type == RING_HUGETLBFS_MAGIC && sfs.f_bsize > 0) {
        uint64_t huge = (uint64_t)sfs.f_bsize;   /* hugetlbfs reports the huge page size here */
        size = (size + huge - 1) / huge * huge;
    }
    return size;
}

/* Writes a fresh segment's header and marks it READY. A fresh file reads as zeros: every ring
 * position, length word and doorbell starts at 0. */
static void ring_seg_write_header(uint8_t *base, uint32_t kind, uint64_t capacity, uint64_t size,
                                  uint32_t max_record)
{
    ring_seg_hdr_t *hdr = (ring_seg_hdr_t *)base;
    hdr->magic = RING_SEG_MAGIC;
    hdr->layout_version = RING_LAYOUT_VERSION;
    hdr->kind = kind;
    hdr->capacity = capacity;
    hdr->size_bytes = size;
    hdr->max_record = kind == RING_KIND_CONTROL ? 0 : max_record;
    hdr->creator_pid = (int32_t)getpid();
    hdr->creator_start_ticks = ring_proc_start_ticks((int32_t)getpid());
    hdr->created_realtime_ns = ring_realtime_ns();
    atomic_store_explicit(ring_ai64(&hdr->heartbeat_ns), ring_now_ns(), RING_RELAXED);
    /* release: the header above happens-before an attacher's reads of it; pairs with the
     * acquire load of state in ring_liveness() (called by ring_seg_attach). The link(2) in
     * ring_seg_publish publishes the name; this store publishes the contents to any process
     * that raced in through the temporary name (none should). */
    atomic_store_explicit(ring_a32(&hdr->state), RING_STATE_READY, RING_RELEASE);
}

/* Gives the finished temporary file its name: link(2) fails rather than replace a segment, unless
 * flags allow replacing one whose creator is dead. Returns 0, RING_SEG_EXISTS or -errno. */
static int ring_seg_publish(const char *tmp, const char *path, uint32_t flags)
{
    if (link(tmp, path) == 0)
        return 0;
    int rc = -errno;
    if (rc == -EEXIST && (flags & RING_SEG_REPLACE_STALE) && ring_existing_replaceable(path)) {
        unlink(path);
        rc = link(tmp, path) == 0 ? 0 : -errno;
    }
    return rc == -EEXIST ? RING_SEG_EXISTS : rc;
}

int ring_seg_create(ring_seg_t *seg, const char *path, uint32_t kind, uint64_t capacity,
                    uint32_t max_record, uint32_t flags)
{
    if (!seg || !path || strlen(path) + 24 >= RING_SEG_PATH_MAX || (flags & ~1u))
        return RING_INVALID;
    if (kind != RING_KIND_CONTROL && max_record == 0)
        max_record = (uint32_t)(capacity / 8 > UINT32_MAX ? UINT32_MAX : capacity / 8);
    if (!ring_shape_ok(kind, capacity, max_record))
        return RING_INVALID;

    char tmp[RING_SEG_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;

    uint64_t size = ring_seg_size(fd, capacity);
    int rc = 0;
    uint8_t *base = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) != 0) {
        rc = -errno;
        goto fail;
    }
    base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (base == MAP_FAILED) {
        rc = -errno;
        goto fail;
    }
    ring_seg_write_header(base, kind, capacity, size, max_record);
    rc = ring_seg_publish(tmp, path, flags);
    if (rc != 0)
        goto fail;
    unlink(tmp);
    close(fd);
    ring_seg_fill_handle(seg, base, size, path, 1);
    return 0;

fail:
    if (base != MAP_FAILED)
        munmap(base, size);
    close(fd);
    unlink(tmp);
    return rc;
}

static int ring_liveness(const ring_seg_hdr_t *hdr, uint64_t stale_ns, uint64_t *found,
                         uint64_t *expected)
{
    /* acquire: pairs with the release store of state in ring_seg_create / ring_seg_set_state,
     * so a READY state means the header and control block are complete. */
    uint32_t state = atomic_load_explicit(ring_a32((uint32_t *)&hdr->state), RING_ACQUIRE);
    if (state == RING_STATE_INITIALISING)
        return RING_SEG_NOT_READY;
    if (state == RING_STATE_CLOSED)
        return RING_SEG_CLOSED;
    if (ring_proc_dead(hdr->creator_pid, hdr->creator_start_ticks)) {
        *found = (uint64_t)hdr->creator_pid;
        return RING_SEG_CREATOR_DEAD;
    }
    if (stale_ns != 0) {
        int64_t hb = atomic_load_explicit(ring_ai64((int64_t *)&hdr->heartbeat_ns), RING_RELAXED);
        int64_t age = ring_now_ns() - hb;
        if (age > (int64_t)stale_ns) {
            *found = (uint64_t)age;
            *expected = stale_ns;
            return RING_SEG_HEARTBEAT_STALE;
        }
    }
    return 0;
}

int ring_seg_attach(ring_seg_t *seg, const char *path, uint32_t kind, uint64_t capacity,
                    uint64_t stale_ns)
{
    if (!seg || !path || strlen(path) >= RING_SEG_PATH_MAX)
        return RING_INVALID;
    uint64_t found = 0, expected = 0;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? RING_SEG_MISSING : -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < RING_SEG_DATA_OFFSET) {
        close(fd);
        seg->err_found = size;
        seg->err_expected = RING_SEG_DATA_OFFSET;
        return RING_SEG_TRUNCATED;
    }
    uint8_t *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    int rc = base == MAP_FAILED ? -errno : 0;
    close(fd);
    if (rc)
        return rc;
    ring_seg_hdr_t *hdr = (ring_seg_hdr_t *)base;

    if (hdr->magic != RING_SEG_MAGIC) {
        rc = RING_SEG_BAD_MAGIC; found = hdr->magic; expected = RING_SEG_MAGIC;
    } else if (hdr->layout_version != RING_LAYOUT_VERSION) {
        rc = RING_SEG_BAD_VERSION; found = hdr->layout_version; expected = RING_LAYOUT_VERSION;
    } else if (kind != 0 && hdr->kind != kind) {
        rc = RING_SEG_BAD_KIND; found = hdr->kind; expected = kind;
    } else if (hdr->size_bytes != size) {
        rc = RING_SEG_TRUNCATED; found = size; expected = hdr->size_bytes;
    } else if (capacity != 0 && hdr->capacity != capacity) {
        rc = RING_SEG_BAD_CAPACITY; found = hdr->capacity; expected = capacity;
    } else if (!ring_shape_ok(hdr->kind, hdr->capacity, hdr->max_record) ||
               hdr->size_bytes < RING_SEG_DATA_OFFSET + hdr->capacity) {
        rc = RING_SEG_CORRUPT; found = hdr->capacity; expected = 0;
    } else {
        rc = ring_liveness(hdr, stale_ns, &found, &expected);
    }
    if (rc != 0) {
        munmap(base, size);
        seg->err_found = found;
        seg->err_expected = expected;
        return rc;
    }
    ring_seg_fill_handle(seg, base, size, path, 0);
    return 0;
}

int ring_seg_check_live(const ring_seg_t *seg, uint64_t stale_ns)
{
    uint64_t found = 0, expected = 0;
    int rc = ring_liveness(seg->hdr, stale_ns, &found, &expected);
    return rc == RING_SEG_NOT_READY ? 0 : rc;
}

int ring_seg_set_state(ring_seg_t *seg, uint32_t state)
{
    if (state > RING_STATE_CLOSED)
        return RING_INVALID;
    /* release: everything this process wrote before (a final heartbeat, drained rings) is
     * visible to whoever reads the new state; pairs with the acquire loads in ring_liveness()
     * and ring_seg_state(). */
    atomic_store_explicit(ring_a32(&seg->hdr->state), state, RING_RELEASE);
    return 0;
}

uint32_t ring_seg_state(const ring_seg_t *seg)
{
    /* acquire: pairs with the release store in ring_seg_set_state(). */
    return atomic_load_explicit(ring_a32(&seg->hdr->state), RING_ACQUIRE);
}

void ring_seg_heartbeat(ring_seg_t *seg, int64_t now_ns)
{
    atomic_store_explicit(ring_ai64(&seg->hdr->heartbeat_ns), now_ns, RING_RELAXED);
}

int64_t ring_seg_heartbeat_ns(const ring_seg_t *seg)
{
    return atomic_load_explicit(ring_ai64(&seg->hdr->heartbeat_ns), RING_RELAXED);
}

int ring_seg_detach(ring_seg_t *seg)
{
    if (!seg || !seg->base)
        return RING_INVALID;
    int rc = munmap(seg->base, seg->size_bytes) == 0 ? 0 : -errno;
    seg->base = NULL;
    seg->hdr = NULL;
    seg->ctl = NULL;
    seg->data = NULL;
    return rc;
}

int ring_seg_unlink(const char *path)
{
    return unlink(path) == 0 ? 0 : -errno;
}
