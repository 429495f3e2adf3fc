/*
 * runner_execute.c - one command through the engine loop: taken from its producer's command
 * ring, sequenced (seq, ts_ns), appended to the input journal, run through the engine, its
 * events written to the event journal and the broadcast log, and its reply claimed on the
 * producer's reply ring and handed to the durability hook (runner_hold_reply: committed at
 * once without a journal, held until durable with one).
 * Invariants: a command is dequeued only when its producer's reply ring has room for the reply
 * (a slow producer blocks only itself); all of a command's events are on the log before its
 * reply is committed; seq strictly increases by one per sequenced command; with journals, a
 * command's record is appended before eng_process sees it.
 */
#include "runner_state.h"

#include <string.h>

#include "hdr_recorder.h"
#include "ring_atomic.h"
#include "runner_lookahead.h"

/* The engine's sink: journaled, each event is appended to the event journal and staged on the
 * log (published at the release); plain, transmitted at once. */
static void runner_flush(eng_sink_t *sink)
{
    runner_state_t *st = (runner_state_t *)sink->ctx;
    if (st->journaled) {
        for (uint32_t i = 0; i < sink->len && !st->jerr; i++) {
            if (st->cmd_events == 0)
                st->first = sink->buf[i];
            runner_before_append(st, st->cfg->evt_journal);
            int rc = jrnl_log_append_batched(st->cfg->evt_journal, st->seq, st->last_ts,
                                             (uint32_t)st->cmd_events, &sink->buf[i],
                                             &st->crc_batch);
            if (rc != 0) {
                st->jerr = rc;
                break;
            }
            st->cmd_events++;
            /* Held on the log itself until durable: staged (written, not published) rather than
             * copied to a hold buffer and copied again at the release. Staged bytes stay under
             * half the log, so readers keep at least half of it as slack. */
            if (st->ev_tail - st->ev_head == RUNNER_PENDING_EVENTS ||
                ring_bcast_unpublished(st->cfg->events) >= st->cfg->events->capacity / 2) {
                st->res.forced_commits++;
                if (runner_commit(st) != 0)
                    break;
            }
            ring_bcast_stage(st->cfg->events, RING_MSG_ENG_EVT, &sink->buf[i], sizeof(eng_evt_t));
            st->ev_tail++;
        }
        st->events += sink->len;
        sink->len = 0;
        return;
    }
    for (uint32_t i = 0; i < sink->len; i++) {
        if (st->cmd_events == 0)
            st->first = sink->buf[i];
        st->cmd_events++;
        /* Cannot fail: the type is ours and 8 + 96 bytes is within every log's max_record,
         * which runner_config_ok() checked. */
        ring_bcast_transmit(st->cfg->events, RING_MSG_ENG_EVT, &sink->buf[i], sizeof(eng_evt_t));
    }
    st->events += sink->len;
    sink->len = 0;
}

void runner_sink_init(runner_state_t *st)
{
    st->sink.buf = st->buf;
    st->sink.cap = RUNNER_SINK_EVENTS;
    st->sink.flush = runner_flush;
    st->sink.ctx = st;
}

/* Copies the command out of a ring record: a plain one, or a stamped one (venue_layout.h
 * Section 5), whose enqueue stamp is kept and whose dequeue is stamped now. 0: not a command. */
static int runner_read_cmd(runner_state_t *st, const uint8_t *rec, int32_t type, uint32_t length,
                           eng_cmd_t *cmd)
{
    st->lat_enqueue = 0;
    if (type == RING_MSG_ENG_CMD && length == sizeof(eng_cmd_t)) {
        memcpy(cmd, rec, sizeof *cmd);
        return 1;
    }
    if (type != RING_MSG_ENG_CMD_STAMPED || length != sizeof(hdr_stamped_cmd_t))
        return 0;
    memcpy(cmd, rec + offsetof(hdr_stamped_cmd_t, cmd), sizeof *cmd);
    if (st->lat) {
        st->lat_dequeue = hdr_now();
        memcpy(&st->lat_enqueue, rec + offsetof(hdr_stamped_cmd_t, enqueue_ticks), 8);
    }
    return 1;
}

/* Sequences one command, runs it, publishes its events. Returns the reply. source: the producer
 * slot it came from + 1 (0: a boot command), journaled with it (venue_layout.h Section 6). */
void runner_execute(runner_state_t *st, eng_cmd_t *cmd, uint32_t source, ring_reply_t *reply)
{
    int64_t now = ring_now_ns();
    if (now > st->last_ts)
        st->last_ts = now;
    cmd->hdr.seq = ++st->seq;
    cmd->hdr.ts_ns = st->last_ts;
    st->cmd_events = 0;
    if (st->journaled) {
        /* The input record goes first: a command the engine has seen is always in the journal
         * (its crc, batched with its events', is stored before anything of it is released). */
        runner_before_append(st, st->cfg->cmd_journal);
        int rc = jrnl_log_append_batched(st->cfg->cmd_journal, cmd->hdr.seq, cmd->hdr.ts_ns,
                                         source, cmd, &st->crc_batch);
        if (rc != 0) {
            st->jerr = rc;
            st->seq--;
            memset(reply, 0, sizeof *reply);
            return;
        }
        if (st->pend_cmds++ == 0)
            st->group_start_ns = now;
    }
    st->in_command = 1;
    eng_process(st->cfg->engine, cmd, &st->sink);
    if (st->lat_enqueue)
        st->lat_matched = hdr_now();
    runner_flush(&st->sink);
    jrnl_crc_batch_seal(&st->crc_batch);    /* the command's records are complete */
    st->in_command = 0;
    st->res.commands++;
    memset(reply, 0, sizeof *reply);
    reply->seq = cmd->hdr.seq;
    reply->ts_ns = cmd->hdr.ts_ns;
    reply->event_count = (uint32_t)st->cmd_events;
    if (st->cmd_events)
        reply->first = st->first;
    if (st->lat_enqueue) {
        hdr_hist_record_ticks(&st->lat[HDR_STAGE_ENQUEUE_TO_DEQUEUE], st->lat_enqueue,
                              st->lat_dequeue);
        hdr_hist_record_ticks(&st->lat[HDR_STAGE_DEQUEUE_TO_MATCHED], st->lat_dequeue,
                              st->lat_matched);
        if (!st->journaled)         /* journaled: published when the group is released */
            runner_lat_published(st, st->lat_enqueue, st->lat_matched, hdr_now(), reply);
    }
}

/* A record that is not a 96-byte command: answered, never sequenced or passed to the engine. */
static void runner_bad_record(runner_state_t *st, uint32_t p, int32_t type, ring_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    reply->first.hdr.type = ENG_EVT_REJECTED;
    reply->first.hdr.reason = ENG_REJ_UNKNOWN_COMMAND;
    reply->first.rejected.cmd_type = (uint16_t)(type > 0 && type < 65536 ? type : 0);
    st->res.bad_records++;
    ring_producer_slot_t *slot = &st->ctl->producers[p];
    atomic_store_explicit(ring_a64(&slot->bad_records), slot->bad_records + 1, RING_RELAXED);
}

/* Takes up to limit commands from producer p (runner_state.h). The one place commands are
 * taken, in every durability mode: what differs is the hook that gets each reply. */
uint32_t runner_poll_producer(runner_state_t *st, uint32_t p, uint32_t limit)
{
    ring_spsc_t *in = &st->cfg->cmd_rings[p];
    ring_spsc_t *out = &st->cfg->reply_rings[p];
    uint32_t n = 0;
    runner_lookahead_t ahead;
    runner_lookahead_reset(&ahead);
    while (n < limit && runner_hold_room(st)) {
        if (!ring_spsc_has_room(out, sizeof(ring_reply_t))) {
            st->res.reply_room_waits++;
            break;                  /* back-pressure: this producer is not reading its replies */
        }
        runner_lookahead_prefetch(&ahead, in, st->cfg->engine);
        int32_t type;
        uint32_t length;
        int32_t off = ring_spsc_peek(in, &type, &length);
        if (off < 0)
            break;                  /* RING_EMPTY, or a corrupt ring: leave it, never guess */
        /* Cannot fail: room was checked above and nothing else claims in this ring. */
        int32_t roff = ring_spsc_claim(out, RING_MSG_ENG_REPLY, sizeof(ring_reply_t));
        ring_reply_t *reply = (ring_reply_t *)(out->data + roff);
        eng_cmd_t cmd;
        if (runner_read_cmd(st, in->data + off, type, length, &cmd)) {
            ring_spsc_consume(in);
            runner_execute(st, &cmd, p + 1, reply);
            if (st->jerr) {
                ring_spsc_abort(out, roff);     /* never durable: never answered */
                break;
            }
        } else {
            ring_spsc_consume(in);
            runner_bad_record(st, p, type, reply);
        }
        runner_lookahead_advance(&ahead);
        runner_hold_reply(st, p, roff);
        n++;
    }
    if (n) {
        ring_spsc_release(in);
        ring_producer_slot_t *slot = &st->ctl->producers[p];
        /* relaxed: a counter for monitors; nothing is ordered by it. */
        atomic_store_explicit(ring_a64(&slot->commands), slot->commands + n, RING_RELAXED);
    }
    return n;
}
