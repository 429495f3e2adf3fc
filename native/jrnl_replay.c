/*
 * jrnl_replay.c - replay of the command journal through eng_process (see jrnl_replay.h).
 * The engine is a pure function of its sequenced input, so the same records always give the
 * same events and state hash; a difference from the event journal is reported, never repaired.
 */
#define _GNU_SOURCE
#include "jrnl_replay.h"

#include <stdio.h>
#include <string.h>

#include "jrnl_crc.h"
#include "jrnl_cursor.h"
#include "ring_segment.h"

#define JRNL_REPLAY_SINK_EVENTS 256

typedef struct jrnl_replay_state {
    eng_sink_t sink;
    eng_evt_t buf[JRNL_REPLAY_SINK_EVENTS];
    jrnl_log_t *evt_log;
    jrnl_cursor_t evt_cur;
    int evt_ended;                  /* 1: the event journal ended, every further event is new */
    uint64_t seq;
    int64_t ts_ns;
    uint32_t index;                 /* events of the current command so far */
    int rc;
    jrnl_replay_result_t *out;
} jrnl_replay_state_t;

static void jrnl_replay_flush(eng_sink_t *sink)
{
    jrnl_replay_state_t *st = (jrnl_replay_state_t *)sink->ctx;
    jrnl_replay_result_t *out = st->out;
    out->events_crc = jrnl_crc32c(out->events_crc, sink->buf, sink->len * sizeof(eng_evt_t));
    out->events += sink->len;
    for (uint32_t i = 0; st->evt_log && st->rc == 0 && i < sink->len; i++, st->index++) {
        const eng_evt_t *ev = &sink->buf[i];
        if (!st->evt_ended) {
            const uint8_t *p;
            int rc = jrnl_cursor_next(&st->evt_cur, st->evt_log->last_seq, 0, &p);
            if (rc < 0) {
                st->rc = rc;
                snprintf(out->message, sizeof out->message, "%s", st->evt_cur.message);
                break;
            }
            if (rc == 1) {
                const jrnl_rec_hdr_t *h = (const jrnl_rec_hdr_t *)p;
                if (h->seq != st->seq || h->index != st->index ||
                    memcmp(p + sizeof *h, ev, sizeof *ev) != 0) {
                    st->rc = JRNL_MISMATCH;
                    out->mismatch_seq = st->seq;
                    snprintf(out->message, sizeof out->message, "%s: replay of seq %llu gives "
                             "event %u that differs from the event journal's record (seq %llu "
                             "index %u): the journal was not produced by this engine build",
                             st->evt_cur.dir, (unsigned long long)st->seq, st->index,
                             (unsigned long long)h->seq, h->index);
                    break;
                }
                out->events_checked++;
                continue;
            }
            st->evt_ended = 1;
        }
        int rc = jrnl_log_append(st->evt_log, st->seq, st->ts_ns, st->index, ev);
        if (rc != 0) {
            st->rc = rc;
            snprintf(out->message, sizeof out->message, "%s", st->evt_log->message);
            break;
        }
        out->events_written++;
    }
    sink->len = 0;
}

int jrnl_replay(eng_engine_t *eng, const char *dir, uint64_t from_seq, uint64_t until_seq,
                jrnl_log_t *evt_log, jrnl_replay_result_t *out)
{
    static jrnl_replay_state_t st;  /* static: 24 KiB of sink buffer off the caller's stack;
                                       replay runs once per process, before the runner */
    memset(&st, 0, sizeof st);
    memset(out, 0, sizeof *out);
    out->from_seq = from_seq;
    out->last_seq = from_seq;
    st.out = out;
    st.evt_log = evt_log;
    st.sink.buf = st.buf;
    st.sink.cap = JRNL_REPLAY_SINK_EVENTS;
    st.sink.flush = jrnl_replay_flush;
    st.sink.ctx = &st;
    jrnl_cursor_t cmd_cur;
    int rc = jrnl_cursor_open(&cmd_cur, dir, JRNL_KIND_CMD);
    if (rc == 0 && evt_log)
        rc = jrnl_cursor_open(&st.evt_cur, dir, JRNL_KIND_EVT);
    if (rc != 0) {
        snprintf(out->message, sizeof out->message, "%s: bad journal directory", dir);
        return rc;
    }
    /* Events of commands at or before from_seq belong to the snapshot's past. */
    while (evt_log && from_seq) {
        const uint8_t *p;
        if (jrnl_cursor_next(&st.evt_cur, from_seq, 0, &p) <= 0)
            break;
    }
    int64_t t0 = ring_now_ns();
    for (;;) {
        const uint8_t *p;
        rc = jrnl_cursor_next(&cmd_cur, until_seq, 0, &p);
        if (rc <= 0) {
            if (rc < 0)
                snprintf(out->message, sizeof out->message, "%s", cmd_cur.message);
            break;
        }
        const jrnl_cmd_rec_t *rec = (const jrnl_cmd_rec_t *)p;
        if (rec->hdr.seq <= from_seq)
            continue;
        st.seq = rec->hdr.seq;
        st.ts_ns = rec->hdr.ts_ns;
        st.index = 0;
        eng_process(eng, &rec->cmd, &st.sink);
        if (st.sink.len)
            jrnl_replay_flush(&st.sink);
        if (st.rc != 0) {
            rc = st.rc;
            break;
        }
        out->commands++;
        out->last_seq = st.seq;
        out->last_ts_ns = st.ts_ns;
    }
    out->elapsed_ns = ring_now_ns() - t0;
    out->state_hash = eng_state_hash(eng);
    jrnl_cursor_close(&cmd_cur);
    if (evt_log)
        jrnl_cursor_close(&st.evt_cur);
    return rc < 0 ? rc : 0;
}
