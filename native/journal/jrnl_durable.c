/*
 * jrnl_durable.c - one device write per dirty page and one cache flush per durable sync, for the
 * journal's segments (jrnl_log.c, the group-commit sync thread) and the gateway's flow store
 * (gw_store.c).
 *
 * Why: msync(MS_SYNC) and fdatasync cost three device requests after an idle gap on this
 * machine's root (ext4 without a journal, a virtio disk with a write-back cache): the data page,
 * the inode-table block, then the cache flush. A store to a page that writeback left clean
 * faults (page_mkwrite -> file_update_time), the mtime moves, and ext4's fsync without a journal
 * writes the inode's buffer even for fdatasync (fs/ext4/fsync.c: ext4_fsync_nojournal ->
 * generic_buffers_fsync_noflush -> sync_mapping_buffers). Measured with bench/disk_sync.py's
 * lone probes: 2.9-3.0 requests per msync against 2.0 for the way below.
 *
 * The way below: sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER) over the range writes its
 * dirty pages (WB_SYNC_ALL when all three flags are given, fs/sync.c since Linux 5.2) and waits
 * until the device has completed them; the inode is left alone. Then fdatasync of the flush
 * target, an inode on the same device that is never written: it has nothing to write, and the
 * filesystem still sends the device a cache flush (ext4_sync_file: without a journal whenever
 * barriers are on; with one when the file's transaction is already committed, needs_barrier;
 * xfs_file_fsync: when no log force was needed). A cache flush makes every write the device
 * completed before it durable, whichever file issued it, so the range is durable.
 *
 * Which inode is the flush target (jrnl_flush_file_open): on ext4, the filesystem's root
 * directory where this mount shows it; else "<dir>/device-flush". Why not always the file next
 * to the data: ext4 keeps 8-32 inodes in one inode-table block, and its fsync without a journal
 * writes the target's inode-table block whenever that block is dirty, whichever inode in it
 * dirtied it (ext4_fsync_nojournal -> ext4_write_inode -> sync_dirty_buffer). A segment synced
 * per order has its mtime moved by the next order's page fault whenever the coarse clock ticked
 * in between (3 of 4 lone orders 3 ms apart at HZ=250), so a flush file created beside it, often
 * in the same block, cost one more serial device write (the block, REQ_META) before the flush:
 * traced with block_rq_issue, 2.7 requests per lone order when the inode numbers shared a block,
 * 2.0 when they did not. The root directory's block holds only the root and the inodes made when
 * the filesystem was (lost+found, the first top-level directories), none written per order.
 * Durability is the same either way: any fsync of the filesystem sends the flush.
 *
 * It is used only where that is provable (jrnl_durable_provable, checked when a file is taken
 * into use), else msync of the range as before:
 *   - every byte of the file is in an allocated, written, unshared extent (FIEMAP): an
 *     overwrite in place needs no metadata to be read back after a crash (no allocation, no
 *     unwritten-to-written conversion, no copy-on-write); the journal's segments are written
 *     zeros already (jrnl_segment_make), the flow store is zero-filled at open (jrnl_fill_holes);
 *   - ext4 (not data=journal, no per-file data journaling) or xfs: filesystems that overwrite
 *     such blocks in place and flush on the fsync of a clean file, as read above;
 *   - the flush target is on the data file's device (st_dev): the root directory of an ext4
 *     filesystem, or a regular file created once, synced with its directory; opened read-only;
 *   - the file's size never changes through this path (segments and the store are made at
 *     their full size), so no i_size update is needed to read the bytes back.
 * What the fast path leaves behind after a power loss: the inode's mtime on disk may be older
 * than the last write (the flusher writes the inode later). Harmless: nothing here reads a file's
 * mtime (a segment's order is in its records, the store's state in its fields), and the mtime is
 * not needed to find or read the data. Errors: the wait of sync_file_range reports the range's
 * writeback errors (file_fdatawait_range), fdatasync the flush's.
 */
#define _GNU_SOURCE
#include "jrnl_durable.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "jrnl_segment.h"

#define JRNL_FLUSH_FILE "device-flush"
#define JRNL_FIEMAP_EXTENTS 32
#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX 0x00200000
#endif

/* Undoes mountinfo's octal escapes (a space is "\040", proc(5)) in place. */
static void jrnl_mountinfo_unescape(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

/* Calls visit(rest, ctx) for each line of /proc/self/mountinfo whose major:minor field (the third,
 * proc(5)) names device dev, rest being the line after that field, until visit returns 1. Returns
 * 1 if a visit returned 1, 0 if dev's lines were all visited (a visit returns 0, or -1 for a line
 * it cannot read), -1 if the file cannot be read or lists no readable line of dev. */
static int jrnl_mountinfo_each(dev_t dev, int (*visit)(char *rest, void *ctx), void *ctx)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -1;
    char want[32], line[4096];
    snprintf(want, sizeof want, "%u:%u", major(dev), minor(dev));
    int rc = -1;
    while (rc != 1 && fgets(line, sizeof line, f)) {
        /* mount id, parent id, major:minor, root, mount point, options..., " - ", type, source,
         * super options */
        char *save = NULL;
        strtok_r(line, " ", &save);
        strtok_r(NULL, " ", &save);
        const char *mm = strtok_r(NULL, " ", &save);
        int v = mm && strcmp(mm, want) == 0 && save ? visit(save, ctx) : -1;
        rc = v > rc ? v : rc;       /* -1: not dev's line, or one visit could not read */
    }
    fclose(f);
    return rc;
}

struct jrnl_root_want {
    char *out;
    size_t cap;
};

/* jrnl_mountinfo_each's visit for jrnl_fs_root_path: 1 (out filled) if the line's root field is
 * "/" and its mount point fits out. */
static int jrnl_root_visit(char *rest, void *ctx)
{
    struct jrnl_root_want *w = ctx;
    char *save = NULL;
    const char *root = strtok_r(rest, " ", &save);
    char *point = strtok_r(NULL, " ", &save);
    if (!root || !point || strcmp(root, "/") != 0)
        return 0;
    jrnl_mountinfo_unescape(point);
    if (strlen(point) >= w->cap)
        return 0;
    strcpy(w->out, point);
    return 1;
}

/* The mount point of a mount of device dev that shows the filesystem from its own root (root
 * field "/" in /proc/self/mountinfo) into out; 0, or -1 if none is listed or it cannot be read. */
static int jrnl_fs_root_path(dev_t dev, char *out, size_t cap)
{
    struct jrnl_root_want w = {out, cap};
    return jrnl_mountinfo_each(dev, jrnl_root_visit, &w) == 1 ? 0 : -1;
}

/* The root directory of dir's filesystem, opened read-only, when that is ext4 and a mount in
 * this namespace shows its root (inode 2, EXT4_ROOT_INO, on dir's device); else -1. */
static int32_t jrnl_fs_root_open(const char *dir)
{
    struct stat st, rst;
    struct statfs sf;
    char point[PATH_MAX];
    if (stat(dir, &st) != 0 || statfs(dir, &sf) != 0 || sf.f_type != EXT4_SUPER_MAGIC ||
        jrnl_fs_root_path(st.st_dev, point, sizeof point) != 0)
        return -1;
    int fd = open(point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &rst) != 0 || rst.st_dev != st.st_dev || rst.st_ino != 2) {
        close(fd);
        return -1;
    }
    return fd;
}

int32_t jrnl_flush_file_open(const char *dir, char *msg, size_t cap)
{
    int32_t root = jrnl_fs_root_open(dir);
    if (root >= 0)
        return root;            /* why the root directory: the comment at the top */
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, JRNL_FLUSH_FILE);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(msg, cap, "%s: directory name too long for its flush file", dir);
        return -ENAMETOOLONG;
    }
    int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        int e = errno;
        snprintf(msg, cap, "%s: cannot create the device flush file: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    int e = fstat(fd, &st) != 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL
          : fsync(fd) != 0 ? errno : 0;
    if (e != 0) {
        snprintf(msg, cap, "%s: cannot use as the device flush file: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {   /* the flush file's name is durable before it is used */
        e = errno;
        snprintf(msg, cap, "%s: cannot sync the directory: %s", dir, strerror(e));
        if (dfd >= 0)
            close(dfd);
        close(fd);
        return -e;
    }
    close(dfd);
    return fd;
}

/* jrnl_mountinfo_each's visit for jrnl_mount_has_option: 1 if the line's super options (after
 * " - ", type and source) include ctx, the option wanted. */
static int jrnl_option_visit(char *rest, void *ctx)
{
    const char *opt = ctx;
    char *sep = strstr(rest, " - ");
    if (!sep)
        return -1;
    char *save = NULL;
    strtok_r(sep + 3, " ", &save);
    strtok_r(NULL, " ", &save);
    char *super = strtok_r(NULL, " \n", &save);
    for (char *o = super ? strtok_r(super, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save))
        if (strcmp(o, opt) == 0)
            return 1;
    return 0;
}

/* 1 if /proc/self/mountinfo lists the filesystem of device dev with super option opt, 0 if it
 * lists it without, -1 if the file cannot be read or does not list dev. */
static int jrnl_mount_has_option(dev_t dev, const char *opt)
{
    return jrnl_mountinfo_each(dev, jrnl_option_visit, (void *)opt);
}

/* 1 if every byte of fd's [0, bytes) is in an allocated, written, unshared extent; else 0 with
 * the first offending offset in why. */
static int jrnl_extents_written(int fd, uint64_t bytes, char *why, size_t cap)
{
    const uint32_t bad = FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED |
                         FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_DATA_INLINE |
                         FIEMAP_EXTENT_DATA_TAIL | FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_SHARED;
    union {
        struct fiemap map;
        char room[sizeof(struct fiemap) + JRNL_FIEMAP_EXTENTS * sizeof(struct fiemap_extent)];
    } u;
    uint64_t covered = 0;           /* [0, covered) is in good extents */
    for (;;) {
        memset(&u, 0, sizeof u);
        u.map.fm_start = covered;
        u.map.fm_length = bytes - covered;
        u.map.fm_extent_count = JRNL_FIEMAP_EXTENTS;
        if (ioctl(fd, FS_IOC_FIEMAP, &u.map) != 0) {
            snprintf(why, cap, "its extents cannot be listed (FIEMAP: %s)", strerror(errno));
            return 0;
        }
        uint32_t n = u.map.fm_mapped_extents;
        for (uint32_t i = 0; i < n; i++) {
            const struct fiemap_extent *e = &u.map.fm_extents[i];
            if (e->fe_logical > covered)
                break;                  /* a hole at covered */
            if (e->fe_flags & bad) {
                snprintf(why, cap, "the extent at offset %llu is not plain written blocks "
                         "(FIEMAP flags %#x: unwritten, delayed allocation, shared or inline)",
                         (unsigned long long)e->fe_logical, e->fe_flags);
                return 0;
            }
            if (e->fe_logical + e->fe_length > covered)
                covered = e->fe_logical + e->fe_length;
            if (covered >= bytes)
                return 1;
        }
        /* Not covered yet: another batch only if this one was full, ended in an extent and
         * did not stop at a hole (each full batch moves covered forward). */
        if (n < JRNL_FIEMAP_EXTENTS || (u.map.fm_extents[n - 1].fe_flags & FIEMAP_EXTENT_LAST) ||
            u.map.fm_extents[n - 1].fe_logical + u.map.fm_extents[n - 1].fe_length != covered)
            break;
    }
    snprintf(why, cap, "it has a hole at offset %llu (sparse: a write there allocates)",
             (unsigned long long)covered);
    return 0;
}

/* 1 if the file's data may be journaled or bypass the page cache (ext4 data=journal, a file
 * with the journal-data flag, DAX), or if that cannot be told; else 0. */
static int jrnl_data_not_in_place(int fd, dev_t dev, int ext4)
{
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH, 0, &sx) != 0)
        return 1;
    if (sx.stx_attributes_mask & sx.stx_attributes & STATX_ATTR_DAX)
        return 1;
    if (!ext4)
        return 0;
    int flags = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0 || (flags & FS_JOURNAL_DATA_FL))
        return 1;
    return jrnl_mount_has_option(dev, "data=journal") != 0;
}

int jrnl_durable_provable(int32_t fd, uint64_t bytes, int32_t flush_fd, char *why, size_t cap)
{
    struct statfs sf;
    struct stat st, fst;
    if (cap)
        why[0] = '\0';
    if (fd < 0 || flush_fd < 0 || fstatfs(fd, &sf) != 0 || fstat(fd, &st) != 0 ||
        fstat(flush_fd, &fst) != 0) {
        snprintf(why, cap, "no data file or flush file to check");
        return 0;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < bytes || bytes == 0) {
        snprintf(why, cap, "not a regular file of at least %llu bytes",
                 (unsigned long long)bytes);
        return 0;
    }
    int ext4 = sf.f_type == EXT4_SUPER_MAGIC;
    if (!ext4 && sf.f_type != XFS_SUPER_MAGIC) {
        snprintf(why, cap, "its filesystem (type %#llx) is not ext4 or xfs",
                 (unsigned long long)sf.f_type);
        return 0;
    }
    /* A directory only on ext4: its fsync of a clean directory flushes, xfs_dir_fsync does not */
    if (!(S_ISREG(fst.st_mode) || (ext4 && S_ISDIR(fst.st_mode))) || fst.st_dev != st.st_dev) {
        snprintf(why, cap, "the flush target is not a regular file (or an ext4 directory) on "
                 "the same device");
        return 0;
    }
    if (jrnl_data_not_in_place(fd, st.st_dev, ext4)) {
        snprintf(why, cap, "its data is journaled or DAX (or that cannot be told): durable "
                 "only through the filesystem's own sync");
        return 0;
    }
    return jrnl_extents_written(fd, bytes, why, cap);
}

int jrnl_fill_holes(int32_t fd, uint64_t bytes)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    if ((uint64_t)st.st_size < bytes)
        return -EINVAL;                 /* zeros past the end would grow the file */
    uint64_t at = 0;
    while (at < bytes) {
        off_t hole = lseek(fd, (off_t)at, SEEK_HOLE);
        if (hole < 0)
            return -errno;
        if ((uint64_t)hole >= bytes)
            break;
        off_t data = lseek(fd, hole, SEEK_DATA);
        if (data < 0 && errno != ENXIO)
            return -errno;
        uint64_t to = data < 0 || (uint64_t)data > bytes ? bytes : (uint64_t)data;
        int e = jrnl_zero_fill_range(fd, (uint64_t)hole, to);
        if (e != 0)
            return -e;
        at = to;
    }
    return fdatasync(fd) == 0 ? 0 : -errno;
}

int jrnl_durable_sync(const jrnl_durable_t *d, uint8_t *map, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t start = off & ~(page - 1);
    if (d->flush_fd < 0)
        return msync(map + start, off + len - start, MS_SYNC) == 0 ? 0 : -errno;
    int rc = jrnl_write_back(d->fd, start, off + len - start);
    if (rc != 0)
        return rc;
    return fdatasync(d->flush_fd) == 0 ? 0 : -errno;
}
