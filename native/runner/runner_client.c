/*
 * runner_client.c - producer-slot claims and pipelined submit/collect against the runner.
 * Invariant: a client has at most as many commands in flight as its command ring holds; replies
 * are consumed in order, so replies[i] always answers cmds[i].
 */
#include "runner_client.h"

#include <string.h>

#include "ring_atomic.h"

int32_t runner_slot_claim(ring_seg_t *control_seg, int32_t pid)
{
    if (!control_seg || control_seg->kind != RING_KIND_CONTROL || pid <= 0)
        return RING_INVALID;
    uint32_t state = ring_seg_state(control_seg);
    if (state != RING_STATE_READY)
        return state == RING_STATE_INITIALISING ? RING_SEG_NOT_READY : RING_SEG_CLOSED;
    ring_control_t *ctl = (ring_control_t *)control_seg->ctl;
    /* acquire: pairs with the release store of producer_count in runner_run(): once we see the
     * count, the engine's wait_mode is visible too. */
    uint32_t count = atomic_load_explicit(ring_a32(&ctl->producer_count), RING_ACQUIRE);
    if (count == 0 || count > RING_MAX_PRODUCERS)
        return RING_SEG_NOT_READY;  /* the runner publishes the count when its loop starts */
    for (uint32_t round = 0; round < 2; round++) {
        for (uint32_t i = 0; i < count; i++) {
            int32_t *owner = &ctl->producers[i].owner_pid;
            int32_t seen = atomic_load_explicit(ring_ai32(owner), RING_RELAXED);
            /* First round: free slots only; second round: slots whose owner died. */
            if (round == 0 ? seen != 0 : (seen == 0 || !ring_proc_dead(seen, 0)))
                continue;
            /* acq_rel: the acquire half pairs with the release CAS in runner_slot_release(),
             * ordering our use of the slot's rings after the previous owner's; the release half
             * publishes our ownership. */
            if (atomic_compare_exchange_strong_explicit(ring_ai32(owner), &seen, pid,
                                                        memory_order_acq_rel, RING_RELAXED))
                return (int32_t)i;
        }
    }
    return RING_FULL;
}

int runner_slot_release(ring_seg_t *control_seg, uint32_t slot, int32_t pid)
{
    if (!control_seg || control_seg->kind != RING_KIND_CONTROL || slot >= RING_MAX_PRODUCERS)
        return RING_INVALID;
    ring_control_t *ctl = (ring_control_t *)control_seg->ctl;
    int32_t expected = pid;
    /* release: our last use of the slot's rings happens-before the next owner's; pairs with
     * the acquire half of the CAS in runner_slot_claim(). */
    if (!atomic_compare_exchange_strong_explicit(ring_ai32(&ctl->producers[slot].owner_pid),
                                                 &expected, 0, RING_RELEASE, RING_RELAXED))
        return RING_INVALID;
    return 0;
}

/* Replies read per round before they are given back (ring_spsc_release) and the command ring is
 * topped up. The engine reserves reply-ring room for every reply it holds for a sync, so the
 * room it sees is the ring minus our unread replies; with group commit a whole group, or after
 * a slow sync the whole window (32k replies in a 4 MiB ring), arrives at once. Reading all of it
 * before giving any back kept the engine from taking a single queued command for the ~2 ms the
 * read took (~60 ns a reply, measured in bench/journal.py); in chunks of 256 it takes commands
 * again after ~15 us, and the command ring it drains is refilled between chunks, so the pipeline
 * keeps moving while acks are outstanding. */
#define RUNNER_CLIENT_REPLY_CHUNK 256u

int runner_client_submit(runner_client_t *c, const eng_cmd_t *cmds, uint32_t n,
                         ring_reply_t *replies, uint64_t timeout_ns, uint32_t *done)
{
    uint32_t sent = 0, got = 0;
    *done = 0;
    while (got < n) {
        uint32_t burst = 0;
        while (sent < n) {
            if (sent == got || (sent & 63u) == 0) {
                uint32_t state = ring_seg_state(c->control_seg);
                if (state != RING_STATE_READY) {
                    if (sent == got)
                        return RING_SEG_CLOSED;
                    break;          /* collect what is in flight, then report */
                }
            }
            int rc = ring_spsc_write(c->cmd, RING_MSG_ENG_CMD, &cmds[sent], sizeof(eng_cmd_t));
            if (rc == RING_FULL)
                break;
            if (rc != 0)
                return rc;
            sent++;
            burst++;
        }
        if (burst && c->engine_bell)
            ring_doorbell_notify(c->engine_bell);   /* full fence inside: see ring_wait.c */
        int32_t type;
        uint32_t length;
        int32_t off = ring_wait_spsc_peek(c->reply, &c->wait, timeout_ns, &type, &length);
        if (off == RING_TIMEOUT)
            return RING_TIMEOUT;
        if (off < 0 || type != RING_MSG_ENG_REPLY || length != sizeof(ring_reply_t))
            return RING_SEG_CORRUPT;
        /* At most one chunk per round, then back to writing: see RUNNER_CLIENT_REPLY_CHUNK. */
        uint32_t chunk_end = sent - got > RUNNER_CLIENT_REPLY_CHUNK ? got + RUNNER_CLIENT_REPLY_CHUNK
                                                                   : sent;
        do {
            memcpy(&replies[got], c->reply->data + off, sizeof(ring_reply_t));
            ring_spsc_consume(c->reply);
            got++;
            *done = got;
            if (got >= chunk_end)   /* >=: a stale reply with nothing of ours in flight reads one */
                break;
            off = ring_spsc_peek(c->reply, &type, &length);
        } while (off >= 0 && type == RING_MSG_ENG_REPLY && length == sizeof(ring_reply_t));
        ring_spsc_release(c->reply);
        if (got < n && sent == got && ring_seg_state(c->control_seg) != RING_STATE_READY)
            return RING_SEG_CLOSED;
    }
    return 0;
}
