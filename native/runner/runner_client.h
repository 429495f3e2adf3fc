/*
 * runner_client.h - the producer side of the engine's protocol: claim a producer slot in the
 * control segment, submit commands on the slot's SPSC ring, ring the engine's doorbell, and
 * collect one reply per command from the slot's reply ring, in order.
 * Used by Python (shm/client.py) for whole batches and by C probes; one call per batch, so Python
 * never crosses into C once per record.
 */
#ifndef RUNNER_CLIENT_H
#define RUNNER_CLIENT_H

#include <stdint.h>

#include "ring_segment.h"
#include "ring_spsc.h"
#include "ring_wait.h"

/* CFFI-BEGIN */
typedef struct runner_client {
    ring_control_t *control;
    ring_seg_t *control_seg;
    ring_spsc_t *cmd;               /* producer handle of the slot's command ring */
    ring_spsc_t *reply;             /* consumer handle of the slot's reply ring */
    ring_doorbell_t *engine_bell;   /* NULL when the engine spins (no doorbell needed) */
    ring_wait_t wait;               /* how this client waits for replies */
    uint32_t slot;
    int32_t pid;
} runner_client_t;

/* Claims the first free producer slot of the control segment for pid (CAS 0 -> pid), or a slot
 * whose owner process is dead. Returns the slot index, RING_FULL if every slot is owned by a live
 * process, or RING_SEG_CLOSED / RING_SEG_NOT_READY if the engine is stopping. */
int32_t runner_slot_claim(ring_seg_t *control_seg, int32_t pid);

/* Frees a slot this pid owns: 0, or RING_INVALID if it does not own it. */
int runner_slot_release(ring_seg_t *control_seg, uint32_t slot, int32_t pid);

/* Submits n commands (in order) and waits for their n replies, pipelining: it writes as many as
 * fit, rings the engine once per burst, and reads replies as they come, at most 256 per round
 * before giving them back and topping the command ring up again. replies[i] answers
 * cmds[i]. Returns 0; RING_TIMEOUT if timeout_ns passed without any progress (*done says how many
 * replies arrived; the rest may still be answered later and must be read before new replies);
 * RING_SEG_CLOSED if the engine stopped (control segment DRAINING or CLOSED) before all were
 * submitted; RING_SEG_CORRUPT. */
int runner_client_submit(runner_client_t *c, const eng_cmd_t *cmds, uint32_t n,
                         ring_reply_t *replies, uint64_t timeout_ns, uint32_t *done);
/* CFFI-END */

#endif /* RUNNER_CLIENT_H */
