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

int gw_loadgen_run(const gw_loadgen_cfg_t *cfg, int64_t *planned_ns, int64_t *sent_ns,
                   gw_loadgen_result_t *res)
{
    memset(res, 0, sizeof *res);
    if (!cfg || cfg->fd < 0 || cfg->count == 0 || cfg->batch_max == 0 ||
        (cfg->interval_ns == 0 && cfg->window == 0) || cfg->timeout_ms == 0)
        return -EINVAL;
    int64_t *planned_at = malloc(sizeof(int64_t) * cfg->count);
    int64_t *sent_at = malloc(sizeof(int64_t) * cfg->count);
    uint8_t *rx = malloc(GW_LG_RX_BYTES);
    uint8_t *tx = malloc(GW_LG_TX_BYTES);
    if (!planned_at || !sent_at || !rx || !tx) {
        free(planned_at), free(sent_at), free(rx), free(tx);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < cfg->count; i++)
        planned_ns[i] = sent_ns[i] = -1;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);   /* ppoll wakes within ns, not the default 50 us */
    sbe_new_order_single_t nos = {
        .price = cfg->price, .stop_px = SBE_OPTIONAL_PRICE_NULL, .order_qty = 1,
        .display_qty = SBE_OPTIONAL_QTY_NULL, .expire_time_ns = SBE_OPTIONAL_TIME_NS_NULL,
        .instrument_id = cfg->instrument_id, .account_id = cfg->account_id, .side = cfg->side,
        .ord_type = SBE_ORD_TYPE_LIMIT, .time_in_force = SBE_TIME_IN_FORCE_IMMEDIATE_OR_CANCEL,
        .stp_mode = SBE_SELF_TRADE_PREVENTION_NONE};
    uint32_t next = 0, rx_len = 0, tx_head = 0, tx_tail = 0;
    int64_t start = gw_lg_now() + 1000000;   /* 1 ms to settle */
    int64_t last_progress = start;
    int rc = 0;
    while (res->acked < cfg->count || res->finished + res->refused < cfg->count) {
        int64_t now = gw_lg_now();
        /* Queue every order that is due (open loop), up to batch_max per write. */
        uint32_t batch = 0;
        while (next < cfg->count && batch < cfg->batch_max &&
               GW_LG_TX_BYTES - tx_tail >= SBE_MAX_FRAME_LENGTH) {
            int64_t due = cfg->interval_ns ? start + (int64_t)(next * cfg->interval_ns) : now;
            if (cfg->interval_ns == 0 && next - res->acked >= cfg->window)
                break;
            if (due > now)
                break;
            planned_at[next] = cfg->interval_ns ? due : now;
            sent_at[next] = now;
            if (now - due > res->max_behind_ns)
                res->max_behind_ns = now - due;
            nos.seq_num = cfg->first_seq + next;
            nos.sending_time_ns = (uint64_t)now;
            nos.cl_ord_id = cfg->first_cl_ord_id + next;
            int n = sbe_encode_new_order_single(tx + tx_tail, GW_LG_TX_BYTES - tx_tail, &nos);
            if (n < 0) {
                rc = n;
                goto out;
            }
            tx_tail += (uint32_t)n;
            next++;
            batch++;
        }
        if (tx_head < tx_tail) {
            ssize_t n = send(cfg->fd, tx + tx_head, tx_tail - tx_head, MSG_DONTWAIT | MSG_NOSIGNAL);
            res->send_calls++;
            if (n > 0)
                tx_head += (uint32_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                rc = -errno;
                goto out;
            }
            if (tx_head == tx_tail)
                tx_head = tx_tail = 0;
        }
        /* Wait for reports, or until the next planned send. */
        int64_t wait_ns = 0;
        if (tx_head == tx_tail) {
            if (next < cfg->count && cfg->interval_ns)
                wait_ns = start + (int64_t)(next * cfg->interval_ns) - gw_lg_now();
            else if (next >= cfg->count || (cfg->interval_ns == 0 && next - res->acked >= cfg->window))
                wait_ns = 10000000;
        }
        struct pollfd pfd = {.fd = cfg->fd, .events = POLLIN | (tx_head < tx_tail ? POLLOUT : 0)};
        struct timespec ts = {.tv_sec = wait_ns > 0 ? wait_ns / 1000000000 : 0,
                              .tv_nsec = wait_ns > 0 ? wait_ns % 1000000000 : 0};
        int pr = ppoll(&pfd, 1, &ts, NULL);
        if (pr > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP))) {
            ssize_t n = recv(cfg->fd, rx + rx_len, GW_LG_RX_BYTES - rx_len, MSG_DONTWAIT);
            if (n == 0) {
                rc = -EPROTO;
                goto out;
            }
            if (n > 0) {
                rx_len += (uint32_t)n;
                int64_t t = gw_lg_now();
                rc = gw_lg_read(cfg, rx, &rx_len, t, planned_at, sent_at, planned_ns, sent_ns, res);
                if (rc < 0)
                    goto out;
                last_progress = t;
                res->elapsed_ns = t - start;
            }
        }
        if (gw_lg_now() - last_progress > (int64_t)cfg->timeout_ms * 1000000) {
            rc = -ETIMEDOUT;
            goto out;
        }
    }
out:
    res->sent = next;
    res->error = rc;
    free(planned_at), free(sent_at), free(rx), free(tx);
    return rc;
}
