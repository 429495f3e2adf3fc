/*
 * gw_loadgen.c - open-loop order sender and report reader on one socket, one thread.
 * Invariant: order i is never sent before start + i * interval, and sending never waits for
 * replies (except for the optional window of the max-rate mode), so a stalled gateway shows up
 * as latency from the planned time instead of silently lowering the offered rate.
 */
#define _GNU_SOURCE
#include "gw_loadgen.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "sbe_codec.h"
#include "tls_client.h"

#define GW_LG_RX_BYTES (1 << 20)
#define GW_LG_TX_BYTES (1 << 18)

static int64_t gw_lg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Handles every whole report in rx[0..*len); returns -EPROTO on Terminate or undecodable bytes. */
static int gw_lg_read(const gw_loadgen_cfg_t *cfg, uint8_t *rx, uint32_t *len, int64_t now,
                      const int64_t *planned_at, const int64_t *sent_at, int64_t *planned_ns,
                      int64_t *sent_ns, gw_loadgen_result_t *res)
{
    uint32_t off = 0;
    for (;;) {
        uint32_t flen = 0;
        int rc = sbe_frame_peek(rx + off, *len - off, &flen);
        if (rc == SBE_NEED_MORE)
            break;
        sbe_msg_t m;
        if (rc != 0 || sbe_decode(rx + off, flen, &m) != 0)
            return -EPROTO;
        off += flen;
        if (m.template_id == SBE_EXECUTION_REPORT_TEMPLATE_ID) {
            const sbe_execution_report_t *er = &m.body.execution_report;
            uint64_t i = er->cl_ord_id - cfg->first_cl_ord_id;
            if (i >= cfg->count) {
                res->other++;
                continue;
            }
            if (er->exec_type == SBE_EXEC_TYPE_NEW) {
                planned_ns[i] = now - planned_at[i];
                sent_ns[i] = now - sent_at[i];
                res->acked++;
            } else if (er->exec_type == SBE_EXEC_TYPE_CANCELED) {
                res->finished++;
            } else if (er->exec_type == SBE_EXEC_TYPE_REJECTED) {
                res->refused++;
            } else {
                res->other++;
            }
        } else if (m.template_id == SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID) {
            res->refused++;
        } else if (m.template_id == SBE_TERMINATE_TEMPLATE_ID) {
            return -EPROTO;
        } else {
            res->other++;
        }
    }
    memmove(rx, rx + off, *len - off);
    *len -= off;
    return 0;
}

/* One run's state: the orders' planned and actual send times, the socket's buffers. */
typedef struct gw_lg_state {
    int64_t *planned_at, *sent_at;
    uint8_t *rx, *tx;
    uint32_t next, rx_len, tx_head, tx_tail;
    int64_t start, last_progress;
    sbe_new_order_single_t nos;
} gw_lg_state_t;

/* Encodes every order that is due (open loop), up to batch_max per write. 0 or the codec's error. */
static int gw_lg_queue_due(const gw_loadgen_cfg_t *cfg, gw_lg_state_t *st, int64_t now,
                           gw_loadgen_result_t *res)
{
    uint32_t batch = 0;
    while (st->next < cfg->count && batch < cfg->batch_max &&
           GW_LG_TX_BYTES - st->tx_tail >= SBE_MAX_FRAME_LENGTH) {
        int64_t due = cfg->interval_ns ? st->start + (int64_t)(st->next * cfg->interval_ns) : now;
        if (cfg->interval_ns == 0 && st->next - res->acked >= cfg->window)
            break;
        if (due > now)
            break;
        st->planned_at[st->next] = cfg->interval_ns ? due : now;
        st->sent_at[st->next] = now;
        if (now - due > res->max_behind_ns)
            res->max_behind_ns = now - due;
        st->nos.seq_num = cfg->first_seq + st->next;
        st->nos.sending_time_ns = (uint64_t)now;
        st->nos.cl_ord_id = cfg->first_cl_ord_id + st->next;
        int n = sbe_encode_new_order_single(st->tx + st->tx_tail, GW_LG_TX_BYTES - st->tx_tail,
                                            &st->nos);
        if (n < 0)
            return n;
        st->tx_tail += (uint32_t)n;
        st->next++;
        batch++;
    }
    return 0;
}

/* One non-blocking send (plain or TLS): bytes written, or -EAGAIN, or another -errno. */
static ssize_t gw_lg_io_send(const gw_loadgen_cfg_t *cfg, const uint8_t *buf, uint32_t len)
{
    if (cfg->tls)
        return tls_client_send_some(cfg->tls, buf, len);
    ssize_t n = send(cfg->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    return n >= 0 ? n : (errno == EINTR ? -EAGAIN : -errno);
}

/* One non-blocking receive (plain or TLS): bytes, 0 the peer closed, -EAGAIN, or -errno. */
static ssize_t gw_lg_io_recv(const gw_loadgen_cfg_t *cfg, uint8_t *buf, uint32_t cap)
{
    if (cfg->tls)
        return tls_client_recv(cfg->tls, buf, cap);
    ssize_t n = recv(cfg->fd, buf, cap, MSG_DONTWAIT);
    return n >= 0 ? n : (errno == EINTR || errno == EWOULDBLOCK ? -EAGAIN : -errno);
}

/* One non-blocking send of what is queued. 0 or -errno. */
static int gw_lg_send(const gw_loadgen_cfg_t *cfg, gw_lg_state_t *st, gw_loadgen_result_t *res)
{
    if (st->tx_head == st->tx_tail)
        return 0;
    ssize_t n = gw_lg_io_send(cfg, st->tx + st->tx_head, st->tx_tail - st->tx_head);
    res->send_calls++;
    if (n > 0)
        st->tx_head += (uint32_t)n;
    else if (n < 0 && n != -EAGAIN)
        return (int)n;
    if (st->tx_head == st->tx_tail)
        st->tx_head = st->tx_tail = 0;
    return 0;
}

/* Waits for reports, or until the next planned send, and handles what came. 0 or -errno. */
static int gw_lg_wait_read(const gw_loadgen_cfg_t *cfg, gw_lg_state_t *st, int64_t *planned_ns,
                           int64_t *sent_ns, gw_loadgen_result_t *res)
{
    int64_t wait_ns = 0;
    if (st->tx_head == st->tx_tail) {
        if (st->next < cfg->count && cfg->interval_ns)
            wait_ns = st->start + (int64_t)(st->next * cfg->interval_ns) - gw_lg_now();
        else if (st->next >= cfg->count ||
                 (cfg->interval_ns == 0 && st->next - res->acked >= cfg->window))
            wait_ns = 10000000;
    }
    struct pollfd pfd = {.fd = cfg->fd, .events = POLLIN | (st->tx_head < st->tx_tail ? POLLOUT : 0)};
    struct timespec ts = {.tv_sec = wait_ns > 0 ? wait_ns / 1000000000 : 0,
                          .tv_nsec = wait_ns > 0 ? wait_ns % 1000000000 : 0};
    if (cfg->tls && tls_client_pending(cfg->tls))
        pfd.revents = POLLIN;       /* TLS holds decrypted bytes: the socket would not say so */
    else if (ppoll(&pfd, 1, &ts, NULL) <= 0)
        return 0;
    if (!(pfd.revents & (POLLIN | POLLERR | POLLHUP)))
        return 0;
    ssize_t n = gw_lg_io_recv(cfg, st->rx + st->rx_len, GW_LG_RX_BYTES - st->rx_len);
    if (n == 0)
        return -EPROTO;
    if (n == -EAGAIN)
        return 0;
    if (n < 0)
        return (int)n;
    st->rx_len += (uint32_t)n;
    int64_t t = gw_lg_now();
    int rc = gw_lg_read(cfg, st->rx, &st->rx_len, t, st->planned_at, st->sent_at, planned_ns,
                        sent_ns, res);
    if (rc < 0)
        return rc;
    st->last_progress = t;
    res->elapsed_ns = t - st->start;
    return 0;
}

int gw_loadgen_run(const gw_loadgen_cfg_t *cfg, int64_t *planned_ns, int64_t *sent_ns,
                   gw_loadgen_result_t *res)
{
    memset(res, 0, sizeof *res);
    if (!cfg || cfg->fd < 0 || cfg->count == 0 || cfg->batch_max == 0 ||
        (cfg->interval_ns == 0 && cfg->window == 0) || cfg->timeout_ms == 0)
        return -EINVAL;
    gw_lg_state_t st = {.planned_at = malloc(sizeof(int64_t) * cfg->count),
                        .sent_at = malloc(sizeof(int64_t) * cfg->count),
                        .rx = malloc(GW_LG_RX_BYTES), .tx = malloc(GW_LG_TX_BYTES)};
    int rc = 0;
    if (!st.planned_at || !st.sent_at || !st.rx || !st.tx) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < cfg->count; i++)
        planned_ns[i] = sent_ns[i] = -1;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);   /* ppoll wakes within ns, not the default 50 us */
    st.nos = (sbe_new_order_single_t){
        .price = cfg->price, .stop_px = SBE_OPTIONAL_PRICE_NULL, .order_qty = 1,
        .display_qty = SBE_OPTIONAL_QTY_NULL, .expire_time_ns = SBE_OPTIONAL_TIME_NS_NULL,
        .instrument_id = cfg->instrument_id, .account_id = cfg->account_id, .side = cfg->side,
        .ord_type = SBE_ORD_TYPE_LIMIT, .time_in_force = SBE_TIME_IN_FORCE_IMMEDIATE_OR_CANCEL,
        .stp_mode = SBE_SELF_TRADE_PREVENTION_NONE};
    st.start = gw_lg_now() + 1000000;   /* 1 ms to settle */
    st.last_progress = st.start;
    while (res->acked < cfg->count || res->finished + res->refused < cfg->count) {
        if ((rc = gw_lg_queue_due(cfg, &st, gw_lg_now(), res)) < 0 ||
            (rc = gw_lg_send(cfg, &st, res)) < 0 ||
            (rc = gw_lg_wait_read(cfg, &st, planned_ns, sent_ns, res)) < 0)
            break;
        if (gw_lg_now() - st.last_progress > (int64_t)cfg->timeout_ms * 1000000) {
            rc = -ETIMEDOUT;
            break;
        }
    }
    res->sent = st.next;
out:
    res->error = rc;
    free(st.planned_at), free(st.sent_at), free(st.rx), free(st.tx);
    return rc;
}
