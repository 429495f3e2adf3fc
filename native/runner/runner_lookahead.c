/*
 * runner_lookahead.c - see runner_lookahead.h. Scanning uses the consumer's own peek and
 * consume and then puts the private read position back (as runner_undrained does): the records
 * seen stay unconsumed and unreleased, so their payloads stay valid and the producer sees nothing.
 */
#include "runner_lookahead.h"

#include <stddef.h>

#include "eng_perf.h"

void runner_lookahead_reset(runner_lookahead_t *la)
{
    la->n = 0;
    la->pos = 0;
}

/* The command a complete record carries (plain or stamped), or NULL. */
static const eng_cmd_t *record_cmd(const uint8_t *payload, int32_t type, uint32_t length)
{
    if (type == RING_MSG_ENG_CMD && length == sizeof(eng_cmd_t)) return (const eng_cmd_t *)payload;
    if (type == RING_MSG_ENG_CMD_STAMPED && length == sizeof(hdr_stamped_cmd_t))
        return (const eng_cmd_t *)(payload + offsetof(hdr_stamped_cmd_t, cmd));
    return NULL;
}

static uint32_t scan(runner_lookahead_t *la, ring_spsc_t *in)
{
    const uint64_t saved_pos = in->read_pos;
    const uint32_t saved_peek = in->peek_bytes;
    uint32_t n = 0;
    while (n < RUNNER_LOOKAHEAD) {
        int32_t type;
        uint32_t length;
        int32_t off = ring_spsc_peek(in, &type, &length);
        if (off < 0) break;
        la->cmd[n++] = record_cmd(in->data + off, type, length);
        ring_spsc_consume(in);
    }
    in->read_pos = saved_pos;
    in->peek_bytes = saved_peek;
    return n;
}

void runner_lookahead_prefetch(runner_lookahead_t *la, ring_spsc_t *in, const eng_engine_t *eng)
{
    /* rescan when the window is used up, or when it was full and its end is now nearer than the
     * farthest prefetch distance (more records may wait behind it) */
    if (la->pos >= la->n || (la->n == RUNNER_LOOKAHEAD && la->pos + ENG_PREFETCH_FAR >= la->n)) {
        la->n = scan(la, in);
        la->pos = 0;
    }
    const uint32_t p = la->pos, n = la->n;
    eng_prefetch_schedule(eng, p + ENG_PREFETCH_FAR < n ? la->cmd[p + ENG_PREFETCH_FAR] : NULL,
                          p + ENG_PREFETCH_MID < n ? la->cmd[p + ENG_PREFETCH_MID] : NULL,
                          p + ENG_PREFETCH_NEAR < n ? la->cmd[p + ENG_PREFETCH_NEAR] : NULL);
}
