/*
 * md_pub.c - the publisher loop (contract in md_pub.h): broadcast log -> md_enc -> MoldUDP64 ->
 * sendmmsg / zmq_send, batch by batch. Owns the publisher's mutex (encoder shared with the
 * recovery thread) and its stop flag; the sockets belong to the caller.
 */
#define _GNU_SOURCE
#include "md_pub.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "md_feed.h"
#include "ring_bcast.h"
#include "ring_segment.h"
#include "ring_wait.h"

#define MD_PUB_MAX_PACKETS 256      /* packets cut per md_enc_pack call */
#define MD_PUB_ZMQ_SNDMORE 2        /* ZMQ_SNDMORE in zmq.h */
#define MD_PUB_LIVE_CHECK_NS 100000000

struct md_pub {
    md_pub_config_t cfg;
    md_enc_t *enc;
    const struct ring_seg *seg;
    ring_bcast_rx_t rx;
    pthread_mutex_t lock;           /* guards enc and st against the recovery thread */
    atomic_int stop;                /* md_pub_stop writes, the loop reads (relaxed: a flag that
                                       orders nothing; the loop only needs to see it eventually) */
    uint8_t *logbuf;                /* drained log records */
    uint64_t logbuf_cap;
    eng_evt_t *evts;                /* the events of one drain, contiguous */
    uint8_t *pkts;                  /* packets cut from the store */
    uint32_t lens[MD_PUB_MAX_PACKETS];
    struct mmsghdr msgs[MD_PUB_MAX_PACKETS];
    struct iovec iov[MD_PUB_MAX_PACKETS];
    struct sockaddr_in l3_dst, l2_dst;
    uint64_t rng;
    int64_t last_conflate_ns;       /* written and read under the lock */
    atomic_llong last_send_ns;      /* relaxed: an idle-timer hint that orders nothing; written
                                       under the lock, read by the loop without it */
    md_pub_stats_t st;
};

int md_pub_create(const md_pub_config_t *cfg, md_enc_t *enc, const struct ring_seg *events,
                  md_pub_t **out)
{
    if (!cfg || !enc || !events || cfg->batch_events < 1 || cfg->batch_events > 65536 ||
        cfg->heartbeat_interval_ns <= 0 || cfg->idle_sleep_ns < 0 || cfg->drop_ppm >= 1000000 ||
        (cfg->l3_fd < 0 && !cfg->l3_xdp && !cfg->zmq_socket) || (cfg->zmq_socket && !cfg->zmq_send) ||
        cfg->l3_port > 65535 || cfg->l2_port > 65535)
        return -EINVAL;
    md_pub_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    int rc = ring_bcast_rx_init(&p->rx, events);
    if (rc != 0) {
        free(p);
        return rc;
    }
    p->cfg = *cfg;
    p->enc = enc;
    p->seg = events;
    p->logbuf_cap = (uint64_t)cfg->batch_events * (RING_RECORD_HDR_BYTES + sizeof(eng_evt_t));
    p->logbuf = malloc(p->logbuf_cap);
    p->evts = malloc((size_t)cfg->batch_events * sizeof(eng_evt_t));
    p->pkts = malloc((size_t)MD_PUB_MAX_PACKETS * MD_MAX_PACKET_BYTES);
    if (!p->logbuf || !p->evts || !p->pkts || pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->logbuf);
        free(p->evts);
        free(p->pkts);
        free(p);
        return -ENOMEM;
    }
    /* rx_init put the cursor at the tail. While the log has not wrapped, offset 0 is the first
     * record (the engine's boot commands: instrument adds and phases), so a publisher started
     * after the engine can still derive everything from the start; ring_bcast_receive_batch's
     * overwrite check (R3) still guards every copy. */
    if (cfg->from_start && p->rx.cursor <= p->rx.capacity)
        p->rx.cursor = 0;
    else if (cfg->from_start)
        p->st.started_at_tail = 1;
    p->l3_dst.sin_family = AF_INET;
    p->l3_dst.sin_addr.s_addr = htonl(cfg->l3_addr);
    p->l3_dst.sin_port = htons((uint16_t)cfg->l3_port);
    p->l2_dst.sin_family = AF_INET;
    p->l2_dst.sin_addr.s_addr = htonl(cfg->l2_addr);
    p->l2_dst.sin_port = htons((uint16_t)cfg->l2_port);
    p->rng = cfg->drop_seed * 0x9E3779B97F4A7C15ull + 1;
    atomic_init(&p->stop, 0);
    *out = p;
    return 0;
}

void md_pub_destroy(md_pub_t *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p->logbuf);
    free(p->evts);
    free(p->pkts);
    free(p);
}

void md_pub_stop(md_pub_t *p)
{
    atomic_store_explicit(&p->stop, 1, memory_order_relaxed);
    /* The loop may be asleep on the log's reader bell for up to idle_sleep_ns: ring it (a wake
     * with nothing new: every other sleeping reader of the log re-checks and sleeps again). The
     * full fence orders the stop store before the load of sleepers; it pairs with the sleeper's
     * full fence in ring_doorbell_sleep() (store-buffering, as for the writer's wake). */
    ring_fence_seq_cst();
    ring_doorbell_wake_if_sleeping(&p->rx.ctl->reader_bell);
}

static int keep(md_pub_t *p)
{
    if (!p->cfg.drop_ppm)
        return 1;
    /* xorshift64*: loss injection needs a reproducible sequence, not quality randomness */
    p->rng ^= p->rng >> 12;
    p->rng ^= p->rng << 25;
    p->rng ^= p->rng >> 27;
    return (p->rng * 0x2545F4914F6CDD1Dull >> 32) % 1000000 >= p->cfg.drop_ppm;
}

/* Sends n packets (laid back to back in buf, lengths in lens) on one UDP channel and/or the
 * ZeroMQ channel `chan`. Failures are counted: a lost live packet is a gap subscribers recover. */
static void send_packets(md_pub_t *p, int fd, struct md_xdp *xdp, struct sockaddr_in *dst,
                         const char *chan, const uint8_t *buf, const uint32_t *lens, uint32_t n)
{
    uint32_t m = 0;
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        p->iov[m].iov_base = (void *)(buf + off);
        p->iov[m].iov_len = lens[i];
        off += lens[i];
        m++;
    }
    for (uint32_t i = 0; xdp && i < m; i++) {
        int r = md_xdp_send(xdp, p->iov[i].iov_base, (uint32_t)p->iov[i].iov_len);
        if (r < 0) {
            p->st.send_errors++;
            p->st.last_send_errno = -r;
        }
    }
    if (fd >= 0) {
        for (uint32_t i = 0; i < m; i++) {
            memset(&p->msgs[i].msg_hdr, 0, sizeof(p->msgs[i].msg_hdr));
            p->msgs[i].msg_hdr.msg_name = dst;
            p->msgs[i].msg_hdr.msg_namelen = sizeof(*dst);
            p->msgs[i].msg_hdr.msg_iov = &p->iov[i];
            p->msgs[i].msg_hdr.msg_iovlen = 1;
        }
        uint32_t done = 0;
        while (done < m) {
            int r = sendmmsg(fd, p->msgs + done, m - done, 0);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                p->st.send_errors += m - done;
                p->st.last_send_errno = errno;
                break;
            }
            done += (uint32_t)r;
        }
    }
    if (p->cfg.zmq_socket) {
        for (uint32_t i = 0; i < m; i++) {
            if (p->cfg.zmq_send(p->cfg.zmq_socket, chan, 2, MD_PUB_ZMQ_SNDMORE) < 0 ||
                p->cfg.zmq_send(p->cfg.zmq_socket, p->iov[i].iov_base, p->iov[i].iov_len, 0) < 0) {
                p->st.send_errors++;
                p->st.last_send_errno = errno;
            }
        }
    }
    atomic_store_explicit(&p->last_send_ns, ring_now_ns(), memory_order_relaxed);
}

/* Packs and sends [first, first + count) on L3, minus injected losses. Caller holds the lock. */
static void send_l3(md_pub_t *p, uint64_t first, uint64_t count)
{
    while (count > 0) {
        uint64_t packed = 0;
        int n = md_enc_pack(p->enc, first, count, p->pkts,
                            (size_t)MD_PUB_MAX_PACKETS * MD_MAX_PACKET_BYTES, p->lens,
                            MD_PUB_MAX_PACKETS, &packed);
        if (n <= 0)
            return;         /* cannot happen for a range just appended; nothing to send */
        if (p->cfg.drop_ppm) {
            /* compact the kept packets in place, keeping their order */
            uint32_t k = 0;
            size_t rd = 0, wr = 0;
            for (int i = 0; i < n; i++) {
                uint32_t len = p->lens[i];
                if (keep(p)) {
                    memmove(p->pkts + wr, p->pkts + rd, len);
                    p->lens[k++] = len;
                    wr += len;
                } else {
                    p->st.packets_dropped++;
                }
                rd += len;
            }
            n = (int)k;
        }
        send_packets(p, p->cfg.l3_fd, p->cfg.l3_xdp, &p->l3_dst, "L3", p->pkts, p->lens, (uint32_t)n);
        p->st.packets_sent += (uint64_t)n;
        first += packed;
        count -= packed;
    }
}

static void conflate(md_pub_t *p, int64_t now)
{
    if (p->cfg.conflate_interval_ns < 0 || (p->cfg.l2_fd < 0 && !p->cfg.zmq_socket) ||
        now - p->last_conflate_ns < p->cfg.conflate_interval_ns)
        return;
    p->last_conflate_ns = now;
    for (;;) {
        int n = md_enc_conflated(p->enc, 0, now, p->pkts,
                                 (size_t)MD_PUB_MAX_PACKETS * MD_MAX_PACKET_BYTES, p->lens,
                                 MD_PUB_MAX_PACKETS);
        if (n <= 0)
            return;
        send_packets(p, p->cfg.l2_fd, NULL, &p->l2_dst, "L2", p->pkts, p->lens, (uint32_t)n);
        p->st.l2_packets += (uint64_t)n;
        if (n < MD_PUB_MAX_PACKETS)
            return;
    }
}

int md_pub_control_packet(md_pub_t *p, int end)
{
    pthread_mutex_lock(&p->lock);
    md_enc_stats_t es;
    md_enc_get_stats(p->enc, &es);
    md_mold_hdr_t h;
    memcpy(h.session, md_enc_session(p->enc), MD_SESSION_LEN);
    uint64_t s = htobe64(es.next_seq);
    uint16_t c = htobe16(end ? MD_MOLD_END_OF_SESSION : MD_MOLD_HEARTBEAT_COUNT);
    memcpy(h.sequence_number, &s, 8);
    memcpy(h.message_count, &c, 2);
    uint32_t len = sizeof(h);
    uint64_t errs = p->st.send_errors;
    send_packets(p, p->cfg.l3_fd, p->cfg.l3_xdp, &p->l3_dst, "L3", (const uint8_t *)&h, &len, 1);
    p->st.heartbeats += !end;
    int rc = p->st.send_errors != errs ? -p->st.last_send_errno : 0;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* One drain of the log. Returns records drained (0: nothing new) or RING_SEG_CORRUPT. */
static int drain(md_pub_t *p)
{
    uint32_t lapped = 0;
    uint64_t used = 0;
    int32_t n = ring_bcast_receive_batch(&p->rx, p->logbuf, p->logbuf_cap, p->cfg.batch_events,
                                         &lapped, &used);
    if (n < 0)
        return n;
    pthread_mutex_lock(&p->lock);
    if (lapped)
        p->st.laps++;
    if (n > 0) {
        size_t ne = 0;
        uint64_t off = 0;
        for (int32_t i = 0; i < n; i++) {
            ring_record_hdr_t h;
            memcpy(&h, p->logbuf + off, sizeof(h));
            if (h.type == RING_MSG_ENG_EVT &&
                (uint32_t)h.length == RING_RECORD_HDR_BYTES + sizeof(eng_evt_t))
                memcpy(&p->evts[ne++], p->logbuf + off + RING_RECORD_HDR_BYTES, sizeof(eng_evt_t));
            else
                p->st.other_records++;
            off += ((uint64_t)h.length + RING_RECORD_ALIGN - 1) & ~(uint64_t)(RING_RECORD_ALIGN - 1);
        }
        int64_t count = md_enc_events(p->enc, p->evts, ne);
        p->st.events += ne;
        p->st.batches++;
        if (count > 0) {
            md_enc_stats_t es;
            md_enc_get_stats(p->enc, &es);
            send_l3(p, es.next_seq - (uint64_t)count, (uint64_t)count);
        }
        if (p->cfg.conflate_interval_ns == 0)
            conflate(p, ring_now_ns());
    }
    pthread_mutex_unlock(&p->lock);
    return n;
}

int md_pub_run(md_pub_t *p)
{
    uint32_t empty = 0;
    /* This thread's idle sleeps are the feed's detection delay: without this a SCHED_OTHER
     * thread's nanosleep(20 us) lasts ~70 us (the default 50 us timer slack). */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    int64_t last_live_check = ring_now_ns();
    atomic_store_explicit(&p->last_send_ns, last_live_check, memory_order_relaxed);
    for (;;) {
        int n = drain(p);
        if (n < 0)
            return n;
        if (n > 0) {
            empty = 0;
            continue;
        }
        int64_t now = ring_now_ns();
        if (p->cfg.conflate_interval_ns > 0) {
            pthread_mutex_lock(&p->lock);
            conflate(p, now);
            pthread_mutex_unlock(&p->lock);
        }
        if (now - atomic_load_explicit(&p->last_send_ns, memory_order_relaxed) >=
            p->cfg.heartbeat_interval_ns)
            md_pub_control_packet(p, 0);
        if (atomic_load_explicit(&p->stop, memory_order_relaxed))
            return 0;
        if (now - last_live_check >= MD_PUB_LIVE_CHECK_NS) {
            last_live_check = now;
            if (ring_seg_check_live(p->seg, 0) != 0) {
                /* the engine stopped: take what it published last, then end */
                while ((n = drain(p)) > 0)
                    ;
                return n < 0 ? n : 0;
            }
        }
        /* Asleep on the log's reader bell (venue_layout.h Section 4, B1-B4): the engine wakes
         * us when it publishes, so idle_sleep_ns bounds only the timers above (heartbeat,
         * conflation, stop, liveness), not the feed's delay. */
        if (++empty > p->cfg.spin_polls && p->cfg.idle_sleep_ns > 0)
            ring_bcast_wait(&p->rx, (uint64_t)p->cfg.idle_sleep_ns);
    }
}

int md_pub_pack(md_pub_t *p, uint64_t first_seq, uint64_t count, uint8_t *out, size_t cap,
                uint32_t *lens, uint32_t max_packets, uint64_t *packed)
{
    pthread_mutex_lock(&p->lock);
    int rc = md_enc_pack(p->enc, first_seq, count, out, cap, lens, max_packets, packed);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

size_t md_pub_snapshot_bytes(md_pub_t *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = md_enc_snapshot_bytes(p->enc);
    pthread_mutex_unlock(&p->lock);
    return n;
}

int64_t md_pub_snapshot(md_pub_t *p, uint8_t *out, size_t cap)
{
    pthread_mutex_lock(&p->lock);
    int64_t n = md_enc_snapshot(p->enc, out, cap);
    pthread_mutex_unlock(&p->lock);
    return n;
}

void md_pub_get_stats(md_pub_t *p, md_pub_stats_t *out, md_enc_stats_t *enc_out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->st;
    md_enc_get_stats(p->enc, enc_out);
    pthread_mutex_unlock(&p->lock);
}
