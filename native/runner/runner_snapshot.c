/*
 * runner_snapshot.c - the engine loop's snapshots: forked (jrnl_snapshot_fork_synced) at a
 * quiescent point, so the child copies a state between two commands whose seq is in the journal,
 * and reaped without blocking the loop. A failure is counted, never fatal: recovery then replays
 * from an older snapshot.
 */
#include "runner_state.h"

#include <sys/wait.h>

#include "jrnl_snapshot.h"

/* Reaps the snapshot child if it has exited (wait: blocks until it has). */
static void runner_snapshot_reap(runner_state_t *st, int wait)
{
    int status;
    pid_t r = waitpid(st->snap_pid, &status, wait ? 0 : WNOHANG);
    if (r != st->snap_pid) {
        if (wait) {                 /* lost (not our child any more): counted as failed */
            st->res.snapshot_failures++;
            st->snap_pid = 0;
        }
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        st->res.snapshots++;
        st->prev_snap_seq = st->snap_seq;
        st->res.last_snapshot_seq = st->snap_seq;
    } else {
        st->res.snapshot_failures++;
    }
    st->snap_pid = 0;
}

void runner_snapshot_tick(runner_state_t *st, int quiescent)
{
    const runner_config_t *cfg = st->cfg;
    if (st->snap_pid)
        runner_snapshot_reap(st, 0);
    if (!quiescent || st->snap_pid || !cfg->snapshot_every || !cfg->snapshot_dir ||
        st->seq - st->res.last_snapshot_seq < cfg->snapshot_every ||
        st->seq - st->snap_seq < cfg->snapshot_every)
        return;
    int32_t pid;
    int64_t pause;
    if (jrnl_snapshot_fork_synced(cfg->engine, cfg->snapshot_dir, st->seq, st->prev_snap_seq,
                                  cfg->durability == RUNNER_DURABILITY_GROUP ? cfg->evt_journal
                                                                             : NULL,
                                  cfg->keep_snapshots, cfg->archive_dir, &pid, &pause) != 0) {
        st->res.snapshot_failures++;
        st->snap_seq = st->seq;     /* retry after another snapshot_every commands */
        return;
    }
    st->snap_pid = pid;
    st->snap_seq = st->seq;
    st->res.snapshot_pause_ns_total += (uint64_t)pause;
    if ((uint64_t)pause > st->res.snapshot_pause_ns_max)
        st->res.snapshot_pause_ns_max = (uint64_t)pause;
}

void runner_snapshot_finish(runner_state_t *st)
{
    if (st->snap_pid)
        runner_snapshot_reap(st, 1);
}
