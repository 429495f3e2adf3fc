/*
 * gw_server.c - the gateway thread's event loop: the I/O backend (gw_io.h: epoll or io_uring)
 * waits on the listening socket and every client connection and fills a per-connection frame
 * buffer, writes go out in batches from a bounded per-connection outbound buffer, and the
 * engine's rings are polled on every pass. The loop never branches on the backend.
 * Invariant: nothing a client sends can make this thread block or crash (the buffers and their
 * bounds: gw_conn.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gw_internal.h"
#include "hdr_recorder.h"
#include "ring_segment.h"
#include "ring_wait.h"

/* Set by a signal handler or gw_request_stop, read by the loop: relaxed suffices, it publishes
 * no other data. */
static atomic_int gw_stop_flag;

void gw_request_stop(void)
{
    atomic_store_explicit(&gw_stop_flag, 1, memory_order_relaxed);
}

static void gw_on_signal(int sig)
{
    (void)sig;
    gw_request_stop();
}

int gw_install_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = gw_on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return -errno;
    return 0;
}

static int64_t gw_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int gw_check_config(const gw_config_t *cfg)
{
    if (!cfg || cfg->listen_fd < 0 || !cfg->cmd || !cfg->reply || !cfg->events ||
        !cfg->control_seg || cfg->session_count == 0 || !cfg->sessions ||
        cfg->session_count >= ENG_SESSION_TAG_INDEX_MASK ||   /* index + 1 tags each command */
        cfg->max_connections == 0 || cfg->tx_buffer_bytes < 4 * GW_TX_RESERVE ||
        cfg->out_log_msgs < 2 || (cfg->out_log_msgs & (cfg->out_log_msgs - 1)) ||
        cfg->keepalive_min_ms == 0 || cfg->keepalive_max_ms < cfg->keepalive_min_ms ||
        cfg->order_capacity < 8 || (cfg->order_capacity & (cfg->order_capacity - 1)) ||
        cfg->order_id_prefix == 0 || cfg->order_id_prefix > 0xFFFF ||
        cfg->io_backend > GW_IO_URING || (cfg->tls && cfg->tls_listen_fd < 0))
        return -EINVAL;
    if (cfg->security && (!cfg->security->sessions || !cfg->security->sources))
        return -EINVAL;
    for (uint32_t i = 0; i < cfg->session_count; i++) {
        int hashed = cfg->security && cfg->security->sessions[i].key_kind == GW_KEY_HASHED;
        if ((!hashed && cfg->sessions[i].key_len == 0) || cfg->sessions[i].key_len > GW_KEY_MAX)
            return -EINVAL;
    }
    return 0;
}

static void gw_free(gw_t *g)
{
    if (g->conns) {
        for (uint32_t i = 0; i < g->cfg->max_connections; i++) {
            free(g->conns[i].tx);
            free(g->conns[i].ptx);
        }
        free(g->conns);
    }
    if (g->sessions && !g->store) {
        for (uint32_t i = 0; i < g->cfg->session_count; i++)
            free(g->sessions[i].log);
    }
    free(g->sessions);
    free(g->flows_mem);
    gw_store_close(g);
    gw_orders_free(&g->orders);
    gw_orders_free(&g->done);
    free(g->done_ring);
    gw_waker_stop(g->waker);
    g->io->close(g);
    free(g);
}

/* $VENUE_GW_TEST_DIE_BEFORE_EVENT_NOTE: a positive count arms the test hook of gw_outbound.c;
 * unset or empty leaves it off; anything else is refused (-EINVAL), never silently ignored. */
static int gw_test_hooks(gw_t *g)
{
    const char *v = getenv("VENUE_GW_TEST_DIE_BEFORE_EVENT_NOTE");
    if (!v || !v[0])
        return 0;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || v[0] == '-' || n == 0 || n > UINT32_MAX) {
        fprintf(stderr, "gateway: VENUE_GW_TEST_DIE_BEFORE_EVENT_NOTE=%.32s is not a count of "
                "1 to 4294967295 (a test hook; unset it)\n", v);
        return -EINVAL;
    }
    g->die_before_event_note = (uint32_t)n;
    return 0;
}

static int gw_setup(gw_t *g)
{
    const gw_config_t *cfg = g->cfg;
    g->conns = calloc(cfg->max_connections, sizeof(gw_conn_t));
    g->sessions = calloc(cfg->session_count, sizeof(gw_session_t));
    g->flows_mem = calloc(cfg->session_count, sizeof(gw_flow_t));
    if (!g->conns || !g->sessions || !g->flows_mem)
        return -ENOMEM;
    g->order_id_prefix = cfg->order_id_prefix;
    if (gw_test_hooks(g) < 0)
        return -EINVAL;
    g->stale_reply_seq = cfg->first_seq ? cfg->first_seq - 1 : 0;
    for (uint32_t i = 0; i < cfg->max_connections; i++) {
        g->conns[i].fd = -1;
        g->conns[i].session = -1;
        g->conns[i].tx = malloc(cfg->tx_buffer_bytes);
        if (!g->conns[i].tx)
            return -ENOMEM;
        if (cfg->tls && !(g->conns[i].ptx = malloc(cfg->tx_buffer_bytes)))
            return -ENOMEM;
    }
    for (uint32_t i = 0; i < cfg->session_count; i++) {
        gw_session_t *s = &g->sessions[i];
        s->cfg = &cfg->sessions[i];
        s->conn = -1;
        s->flow = &g->flows_mem[i];
        s->flow->session_id = cfg->sessions[i].session_id;
        s->flow->next_out_seq = 1;
        s->flow->next_in_seq = 1;
        s->log = calloc(cfg->out_log_msgs, GW_LOG_SLOT_BYTES);
        if (!s->log)
            return -ENOMEM;
    }
    int rc = gw_orders_init(&g->orders, cfg->order_capacity);
    if (rc == 0)
        rc = gw_orders_init(&g->done, GW_DONE_CAP);
    if (rc < 0)
        return rc;
    g->done_ring = calloc(GW_DONE_CAP / 2, sizeof *g->done_ring);
    if (!g->done_ring)
        return -ENOMEM;
    rc = g->io->open(g);
    if (rc < 0)
        return rc;
    if (cfg->event_doorbell && !cfg->busy_poll) {   /* a busy-polling loop never blocks */
        rc = gw_waker_start(&g->waker, cfg->events, cfg->reply);
        if (rc < 0)
            return rc;
        rc = g->io->waker_add(g, gw_waker_fd(g->waker));
        if (rc < 0)
            return rc;
    }
    g->next_order_counter = cfg->first_order_counter & ((1ull << 48) - 1);
    if (g->next_order_counter == 0)
        g->next_order_counter = 1;
    g->next_exec_id = cfg->first_exec_id ? cfg->first_exec_id : 1;
    return 0;
}

/* Closes connections whose linger ended or whose Terminate has been flushed. */
static void gw_reap(gw_t *g)
{
    for (uint32_t i = 0; i < g->cfg->max_connections; i++) {
        gw_conn_t *c = &g->conns[i];
        if (c->fd < 0)
            continue;
        if (gw_conn_out_pending(c) && gw_conn_flush(g, c) < 0) {
            gw_conn_close(g, c);
            continue;
        }
        if (c->closing && ((!gw_conn_out_pending(c) && g->io->conn_tx_idle(g, c)) ||
                           g->now_ns >= c->close_deadline_ns))
            gw_conn_close(g, c);
    }
}

int gw_open(const gw_config_t *cfg, gw_stats_t *stats, gw_t **out)
{
    int rc = gw_check_config(cfg);
    if (rc < 0)
        return rc;
    gw_t *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->cfg = cfg;
    g->stats = stats;
    g->store_fd = -1;
    g->store_shadow_fd = -1;
    g->lat = cfg->latency;
    g->io = cfg->io_backend == GW_IO_URING ? &gw_io_uring_ops : &gw_io_epoll_ops;
    g->on_unbound = fixp_session_unbound;
    memset(stats, 0, sizeof *stats);
    g->now_ns = gw_mono_ns();
    rc = gw_setup(g);
    if (rc < 0) {
        gw_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void gw_close(gw_t *g)
{
    if (g)
        gw_free(g);
}

int gw_stop_requested(void)
{
    return atomic_load_explicit(&gw_stop_flag, memory_order_relaxed);
}

/* The event-log doorbell follows cfg->events (a new log after an engine restart). */
static int gw_waker_rebind(gw_t *g)
{
    if (g->waker) {
        g->io->waker_del(g, gw_waker_fd(g->waker));
        gw_waker_stop(g->waker);
        g->waker = NULL;
    }
    if (!g->cfg->event_doorbell || g->cfg->busy_poll)
        return 0;
    int rc = gw_waker_start(&g->waker, g->cfg->events, g->cfg->reply);
    if (rc < 0)
        return rc;
    return g->io->waker_add(g, gw_waker_fd(g->waker));
}

int gw_resume(gw_t *g, uint32_t old_source, uint64_t recovered_seq, const char *journal_dir,
              char *message, uint32_t message_cap)
{
    if (!g || !message || message_cap == 0 || !g->engine_down)
        return -EINVAL;
    g->now_ns = gw_mono_ns();
    int rc = gw_resume_engine(g, old_source, recovered_seq, journal_dir, message, message_cap);
    if (rc == 0 && (rc = gw_waker_rebind(g)) < 0)
        snprintf(message, message_cap, "event doorbell: %s", strerror(-rc));
    return rc;
}

int gw_use_store(gw_t *g, const char *path, char *message, uint32_t message_cap)
{
    if (!g || !path || !path[0] || !message || message_cap == 0) {
        if (message && message_cap)
            snprintf(message, message_cap, "no store path");
        return -EINVAL;
    }
    message[0] = 0;
    return gw_store_open(g, path, message, message_cap);
}

uint32_t gw_store_last_source(const gw_t *g)
{
    return g && g->store && g->store->runs ? g->store->source : 0;
}

int gw_restore(gw_t *g, uint32_t source, uint64_t first_seq, const char *journal_dir,
               uint64_t limit_seq, char *message, uint32_t message_cap)
{
    if (!g || !message || message_cap == 0 || !g->store || source == 0)
        return -EINVAL;
    message[0] = 0;
    g->now_ns = gw_mono_ns();
    return gw_restore_run(g, source, first_seq, journal_dir, limit_seq, message, message_cap);
}

uint32_t gw_expire_mass_cancels(gw_t *g)
{
    if (!g)
        return 0;
    g->now_ns = gw_mono_ns();
    return gw_mass_expire(g);
}

/* Connections held back by a full command ring retry once the engine made room. */
static void gw_retry_blocked(gw_t *g)
{
    for (uint32_t i = 0; i < g->cfg->max_connections; i++) {
        gw_conn_t *c = &g->conns[i];
        if (c->fd >= 0 && c->blocked && !c->closing && gw_engine_has_room(g)) {
            c->blocked = 0;
            fixp_conn_input(g, c);
            if (!c->blocked && c->tls)
                gw_io_tls_drain(g, c);      /* what TLS decrypted or holds already */
            if (c->fd >= 0 && !c->blocked)
                g->io->conn_resume(g, c);
        }
    }
}

/* Timers, and whether the engine is still there: 0 to go on; -1 after an orderly engine stop;
 * GW_RUN_ENGINE_DEAD / _STALE when it died. */
static int gw_timers_and_liveness(gw_t *g, int64_t *next_timer_ns, int64_t *next_liveness_ns)
{
    const gw_config_t *cfg = g->cfg;
    if (g->now_ns < *next_timer_ns)
        return 0;
    fixp_timers(g);
    gw_mass_expire(g);
    *next_timer_ns = g->now_ns + 1000000;
    if (ring_seg_state(cfg->control_seg) != RING_STATE_READY)
        return -1;
    /* A SIGKILLed engine leaves its control segment READY, and a restarted one makes new
     * segments: without this check commands would go on into rings nobody reads. */
    if (g->now_ns < *next_liveness_ns)
        return 0;
    *next_liveness_ns = g->now_ns + (int64_t)GW_LIVENESS_CHECK_MS * 1000000;
    int live = ring_seg_check_live(cfg->control_seg, (uint64_t)cfg->engine_stale_ms * 1000000u);
    if (live == RING_SEG_CREATOR_DEAD)
        return GW_RUN_ENGINE_DEAD;
    if (live == RING_SEG_HEARTBEAT_STALE)
        return GW_RUN_ENGINE_STALE;
    return live != 0 ? -1 : 0;      /* CLOSED since the state check above: an orderly stop */
}

/* Stopping: every connection gets a Terminate and a last chance to flush. With the engine
 * dead nothing more goes to its rings (owed cancels wait for gw_resume). */
static void gw_stop_connections(gw_t *g, int engine_dead)
{
    const gw_config_t *cfg = g->cfg;
    g->engine_down = engine_dead != 0;
    g->now_ns = gw_mono_ns();
    uint16_t why = atomic_load_explicit(&gw_stop_flag, memory_order_relaxed)
                       ? ENG_GW_PEER_TERMINATED : ENG_GW_ENGINE_GONE;
    for (uint32_t i = 0; i < cfg->max_connections; i++)
        if (g->conns[i].fd >= 0)
            gw_conn_terminate(g, &g->conns[i], SBE_TERMINATION_CODE_FINISHED,
                              why == ENG_GW_PEER_TERMINATED ? ENG_GW_VENUE_STOPPING
                                                            : ENG_GW_ENGINE_GONE);
    int64_t end = g->now_ns + GW_LINGER_NS;
    for (;;) {
        g->now_ns = gw_mono_ns();
        g->io->settle(g);
        gw_reap(g);
        uint32_t open = 0;
        for (uint32_t i = 0; i < cfg->max_connections; i++)
            open += g->conns[i].fd >= 0;
        if (!open || g->now_ns >= end)
            break;
    }
    for (uint32_t i = 0; i < cfg->max_connections; i++)
        gw_conn_close(g, &g->conns[i]);
}

/* The epoll timeout of a pass that found no work, idle_ns after the last work: 0 (poll again)
 * within the spin (inflight_spin_ns while a command is in flight, else spin_ns) and while a
 * command is in flight without a waker to end the wait; else idle_sleep_ms. */
static int gw_idle_timeout_ms(gw_t *g, int64_t idle_ns, int64_t spin_ns, int64_t inflight_spin_ns)
{
    int in_flight = gw_engine_in_flight(g);
    if (in_flight && !g->waker)
        return 0;
    if (idle_ns < (in_flight ? inflight_spin_ns : spin_ns))
        return 0;
    return (int)(g->cfg->idle_sleep_ms ? g->cfg->idle_sleep_ms : 1);
}

int gw_serve(gw_t *g)
{
    const gw_config_t *cfg = g->cfg;
    if (g->engine_down)
        return -EINVAL;             /* gw_resume first */
    /* Backoff: poll (a wait with timeout 0) for idle_spin_us after the last work, then block
     * until a socket is ready, the engine publishes or answers (the waker thread watches the
     * event log and the reply ring, gw_waker.c), or idle_sleep_ms passes. A command in flight
     * does not keep the loop polling when the waker is there: a lone order's durable ack waits
     * a disk sync, and polling through it took the CPU from the engine and its sync thread on a
     * small machine (bench/journal.py, lone order). But blocking at once cost an engine that
     * answers in microseconds two thread hops per request (the demo's published->transmit went
     * from 5 to 36 us P50), so while a command is in flight the loop first polls for
     * inflight_spin_us after the last work, then blocks: the session parks at once only when
     * idle. Without the waker (--no-event-doorbell) the
     * loop polls while a command is in flight. The spin is bounded in time,
     * not in passes: a count of passes is a count of syscalls whose cost varies 10x, and a loop
     * that never blocks at moderate rates is a spinning loop (time-sliced with every other task
     * on its core, or RT-throttled if it runs SCHED_FIFO). */
    int64_t last_work_ns = g->now_ns;
    const int64_t spin_ns = (int64_t)cfg->idle_spin_us * 1000;
    const int64_t inflight_spin_ns = cfg->inflight_spin_us > cfg->idle_spin_us
                                         ? (int64_t)cfg->inflight_spin_us * 1000 : spin_ns;
    int64_t next_timer_ns = 0;
    int64_t next_liveness_ns = 0;
    int engine_dead = 0;            /* GW_RUN_ENGINE_DEAD / _STALE once detected */
    while (!atomic_load_explicit(&gw_stop_flag, memory_order_relaxed)) {
        g->now_ns = gw_mono_ns();
        int work = gw_engine_poll(g);
        work += (int)gw_sweep_run(g);   /* owed cancels (mass, cancel-on-disconnect) as room frees */
        int timeout_ms = 0;
        if (work)
            last_work_ns = g->now_ns;
        else if (!cfg->busy_poll && !g->sweeps)
            timeout_ms = gw_idle_timeout_ms(g, g->now_ns - last_work_ns, spin_ns,
                                            inflight_spin_ns);
        /* Blocking: the waker thread watches the event log from our cursor on (the poll above
         * found nothing past it) and ends the wait when the engine publishes. */
        int armed = timeout_ms && g->waker;
        if (armed && !gw_waker_arm(g->waker, cfg->events->cursor, cfg->reply->read_pos))
            timeout_ms = 0;         /* news since the poll above: poll again, do not block */
        int n = g->io->wait(g, timeout_ms);     /* dispatches: reads, accepts, the doorbell */
        if (armed)
            gw_waker_disarm(g->waker);
        g->now_ns = gw_mono_ns();
        if (n > 0)
            last_work_ns = g->now_ns;
        gw_retry_blocked(g);
        if (g->cmds_unsignalled) {
            if (cfg->engine_bell)
                ring_doorbell_notify(cfg->engine_bell);   /* full fence inside: ring_wait.c */
            g->cmds_unsignalled = 0;
        }
        if (cfg->admin)
            gw_admin_service(g);    /* before reap: an admin Terminate is flushed this pass */
        gw_reap(g);
        g->io->submit(g);           /* this pass's writes, together */
        if (g->lat)
            gw_engine_lat_transmitted(g);   /* latency: the reports above were just flushed */
        int live = gw_timers_and_liveness(g, &next_timer_ns, &next_liveness_ns);
        if (live) {
            engine_dead = live > 0 ? live : 0;
            break;
        }
    }
    gw_stop_connections(g, engine_dead);
    if (!engine_dead)               /* a stop request: consumed here; else the caller sees it */
        atomic_store_explicit(&gw_stop_flag, 0, memory_order_relaxed);
    return engine_dead;
}
