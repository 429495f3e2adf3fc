/*
 * jrnl_replay.h - recovery and verification by replay: runs the command journal through the
 * engine in one C call and checks the produced events against the event journal, byte for byte,
 * appending the events the event journal is missing (a crash between the two appends).
 */
#ifndef JRNL_REPLAY_H
#define JRNL_REPLAY_H

#include <stdint.h>

#include "eng_engine.h"
#include "jrnl_log.h"

/* CFFI-BEGIN */
typedef struct jrnl_replay_result {
    uint64_t from_seq;                /* commands with seq <= this were skipped (snapshot) */
    uint64_t last_seq;                /* seq of the last command replayed (from_seq if none) */
    int64_t last_ts_ns;
    uint64_t commands;                /* commands replayed */
    uint64_t events;                  /* events they produced */
    uint64_t events_checked;          /* events found equal in the event journal */
    uint64_t events_written;          /* events appended to it because it ended earlier */
    uint64_t state_hash;              /* eng_state_hash after the replay */
    uint32_t events_crc;              /* CRC32C of all produced event bytes, in order
                                         (jrnl_replay only; 0 from jrnl_recover, whose check is
                                         the byte comparison) */
    uint32_t _pad0;
    int64_t elapsed_ns;               /* CLOCK_MONOTONIC duration of the replay loop (with
                                         jrnl_recover: and of the event journal's validation) */
    uint64_t mismatch_seq;            /* first command whose events differ, 0 if none */
    uint64_t check_chunks;            /* chunks of (up to 256) events checked, and those the
                                         engine thread checked itself (all without a checker
                                         thread; with one: it was behind, no second CPU free) */
    uint64_t check_chunks_inline;
    char message[512];
} jrnl_replay_result_t;

/* Replays every command record of the journal in dir with from_seq < seq <= until_seq into eng
 * (which must hold exactly the state after from_seq: fresh for 0, a loaded snapshot otherwise).
 * evt_log: NULL to only digest the events, or the open (writable) event journal of dir: each
 * produced event is compared with the journal's record at the same position and appended where
 * the journal ends. Returns 0 with *out filled, JRNL_MISMATCH (out->mismatch_seq, message),
 * or a journal error (message names the file). */
int jrnl_replay(eng_engine_t *eng, const char *dir, uint64_t from_seq, uint64_t until_seq,
                jrnl_log_t *evt_log, jrnl_replay_result_t *out);

/* Start-up recovery's replay: opens the event journal of cmd_log's directory into evt_log as
 * jrnl_log_open(JRNL_OPEN_REGENERABLE, max_seq = cmd_log->last_seq) does, with the same checks
 * (every record's crc, sequence order, what follows the end, repair of the tail), but made in
 * the same pass over its records as the replay compares them, and replays every command of the
 * open, validated cmd_log with seq > from_seq into eng (as jrnl_replay with evt_log; nothing
 * is written to the event journal before its open is complete). segment_bytes: of the event
 * journal's new segments. Returns 0 (evt_log open, positioned after the last event, its
 * message saying what was repaired), or an error with out->message (close evt_log anyway:
 * jrnl_log_close is safe on a log that is not open). */
int jrnl_recover(eng_engine_t *eng, jrnl_log_t *cmd_log, uint64_t from_seq, jrnl_log_t *evt_log,
                 uint64_t segment_bytes, jrnl_replay_result_t *out);
/* CFFI-END */

#endif /* JRNL_REPLAY_H */
