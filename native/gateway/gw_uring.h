/*
 * gw_uring.h - a small io_uring of our own on the raw system calls (io_uring_setup,
 * io_uring_enter, io_uring_register) and the kernel's UAPI header: no liburing, so the extension
 * builds wherever linux/io_uring.h is (and without it, GW_HAVE_URING is 0 and the io_uring
 * backend says so at start-up). Single-threaded: the gateway thread alone touches the rings.
 *
 * Memory order with the kernel: we write SQEs then publish the SQ tail with a release store; we
 * read the CQ tail with an acquire load before reading CQEs and publish the CQ head with a
 * release store after. With SQPOLL the kernel thread reads the SQ tail on its own, so after the
 * store a full fence orders it before we read IORING_SQ_NEED_WAKEUP.
 */
#ifndef GW_URING_H
#define GW_URING_H

#include <stddef.h>
#include <stdint.h>

#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#endif
#endif
/* The features the backend uses came with Linux 6.0's header: multishot receive, sync cancel. */
#if defined(IORING_RECV_MULTISHOT) && defined(IORING_ACCEPT_MULTISHOT) && \
    defined(IORING_ASYNC_CANCEL_FD_FIXED)
#define GW_HAVE_URING 1
#else
#define GW_HAVE_URING 0
#endif

#if GW_HAVE_URING
typedef struct gw_uring {
    int fd;
    uint32_t flags;                 /* IORING_SETUP_* it was made with */
    uint32_t features;              /* IORING_FEAT_* the kernel has */
    uint32_t sq_entries, cq_entries;
    uint32_t *sq_head, *sq_tail, *sq_mask, *sq_flags, *sq_array;
    uint32_t *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    uint32_t sqe_tail;              /* SQEs prepared (ours; published at submit) */
    uint32_t sqe_published;         /* ... of which the kernel was shown this many */
    void *sq_map, *cq_map;
    size_t sq_map_len, cq_map_len, sqes_map_len;
    uint64_t *syscalls;             /* counter of our system calls (stats), may be NULL */
} gw_uring_t;

/* Sets up a ring of `entries` SQEs (CQ four times that). sqpoll_ms > 0: a kernel thread polls
 * the SQ and sleeps after that long idle. 0 or -errno. */
int gw_uring_init(gw_uring_t *r, uint32_t entries, uint32_t sqpoll_ms);
void gw_uring_exit(gw_uring_t *r);
/* A zeroed SQE to fill, or NULL when the SQ is full even after submitting what is in it. */
struct io_uring_sqe *gw_uring_get_sqe(gw_uring_t *r);
/* The SQE prepared at SQ position pos (r->sqe_tail - 1 right after its gw_uring_get_sqe) while
 * the kernel has not been shown it, so it may still be changed (grown, linked to a next one);
 * NULL once gw_uring_submit published it. */
struct io_uring_sqe *gw_uring_unpublished(gw_uring_t *r, uint32_t pos);
/* 1 when an SQE can be had without gw_uring_get_sqe submitting what is prepared. */
int gw_uring_sq_has_room(const gw_uring_t *r);
/* Publishes the SQEs prepared and enters the kernel if needed: to submit them (not with SQPOLL,
 * unless its thread sleeps), and, with wait_ms != 0 and no CQE ready, to wait up to wait_ms (< 0:
 * without limit) for one. 0 or -errno (-ETIME and -EINTR are not errors: 0). */
int gw_uring_submit(gw_uring_t *r, int wait_ms);
/* The next CQE (copied out and consumed), or 0 when there is none. */
int gw_uring_next_cqe(gw_uring_t *r, struct io_uring_cqe *out);
/* io_uring_register(2). 0 or -errno. */
int gw_uring_register(gw_uring_t *r, uint32_t opcode, const void *arg, uint32_t nr_args);
#endif

#endif /* GW_URING_H */
