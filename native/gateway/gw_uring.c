/*
 * gw_uring.c - the raw io_uring helpers of gw_uring.h (see there for the memory order).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gw_uring.h"

#if GW_HAVE_URING

static void gw_uring_count(gw_uring_t *r)
{
    if (r->syscalls)
        (*r->syscalls)++;
}

static int gw_uring_enter(gw_uring_t *r, uint32_t to_submit, uint32_t min_complete,
                          uint32_t flags, const void *arg, size_t argsz)
{
    gw_uring_count(r);
    long rc = syscall(__NR_io_uring_enter, r->fd, to_submit, min_complete, flags, arg, argsz);
    return rc < 0 ? -errno : (int)rc;
}

int gw_uring_register(gw_uring_t *r, uint32_t opcode, const void *arg, uint32_t nr_args)
{
    gw_uring_count(r);
    long rc = syscall(__NR_io_uring_register, r->fd, opcode, arg, nr_args);
    return rc < 0 ? -errno : 0;
}

static void *gw_uring_at(void *base, uint32_t off)
{
    return (char *)base + off;
}

static int gw_uring_map(gw_uring_t *r, const struct io_uring_params *p)
{
    r->sq_map_len = p->sq_off.array + p->sq_entries * sizeof(uint32_t);
    r->cq_map_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    if (p->features & IORING_FEAT_SINGLE_MMAP) {
        if (r->cq_map_len > r->sq_map_len)
            r->sq_map_len = r->cq_map_len;
        r->cq_map_len = r->sq_map_len;
    }
    r->sq_map = mmap(NULL, r->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                     r->fd, IORING_OFF_SQ_RING);
    if (r->sq_map == MAP_FAILED)
        return -errno;
    if (p->features & IORING_FEAT_SINGLE_MMAP) {
        r->cq_map = r->sq_map;
    } else {
        r->cq_map = mmap(NULL, r->cq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                         r->fd, IORING_OFF_CQ_RING);
        if (r->cq_map == MAP_FAILED)
            return -errno;
    }
    r->sqes_map_len = p->sq_entries * sizeof(struct io_uring_sqe);
    r->sqes = mmap(NULL, r->sqes_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                   r->fd, IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED) {
        r->sqes = NULL;
        return -errno;
    }
    r->sq_head = gw_uring_at(r->sq_map, p->sq_off.head);
    r->sq_tail = gw_uring_at(r->sq_map, p->sq_off.tail);
    r->sq_mask = gw_uring_at(r->sq_map, p->sq_off.ring_mask);
    r->sq_flags = gw_uring_at(r->sq_map, p->sq_off.flags);
    r->sq_array = gw_uring_at(r->sq_map, p->sq_off.array);
    r->cq_head = gw_uring_at(r->cq_map, p->cq_off.head);
    r->cq_tail = gw_uring_at(r->cq_map, p->cq_off.tail);
    r->cq_mask = gw_uring_at(r->cq_map, p->cq_off.ring_mask);
    r->cqes = gw_uring_at(r->cq_map, p->cq_off.cqes);
    /* The SQ array maps slot i to SQE i once and for all: SQEs are used in ring order. */
    for (uint32_t i = 0; i < p->sq_entries; i++)
        r->sq_array[i] = i;
    r->sqe_tail = r->sqe_published = *r->sq_tail;
    return 0;
}

int gw_uring_init(gw_uring_t *r, uint32_t entries, uint32_t sqpoll_ms)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->sq_map = r->cq_map = MAP_FAILED;
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = entries * 4;
    if (sqpoll_ms) {
        p.flags |= IORING_SETUP_SQPOLL;
        p.sq_thread_idle = sqpoll_ms;
    }
    long fd = syscall(__NR_io_uring_setup, entries, &p);
    if (fd < 0)
        return -errno;
    r->fd = (int)fd;
    r->flags = p.flags;
    r->features = p.features;
    r->sq_entries = p.sq_entries;
    r->cq_entries = p.cq_entries;
    int rc = gw_uring_map(r, &p);
    if (rc == 0 && !(p.features & IORING_FEAT_NODROP))
        rc = -ENOTSUP;              /* an overflowing CQ would lose completions (Linux < 5.5) */
    if (rc == 0 && !(p.features & IORING_FEAT_EXT_ARG))
        rc = -ENOTSUP;              /* a timed wait needs it (Linux 5.11) */
    if (rc < 0)
        gw_uring_exit(r);
    return rc;
}

void gw_uring_exit(gw_uring_t *r)
{
    if (r->sqes)
        munmap(r->sqes, r->sqes_map_len);
    if (r->cq_map != MAP_FAILED && r->cq_map != r->sq_map)
        munmap(r->cq_map, r->cq_map_len);
    if (r->sq_map != MAP_FAILED)
        munmap(r->sq_map, r->sq_map_len);
    if (r->fd >= 0)
        close(r->fd);
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->sq_map = r->cq_map = MAP_FAILED;
}

struct io_uring_sqe *gw_uring_get_sqe(gw_uring_t *r)
{
    /* acquire: pairs with the kernel's release store of the SQ head once it has consumed the
     * entries below it, so their slots may be written again. */
    uint32_t head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    if (r->sqe_tail - head >= r->sq_entries) {
        gw_uring_submit(r, 0);
        /* acquire: pairs with the kernel's release of the SQ head, as above */
        head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
        if (r->sqe_tail - head >= r->sq_entries)
            return NULL;
    }
    struct io_uring_sqe *sqe = &r->sqes[r->sqe_tail & *r->sq_mask];
    memset(sqe, 0, sizeof *sqe);
    r->sqe_tail++;
    return sqe;
}

struct io_uring_sqe *gw_uring_unpublished(gw_uring_t *r, uint32_t pos)
{
    if ((int32_t)(pos - r->sqe_published) < 0 || (int32_t)(r->sqe_tail - pos) <= 0)
        return NULL;                /* published already, or not prepared */
    return &r->sqes[pos & *r->sq_mask];
}

int gw_uring_sq_has_room(const gw_uring_t *r)
{
    /* acquire: pairs with the kernel's release store of the SQ head, as in gw_uring_get_sqe */
    return r->sqe_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) < r->sq_entries;
}

static int gw_uring_cq_ready(const gw_uring_t *r)
{
    /* acquire: pairs with the kernel's release store of the CQ tail after it wrote the CQEs */
    return __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE) != *r->cq_head;
}

int gw_uring_submit(gw_uring_t *r, int wait_ms)
{
    uint32_t to_submit = r->sqe_tail - r->sqe_published;
    if (to_submit) {
        /* release: the SQEs are written before the kernel sees the tail; pairs with the kernel's
         * acquire load of the SQ tail (in io_uring_enter or the SQPOLL thread). */
        __atomic_store_n(r->sq_tail, r->sqe_tail, __ATOMIC_RELEASE);
        r->sqe_published = r->sqe_tail;
    }
    uint32_t flags = 0;
    if (r->flags & IORING_SETUP_SQPOLL) {
        /* seq_cst fence: the tail store above is ordered before the NEED_WAKEUP read below;
         * pairs with the SQPOLL thread's full barrier between setting NEED_WAKEUP and its last
         * look at the tail (io_uring's documented protocol), so no submission is missed. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(r->sq_flags, __ATOMIC_RELAXED) & IORING_SQ_NEED_WAKEUP)
            flags |= IORING_ENTER_SQ_WAKEUP;
        to_submit = 0;              /* the kernel thread takes them */
    }
    /* Completions the CQ had no room for wait in the kernel until an enter with GETEVENTS. */
    if (__atomic_load_n(r->sq_flags, __ATOMIC_RELAXED) & IORING_SQ_CQ_OVERFLOW)
        flags |= IORING_ENTER_GETEVENTS;
    struct __kernel_timespec ts = {.tv_sec = wait_ms / 1000,
                                   .tv_nsec = (long long)(wait_ms % 1000) * 1000000};
    struct io_uring_getevents_arg arg = {.sigmask = 0, .sigmask_sz = _NSIG / 8,
                                         .ts = wait_ms > 0 ? (uint64_t)(uintptr_t)&ts : 0};
    uint32_t min_complete = 0;
    if (wait_ms != 0 && !gw_uring_cq_ready(r)) {
        flags |= IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
        min_complete = 1;
    }
    if (!to_submit && !flags)
        return 0;                   /* nothing for the kernel: no system call */
    int rc = gw_uring_enter(r, to_submit, min_complete, flags,
                            (flags & IORING_ENTER_EXT_ARG) ? &arg : NULL,
                            (flags & IORING_ENTER_EXT_ARG) ? sizeof arg : 0);
    if (rc == -ETIME || rc == -EINTR || rc == -EBUSY || rc == -EAGAIN)
        return 0;                   /* EBUSY/EAGAIN: CQ overflow backlog; the caller reaps */
    return rc < 0 ? rc : 0;
}

int gw_uring_next_cqe(gw_uring_t *r, struct io_uring_cqe *out)
{
    uint32_t head = *r->cq_head;
    /* acquire: pairs with the kernel's release store of the CQ tail after it wrote the CQE */
    if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
        return 0;
    *out = r->cqes[head & *r->cq_mask];
    /* release: the CQE is read before its slot is handed back; pairs with the kernel's acquire
     * load of the CQ head before it writes the slot again */
    __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
    return 1;
}

#endif /* GW_HAVE_URING */
