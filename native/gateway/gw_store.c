/*
 * gw_store.c - the flow store: what a gateway must not lose when its process dies, in one file
 * mapped MAP_SHARED (gw_use_store, gw_server.h): per session its sequence numbers, the message
 * being handled and the outbound log (every message it sent, for retransmission), plus the open
 * mass cancels and the facts a restart needs to find its commands in the engine's journal
 * (gw_store_hdr_t). The orders are not here: a restart rebuilds them from the journal
 * (gw_restore.c).
 *
 * Crash consistency is for the death of the process (SIGKILL, a crash), the machine staying up:
 * every store to the mapping is in the page cache the moment it retires, so the next process
 * reads exactly what this one wrote, and only the order of the writes matters. The gateway
 * thread writes each session's state in an order a restart relies on:
 *   S1 an outbound message: its slot (header, then frame), then next_out_seq + 1 (the commit:
 *      a slot at or past next_out_seq was never sent and is overwritten), then last_evt_* for
 *      a message reporting an engine event (a death between the commit and last_evt_* is
 *      mended at restart from the committed slot's header: gw_restore_event_note);
 *   S2 an inbound application message N: doubt_* (N, next_out_seq, req_cmds), then
 *      next_in_seq = N + 1, then its effect (S1 for a reject; a command written to the ring,
 *      then req_cmds + 1; a mass cancel recorded in mass[]), then doubt_in_seq = 0.
 * gw_store_order() between them keeps the compiler from reordering, and marks the store written.
 *
 * A machine crash (power loss) keeps only what was synced (gw_store_sync: the dirty pages,
 * one disk flush per pass however many messages it sends: jrnl_durable_sync, the pages'
 * writeback and the device's cache flush, which leaves the file's inode alone; the file is made
 * of written zero blocks at open for that, jrnl_fill_holes, and its size never changes. Where
 * that cannot be proven, msync of the whole store, a data-integrity fdatasync of it). The rule,
 * when the engine releases an event only once its command is durable in the journal
 * (cfg->events_durable, --durability group or each):
 *   P1 a message made from an engine event (ExecutionReports, OrderCancelReject of an engine
 *      reject; cur_evt_seq != 0) is sent without a sync. It is a pure function of the durable
 *      journal and of the store before it: its seqNum is the next one after the durable
 *      store's (no message a restart cannot rebuild was logged in between, P2), its execID is
 *      the event's key (gw_engine.c), its clOrdID is in the journaled command (a NEW's, a
 *      cancel's or replace's client_order_id). A restart on the durable store replays the
 *      journal past the store's event note (gw_restore.c) and logs it again under the same
 *      seqNum, field for field the same but for sendingTime, which is when it is made (the
 *      engine's clock is CLOCK_MONOTONIC, no sending time).
 *   P2 everything else is synced before it leaves (gw_store_owe, then gw_store_sync before the
 *      next send): a message the gateway makes itself (a reject, a cancel reject of an unknown
 *      order, a mass-cancel report, a 959 for a command the engine never sequenced), session
 *      state (established_once, next_in_seq raised by Establish or by a gap), an open mass
 *      cancel (synced before its cancels reach the engine: gw_entry.c) and its count of the
 *      orders it cancelled, before each report of one of them leaves (gw_engine.c: the journal
 *      does not tell a mass cancel's cancels from cancel-on-disconnect's, so after a power
 *      loss the report's total would miss cancels the client was told of).
 *   P3 inbound: each request the gateway took since the durable store's next_in_seq wrote
 *      exactly one journaled request command (NEW, cancel, replace) in order, or the store was
 *      synced before the next request was taken (gw_store_settle: one that wrote none, or
 *      another count; a seqNum gap is raised and synced first). So a restart counts the
 *      session's request commands the journal holds past the durable req_cmds and moves
 *      next_in_seq on by as many (gw_restore.c): an answered request resent after a power loss
 *      is refused 950; one whose command never became durable was never answered, and a
 *      resend executes it.
 * With events_durable 0 (async: the journal may lose what the gateway reported), every write
 * is synced before the next send, as P2. A kill of the process loses nothing (above). Not
 * covered: pages written after the last sync reach the disk in any order before the power
 * goes; a restart checks the log's slots against their seqNums and cuts the flow back to the
 * first one that did not (gw_restore.c), but a flow whose counters reached the disk without
 * the log slots they name is only as good as that check. $VENUE_GW_TEST_STORE_SHADOW (tests
 * only) names a file each sync copies the store to: the image a power loss right then leaves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gw_internal.h"

#define GW_STORE_MAGIC 0x314d54534f4c4657ull     /* "WFLOSTM1" in memory */
#define GW_STORE_VERSION 1
#define GW_STORE_ALIGN 4096u

static uint64_t gw_store_round(uint64_t n)
{
    return (n + GW_STORE_ALIGN - 1) & ~(uint64_t)(GW_STORE_ALIGN - 1);
}

static uint64_t gw_store_flows_off(void)
{
    return gw_store_round(sizeof(gw_store_hdr_t));
}

static uint64_t gw_store_logs_off(uint32_t sessions)
{
    return gw_store_round(gw_store_flows_off() + (uint64_t)sessions * sizeof(gw_flow_t));
}

void gw_store_order(gw_t *g)
{
    g->store_dirty = 1;
    /* A compiler barrier, no instruction: it pairs with the reads of the process that starts
     * on this store after this one was killed, gw_restore_run(), which then sees the stores in
     * program order (the CPU retires them so before the kill takes effect). */
    atomic_signal_fence(memory_order_seq_cst);
}

/* A store made by this configuration: same sessions in the same order, same log size. */
static int gw_store_check(const gw_t *g, const char *path, const gw_store_hdr_t *h,
                          uint64_t bytes, char *msg, uint32_t cap)
{
    const gw_config_t *cfg = g->cfg;
    if (h->magic != GW_STORE_MAGIC || h->version != GW_STORE_VERSION) {
        snprintf(msg, cap, "%s is not a gateway flow store of version %u", path,
                 GW_STORE_VERSION);
        return -EINVAL;
    }
    if (h->session_count != cfg->session_count || h->out_log_msgs != cfg->out_log_msgs ||
        h->file_bytes != bytes) {
        snprintf(msg, cap, "%s was made for %u sessions and --out-log-msgs %u, this gateway has "
                 "%u and %u: start with a new store (its sessions start afresh)", path,
                 h->session_count, h->out_log_msgs, cfg->session_count, cfg->out_log_msgs);
        return -EINVAL;
    }
    const gw_flow_t *flows = (const gw_flow_t *)((const uint8_t *)h + gw_store_flows_off());
    for (uint32_t i = 0; i < cfg->session_count; i++) {
        if (flows[i].session_id != cfg->sessions[i].session_id) {
            snprintf(msg, cap, "%s: session %u is %llu there, %llu in the configuration (the "
                     "sessions must keep their order)", path, i,
                     (unsigned long long)flows[i].session_id,
                     (unsigned long long)cfg->sessions[i].session_id);
            return -EINVAL;
        }
    }
    return 0;
}

static void gw_store_format(gw_t *g, gw_store_hdr_t *h, uint64_t bytes)
{
    const gw_config_t *cfg = g->cfg;
    gw_flow_t *flows = (gw_flow_t *)((uint8_t *)h + gw_store_flows_off());
    for (uint32_t i = 0; i < cfg->session_count; i++) {
        flows[i] = (gw_flow_t){.session_id = cfg->sessions[i].session_id, .next_in_seq = 1,
                               .next_out_seq = 1};
    }
    h->version = GW_STORE_VERSION;
    h->session_count = cfg->session_count;
    h->out_log_msgs = cfg->out_log_msgs;
    h->order_id_prefix = cfg->order_id_prefix;
    h->file_bytes = bytes;
    gw_store_order(g);
    h->magic = GW_STORE_MAGIC;      /* last: a half-made file is refused, not taken for a store */
}

/* Readies the store file for gw_store_sync's fast path (jrnl_durable.c): its holes (all of a
 * fresh, ftruncated store; any left by an older build) become written zero blocks, then the flush
 * file of its directory is opened and the file checked. 0, or -errno when the zeros cannot be
 * written (the disk is full: refused now rather than a SIGBUS on a later write). A flush file
 * that cannot be made or a file that fails the check leave the sync on msync. */
static int gw_store_prepare(gw_t *g, const char *path, int fd, uint64_t bytes, char *msg,
                            uint32_t cap)
{
    int rc = jrnl_fill_holes(fd, bytes);
    if (rc != 0) {
        snprintf(msg, cap, "cannot write %s's zero blocks: %s", path, strerror(-rc));
        return rc;
    }
    char dir[PATH_MAX], why[256];
    int32_t ffd = -1;
    if (strlen(path) < sizeof dir) {
        strcpy(dir, path);
        char *slash = strrchr(dir, '/');
        if (!slash)
            strcpy(dir, ".");
        else
            slash[slash == dir] = '\0';    /* "/x": the root itself */
        ffd = jrnl_flush_file_open(dir, why, sizeof why);
    }
    g->store_flush_fd = ffd >= 0 ? ffd : -1;
    g->store_durable.fd = fd;
    g->store_durable.flush_fd =
        ffd >= 0 && jrnl_durable_provable(fd, bytes, ffd, why, sizeof why) ? ffd : -1;
    g->stats->store_sync_fast = g->store_durable.flush_fd >= 0;
    return 0;
}

/* Test hook: $VENUE_GW_TEST_STORE_SHADOW names the file each sync copies the store to (the
 * image a power loss right after that sync leaves). Unset or empty: off. 0, or -errno with msg
 * set when the file cannot be made (never silently ignored). */
static int gw_store_shadow_open(gw_t *g, char *msg, uint32_t cap)
{
    const char *path = getenv("VENUE_GW_TEST_STORE_SHADOW");
    if (!path || !path[0])
        return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(msg, cap, "VENUE_GW_TEST_STORE_SHADOW=%.200s: %s (a test hook; unset it)", path,
                 strerror(e));
        return -e;
    }
    g->store_shadow_fd = fd;
    return 0;
}

static void gw_store_shadow_copy(gw_t *g)
{
    uint64_t done = 0;
    while (done < g->store_bytes) {
        ssize_t n = pwrite(g->store_shadow_fd, (const uint8_t *)g->store + done,
                           g->store_bytes - done, (off_t)done);
        if (n <= 0)
            return;                 /* the test sees a short image and fails */
        done += (uint64_t)n;
    }
}

static void gw_store_sync_now(gw_t *g);

int gw_store_open(gw_t *g, const char *path, char *msg, uint32_t cap)
{
    const gw_config_t *cfg = g->cfg;
    if (g->store) {
        snprintf(msg, cap, "the gateway has a flow store already");
        return -EINVAL;
    }
    uint64_t bytes = gw_store_logs_off(cfg->session_count) +
                     (uint64_t)cfg->session_count * cfg->out_log_msgs * GW_LOG_SLOT_BYTES;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        snprintf(msg, cap, "cannot open %s: %s", path, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    int fresh = st.st_size == 0;
    if (fresh && ftruncate(fd, (off_t)bytes) < 0) {     /* sparse: logs cost what they hold */
        int e = errno;
        snprintf(msg, cap, "cannot size %s: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    if (!fresh && (uint64_t)st.st_size != bytes) {
        snprintf(msg, cap, "%s holds %lld bytes, this configuration needs %llu: start with a "
                 "new store", path, (long long)st.st_size, (unsigned long long)bytes);
        close(fd);
        return -EINVAL;
    }
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    if (map == MAP_FAILED) {
        close(fd);
        snprintf(msg, cap, "cannot map %s: %s", path, strerror(e));
        return -e;
    }
    gw_store_hdr_t *h = map;
    if (fresh)
        gw_store_format(g, h, bytes);
    int rc = gw_store_check(g, path, h, bytes, msg, cap);
    if (rc == 0)
        rc = gw_store_prepare(g, path, fd, bytes, msg, cap);
    if (rc == 0)
        rc = gw_store_shadow_open(g, msg, cap);
    if (rc < 0) {
        munmap(map, bytes);
        close(fd);
        return rc;
    }
    g->store = h;
    g->store_bytes = bytes;
    g->store_fd = fd;               /* kept for gw_store_sync */
    g->store_dirty = 1;             /* a fresh format, or what a restore is about to write */
    g->store_owed = 1;              /* synced before anything leaves: the restore's notes (P2) */
    g->order_id_prefix = h->order_id_prefix;
    gw_flow_t *flows = (gw_flow_t *)((uint8_t *)map + gw_store_flows_off());
    uint8_t *logs = (uint8_t *)map + gw_store_logs_off(cfg->session_count);
    for (uint32_t i = 0; i < cfg->session_count; i++) {
        free(g->sessions[i].log);   /* the memory ones, unused so far */
        g->sessions[i].flow = &flows[i];
        g->sessions[i].log = logs + (uint64_t)i * cfg->out_log_msgs * GW_LOG_SLOT_BYTES;
    }
    free(g->flows_mem);
    g->flows_mem = NULL;
    return 0;
}

void gw_store_close(gw_t *g)
{
    if (!g->store)
        return;
    if (g->store_dirty || g->store_owed)
        gw_store_sync_now(g);       /* a clean stop leaves it all durable */
    munmap(g->store, g->store_bytes);
    close(g->store_fd);
    if (g->store_flush_fd >= 0)
        close(g->store_flush_fd);
    if (g->store_shadow_fd >= 0)
        close(g->store_shadow_fd);
    g->store_shadow_fd = -1;
    g->store = NULL;
    g->store_fd = -1;
    g->store_flush_fd = -1;
}

static int64_t gw_store_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void gw_store_owe(gw_t *g)
{
    g->store_owed = 1;
    gw_store_order(g);
}

static void gw_store_sync_now(gw_t *g)
{
    /* Cleared first: a write after this point marks it again for the next sync. The file's
     * dirty pages are found by the page cache's tags (a MAP_SHARED write marks its page dirty
     * at the write fault), so this writes only what changed. */
    g->store_dirty = 0;
    g->store_owed = 0;
    int64_t t0 = gw_store_now_ns();
    if (jrnl_durable_sync(&g->store_durable, (uint8_t *)g->store, 0, g->store_bytes) == 0) {
        g->stats->store_syncs++;
        if (g->store_shadow_fd >= 0)
            gw_store_shadow_copy(g);
    } else {
        g->stats->store_sync_failures++;
    }
    uint64_t dt = (uint64_t)(gw_store_now_ns() - t0);
    g->stats->store_sync_ns += dt;
    if (dt > g->stats->store_sync_ns_max)
        g->stats->store_sync_ns_max = dt;
}

void gw_store_sync(gw_t *g)
{
    if (g->store && (g->store_owed || (g->store_dirty && !g->cfg->events_durable)))
        gw_store_sync_now(g);       /* P1/P2 of the top comment */
}

void gw_store_settle(gw_t *g)
{
    if (g->store && g->store_owed)
        gw_store_sync_now(g);       /* P3 */
}

void gw_store_mass_put(gw_t *g, uint32_t m)
{
    if (!g->store)
        return;
    const gw_mass_t *x = &g->mass[m];
    gw_store_mass_t *p = &g->store->mass[m];
    p->affected = x->affected;
    if (x->transact_ns == 0) {
        p->session_plus1 = 0;       /* finished: its report is logged (S1) before this */
        return;
    }
    if (p->session_plus1)
        return;                     /* opened already: only the count changes */
    p->cl_ord_id = x->cl_ord_id;
    p->instrument_id = x->instrument_id;
    p->account_id = x->account_id;
    p->report_seq = 0;
    gw_store_order(g);
    p->session_plus1 = (uint32_t)x->session + 1;
}

void gw_store_mass_answering(gw_t *g, uint32_t m, uint64_t seq)
{
    if (!g->store)
        return;
    g->store->mass[m].report_seq = seq;
    gw_store_order(g);
}
