/*
 * runner_loop.c - the engine process's loop: passes over every producer's command ring (each
 * command through runner_execute.c), the durability step after each pass (runner_durable.c),
 * snapshots at quiescent points (runner_snapshot.c), the wait strategy when idle, a heartbeat
 * about every heartbeat_interval_ns, and the stop's drain. The invariants of the order path are
 * stated where they are kept: runner_execute.c (taking and answering a command),
 * runner_durable.c (holding it until durable), runner_publish.c (releasing it).
 */
#define _GNU_SOURCE
#include "runner_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_atomic.h"
#include "ring_wait.h"
#include "runner_state.h"

static atomic_int runner_stop_flag;

static void runner_on_signal(int sig)
{
    (void)sig;
    /* A lock-free atomic store is async-signal-safe (C11 7.14.1.1). */
    atomic_store_explicit(&runner_stop_flag, 1, RING_RELAXED);
}

int runner_install_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = runner_on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -errno;
    return 0;
}

/* One pass over all producers, then the durability step (journaled) or the producers' bells
 * (plain), and snapshots when due. Returns the commands taken. */
static uint32_t runner_pass(runner_state_t *st)
{
    uint32_t work = 0;
    for (uint32_t p = 0; p < st->cfg->producer_count && !st->jerr; p++)
        work += runner_poll_producer(st, p, st->cfg->batch_limit);
    if (!st->journaled) {
        if (work)
            runner_wake(st);
        return work;
    }
    int quiescent = runner_maybe_commit(st, work);
    if (st->snap_pid || (quiescent && st->cfg->snapshot_every))
        runner_snapshot_tick(st, quiescent);
    return work;
}

static int runner_stop_requested(const runner_state_t *st)
{
    /* acquire: pairs with the release store of stop_requested by whoever asks us to stop. */
    return atomic_load_explicit(&runner_stop_flag, RING_RELAXED) ||
           atomic_load_explicit(ring_a32(&st->ctl->stop_requested), RING_ACQUIRE);
}

static int runner_commands_pending(const runner_state_t *st)
{
    for (uint32_t p = 0; p < st->cfg->producer_count; p++)
        if (ring_spsc_ready(&st->cfg->cmd_rings[p]))
            return 1;
    return 0;
}

/* The wait strategy's re-check before sleeping: a command or a stop request. */
static int runner_has_work(void *ctx)
{
    runner_state_t *st = (runner_state_t *)ctx;
    /* An open group is work: the loop must not sleep past its window. A group being synced is
     * work once the sync is done: the sync thread rings our bell then, so the loop sleeps
     * meanwhile and a gateway sharing its CPU gets it (polling through each sync cost the
     * gateway its time slice: 1 ms P50 at 10k orders/s under SCHED_OTHER, bench/journal.py). */
    return runner_stop_requested(st) || runner_commands_pending(st) || st->pend_cmds != 0 ||
           runner_sync_done(st);
}

static void runner_heartbeat(runner_state_t *st, int64_t now)
{
    const runner_config_t *cfg = st->cfg;
    ring_seg_heartbeat(cfg->control_seg, now);
    for (uint32_t i = 0; i < cfg->seg_count; i++)
        ring_seg_heartbeat(&cfg->segs[i], now);
    /* relaxed: counters for monitors; nothing is ordered by them. */
    atomic_store_explicit(ring_a64(&st->ctl->last_seq), st->seq, RING_RELAXED);
    atomic_store_explicit(ring_a64(&st->ctl->commands), st->res.commands, RING_RELAXED);
    atomic_store_explicit(ring_a64(&st->ctl->events), st->events, RING_RELAXED);
    atomic_store_explicit(ring_a64(&st->ctl->sleeps), st->wait.sleeps, RING_RELAXED);
}

static int runner_config_ok(const runner_config_t *cfg)
{
    if (!cfg || !cfg->engine || !cfg->control_seg || cfg->control_seg->kind != RING_KIND_CONTROL ||
        !cfg->cmd_rings || !cfg->reply_rings || !cfg->events || cfg->producer_count == 0 ||
        cfg->producer_count > RING_MAX_PRODUCERS || cfg->batch_limit == 0 ||
        (cfg->seg_count && !cfg->segs) || (cfg->boot_count && !cfg->boot_cmds) ||
        cfg->heartbeat_interval_ns == 0)
        return 0;
    if (cfg->cmd_journal && (!cfg->evt_journal || cfg->group_records == 0 ||
                             cfg->durability < RUNNER_DURABILITY_ASYNC ||
                             cfg->durability > RUNNER_DURABILITY_EACH))
        return 0;
    if (cfg->events->max_record < RING_RECORD_HDR_BYTES + sizeof(eng_evt_t))
        return 0;
    for (uint32_t p = 0; p < cfg->producer_count; p++)
        if (cfg->reply_rings[p].max_record < RING_RECORD_HDR_BYTES + sizeof(ring_reply_t))
            return 0;
    return cfg->wait.mode == RING_WAIT_SPIN || cfg->wait.mode == RING_WAIT_BACKOFF;
}

static uint64_t runner_undrained(const runner_state_t *st)
{
    uint64_t n = 0;
    for (uint32_t p = 0; p < st->cfg->producer_count; p++) {
        ring_spsc_t *in = &st->cfg->cmd_rings[p];
        int32_t type;
        uint32_t length;
        uint64_t saved = in->read_pos;
        while (ring_spsc_peek(in, &type, &length) >= 0) {
            ring_spsc_consume(in);
            n++;
        }
        in->read_pos = saved;       /* counted, not taken: the records stay for an inspector */
    }
    return n;
}

/* Start of day: the state from cfg, durability started (journals), the boot commands
 * sequenced and committed, producers admitted. 0 or -errno / the journal error. */
static int runner_start(runner_state_t *st, const runner_config_t *cfg)
{
    memset(st, 0, sizeof *st);
    st->cfg = cfg;
    st->ctl = (ring_control_t *)cfg->control_seg->ctl;
    runner_sink_init(st);
    st->wait = cfg->wait;
    st->seq = cfg->start_seq;
    st->last_ts = cfg->start_ts_ns;
    st->journaled = cfg->cmd_journal != NULL;
    st->lat = cfg->latency;
    st->res.last_snapshot_seq = cfg->last_snapshot_seq;
    st->prev_snap_seq = cfg->last_snapshot_seq;
    st->snap_seq = cfg->last_snapshot_seq;
    if (st->journaled) {
        int rc = runner_durable_start(st);
        if (rc != 0)
            return rc;
    }
    atomic_store_explicit(ring_a32(&st->ctl->wait_mode), st->wait.mode, RING_RELAXED);
    /* release: wait_mode above happens-before a client's use of it; pairs with the acquire
     * load of producer_count in runner_slot_claim(), which admits clients only after this. */
    atomic_store_explicit(ring_a32(&st->ctl->producer_count), cfg->producer_count, RING_RELEASE);
    for (uint32_t i = 0; i < cfg->boot_count; i++) {
        eng_cmd_t cmd = cfg->boot_cmds[i];
        ring_reply_t ignored;
        runner_execute(st, &cmd, 0, &ignored);
    }
    if (st->journaled)
        runner_commit(st);
    return 0;
}

/* Serves until a stop is requested or the journal fails. */
static void runner_serve(runner_state_t *st)
{
    const runner_config_t *cfg = st->cfg;
    int64_t last_hb = ring_now_ns();
    runner_heartbeat(st, last_hb);
    while (!runner_stop_requested(st) && !st->jerr) {
        uint32_t work = runner_pass(st);
        int64_t now = ring_now_ns();
        if (now - last_hb >= (int64_t)cfg->heartbeat_interval_ns) {
            last_hb = now;
            runner_heartbeat(st, now);
        }
        if (work) {
            st->wait.idle = 0;
        } else {
            st->res.idle_passes++;
            /* idle: the moment to grow the engine's resident pools ahead of its live orders
             * (a page write per new page, no call into the kernel beyond the faults it takes) */
            eng_prefault_ahead(cfg->engine);
            ring_wait_idle(&st->wait, &st->ctl->engine_bell, runner_has_work, st);
        }
    }
}

/* Stop: tell producers to submit nothing new, then drain what they already committed. A
 * producer whose reply ring stays full (dead or stuck reader) ends the drain after
 * drain_timeout_ns without progress; its records are counted as undrained. Everything held is
 * then committed (a clean stop leaves the event journal's current segment durable too). */
static void runner_drain(runner_state_t *st)
{
    const runner_config_t *cfg = st->cfg;
    ring_seg_set_state(cfg->control_seg, RING_STATE_DRAINING);
    int64_t last_progress = ring_now_ns();
    while (!st->jerr) {
        uint32_t work = runner_pass(st);
        int64_t now = ring_now_ns();
        if (work) {
            last_progress = now;
            continue;
        }
        if (!runner_commands_pending(st) || now - last_progress >= (int64_t)cfg->drain_timeout_ns)
            break;
        ring_cpu_relax();
    }
    if (!st->journaled)
        return;
    runner_commit(st);
    if (!st->jerr && cfg->durability == RUNNER_DURABILITY_GROUP &&
        jrnl_log_sync(cfg->evt_journal) != 0)
        st->jerr = cfg->evt_journal->error;
}

/* After the drain: final counters and heartbeat, every segment CLOSED, the snapshot child
 * waited for, durability's threads stopped. */
static void runner_finish(runner_state_t *st)
{
    const runner_config_t *cfg = st->cfg;
    st->res.undrained = runner_undrained(st);
    st->res.events = st->events;
    st->res.last_seq = st->seq;
    st->res.sleeps = st->wait.sleeps;
    runner_heartbeat(st, ring_now_ns());
    /* relaxed: counters for monitors; nothing is ordered by them. */
    atomic_store_explicit(ring_a64(&st->ctl->undrained), st->res.undrained, RING_RELAXED);
    atomic_store_explicit(ring_a64(&st->ctl->sleeps), st->wait.sleeps, RING_RELAXED);
    for (uint32_t i = 0; i < cfg->seg_count; i++)
        ring_seg_set_state(&cfg->segs[i], RING_STATE_CLOSED);
    ring_seg_set_state(cfg->control_seg, RING_STATE_CLOSED);
    runner_snapshot_finish(st);
    st->res.journal_error = st->jerr;
    runner_durable_stop(st);
}

int runner_run(const runner_config_t *cfg, runner_result_t *out)
{
    if (!runner_config_ok(cfg) || !out)
        return RING_INVALID;
    static runner_state_t st;       /* static: the event buffer must not live on the stack of
                                       every caller, and there is one runner per process */
    int rc = runner_start(&st, cfg);
    if (rc != 0)
        return rc;
    runner_serve(&st);
    runner_drain(&st);
    runner_finish(&st);
    *out = st.res;
    return st.jerr;
}
