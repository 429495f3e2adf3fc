/*
 * runner_publish.c - the release side of the engine loop: a command's events onto the broadcast
 * log, its reply committed on its producer's reply ring, then the doorbells of whoever sleeps.
 * Invariant: events before replies (a producer that sees its reply finds the command's events
 * on the log), and one full fence before the bells' sleeper loads (venue_layout.h Section 4).
 */
#include "runner_state.h"

#include "hdr_recorder.h"
#include "ring_wait.h"

void runner_wake(runner_state_t *st)
{
    /* One full fence for all bells: orders the reply commits (release stores) above before
     * the sleepers loads; pairs with the waiter's fence in ring_wait.c. */
    ring_fence_seq_cst();
    for (uint32_t p = 0; p < st->cfg->producer_count; p++) {
        if (st->notify[p]) {
            ring_doorbell_wake_if_sleeping(&st->cfg->reply_rings[p].ctl->consumer_bell);
            st->notify[p] = 0;
        }
    }
    /* The same fence is B4 for the readers asleep on the event log (venue_layout.h Section 4):
     * events published since the last wake reach a sleeping gateway or feed at once. After the
     * producers' bells, so a reader's futex_wake never delays a reply; with no sleeper this is
     * one relaxed load, never a system call. Rung after every batch of reply commits, events or
     * not: a gateway's waker thread waits on this bell for its replies too (gw_waker.c). */
    ring_bcast_wake_readers_fenced(st->cfg->events);
}

void runner_lat_published(const runner_state_t *st, uint64_t enqueue, uint64_t matched,
                          uint64_t published, ring_reply_t *reply)
{
    const hdr_hist_t *h = &st->lat[HDR_STAGE_MATCHED_TO_PUBLISHED];
    hdr_hist_record_ticks(h, matched, published);
    uint64_t ns = published > enqueue
                      ? hdr_ticks_to_ns_with(published - enqueue, h->ns_mult, h->ns_shift) : 0;
    reply->enqueue_to_published_ns = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

void runner_release(runner_state_t *st, uint64_t rep_end, uint64_t ev_end,
                    ring_bcast_mark_t ev_mark, uint64_t seq)
{
    const runner_config_t *cfg = st->cfg;
    jrnl_log_release(cfg->cmd_journal, seq);
    jrnl_log_release(cfg->evt_journal, seq);
    if (st->ev_head != ev_end) {
        ring_bcast_publish(cfg->events, ev_mark);
        st->ev_head = ev_end;
    }
    uint64_t published = st->lat ? hdr_now() : 0;  /* latency: the group's events are out */
    for (; st->rep_head < rep_end; st->rep_head++) {
        runner_pending_reply_t *pr = &st->pend[st->rep_head & (RUNNER_PENDING_REPLIES - 1)];
        ring_spsc_t *out = &cfg->reply_rings[pr->producer];
        if (pr->lat_enqueue)
            runner_lat_published(st, pr->lat_enqueue, pr->lat_matched, published,
                                 (ring_reply_t *)(out->data + pr->offset));
        ring_spsc_commit(out, pr->offset);  /* claims are committed in claim order */
        st->notify[pr->producer] = 1;
    }
    runner_wake(st);
}
