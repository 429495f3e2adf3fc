/*
 * eng_snapshot.c - byte image of the engine's state (see eng_snapshot.h). The body is the
 * scalar block below followed by the tables in a fixed order; pointers are never written, only
 * what they point to, and the sink and eng_submit's batch buffer are not state. The pools and the
 * order-id index are written up to their high-water marks / buckets in use only (the slots above
 * have never been used and are zero), so a snapshot's size follows the live orders, not the
 * capacity; loading makes that much of each pool resident before reading into it.
 */
#define _GNU_SOURCE
#include "eng_snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eng_internal.h"
#include "jrnl_crc.h"

typedef struct eng_snap_scalars {
    uint64_t obkt_round, obkt_split, lidx_mask;
    uint32_t free_order, free_level;
    uint32_t orders_hw, levels_hw;
    uint32_t orders_live, levels_live, heap_n, oidx_count;
    int64_t now;
    uint64_t last_seq;
    uint64_t trade_id;
    eng_stats_t stats;
} eng_snap_scalars_t;

typedef struct eng_snap_part {
    void *ptr;
    uint64_t bytes;
} eng_snap_part_t;

/* The body's parts for the sizes in sc (the saved engine's, or the file's when loading). */
static int eng_snap_parts(const eng_engine_t *e, eng_snap_scalars_t *sc, eng_snap_part_t *parts)
{
    const eng_config_t *c = &e->cfg;
    parts[0] = (eng_snap_part_t){sc, sizeof *sc};
    parts[1] = (eng_snap_part_t){e->orders, sizeof(eng_order_t) * ((uint64_t)sc->orders_hw + 1)};
    parts[2] = (eng_snap_part_t){e->levels, sizeof(eng_level_t) * ((uint64_t)sc->levels_hw + 1)};
    parts[3] = (eng_snap_part_t){e->instr, sizeof(eng_instr_t) * ((uint64_t)c->max_instruments + 1)};
    parts[4] = (eng_snap_part_t){e->pos, sizeof(eng_pos_t) * (uint64_t)c->max_accounts * c->max_instruments};
    parts[5] = (eng_snap_part_t){e->killed, c->max_accounts};
    parts[6] = (eng_snap_part_t){e->obkt, sizeof(uint32_t) * (sc->obkt_round + sc->obkt_split)};
    parts[7] = (eng_snap_part_t){e->lidx, sizeof(eng_idx_slot_t) * (e->lidx_mask + 1)};
    parts[8] = (eng_snap_part_t){e->heap, sizeof(uint32_t) * ((uint64_t)sc->heap_n + 1)};
    return 9;
}

/* 1 if the file's scalars fit this engine: high-water marks within the capacities, the index
 * geometry one that linear hashing reaches, the level table of the same size. */
static int eng_snap_scalars_fit(const eng_engine_t *e, const eng_snap_scalars_t *sc)
{
    const eng_config_t *c = &e->cfg;
    if (sc->orders_hw > c->max_orders || sc->levels_hw > c->max_levels || sc->lidx_mask != e->lidx_mask)
        return 0;
    if (sc->obkt_round < 16 || (sc->obkt_round & (sc->obkt_round - 1)) || sc->obkt_split >= sc->obkt_round ||
        sc->obkt_round + sc->obkt_split > e->obkt_cap)
        return 0;
    return sc->heap_n <= sc->orders_hw && sc->orders_live <= sc->orders_hw && sc->levels_live <= sc->levels_hw &&
           sc->oidx_count <= sc->orders_live;
}

static int eng_write_all(int fd, const void *buf, uint64_t n)
{
    const uint8_t *p = (const uint8_t *)buf;
    while (n) {
        ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (uint64_t)w;
    }
    return 0;
}

static int eng_read_all(int fd, void *buf, uint64_t n)
{
    uint8_t *p = (uint8_t *)buf;
    while (n) {
        ssize_t r = read(fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return ENG_SNAP_CORRUPT;
        p += r;
        n -= (uint64_t)r;
    }
    return 0;
}

static void eng_snap_hdr_fill(const eng_engine_t *e, eng_snap_hdr_t *h)
{
    memset(h, 0, sizeof *h);
    h->magic = ENG_SNAP_MAGIC;
    h->version = ENG_SNAP_VERSION;
    h->hdr_bytes = sizeof *h;
    h->max_orders = e->cfg.max_orders;
    h->max_levels = e->cfg.max_levels;
    h->max_instruments = e->cfg.max_instruments;
    h->max_accounts = e->cfg.max_accounts;
    h->order_bytes = sizeof(eng_order_t);
    h->level_bytes = sizeof(eng_level_t);
    h->instr_bytes = sizeof(eng_instr_t);
}

int eng_snapshot_save(const eng_engine_t *e, const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    eng_snap_scalars_t sc;
    memset(&sc, 0, sizeof sc);
    sc.obkt_round = e->obkt_round;
    sc.obkt_split = e->obkt_split;
    sc.lidx_mask = e->lidx_mask;
    sc.free_order = e->free_order;
    sc.free_level = e->free_level;
    sc.orders_hw = e->orders_hw;
    sc.levels_hw = e->levels_hw;
    sc.orders_live = e->orders_live;
    sc.levels_live = e->levels_live;
    sc.heap_n = e->heap_n;
    sc.oidx_count = e->oidx_count;
    sc.now = e->now;
    sc.last_seq = e->last_seq;
    sc.trade_id = e->trade_id;
    sc.stats = e->stats;
    eng_snap_part_t parts[9];
    int nparts = eng_snap_parts(e, &sc, parts);
    eng_snap_hdr_t h;
    eng_snap_hdr_fill(e, &h);
    for (int i = 0; i < nparts; i++) {
        h.body_crc = jrnl_crc32c(h.body_crc, parts[i].ptr, parts[i].bytes);
        h.body_bytes += parts[i].bytes;
    }
    h.last_seq = e->last_seq;
    h.now_ns = e->now;
    h.state_hash = eng_state_hash(e);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h.created_realtime_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = eng_write_all(fd, &h, sizeof h);
    for (int i = 0; rc == 0 && i < nparts; i++)
        rc = eng_write_all(fd, parts[i].ptr, parts[i].bytes);
    if (rc == 0 && fdatasync(fd) != 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);                 /* the rename is durable before the snapshot is relied on */
        close(dfd);
    }
    return 0;
}

int eng_snapshot_load(eng_engine_t *e, const char *path, eng_snap_hdr_t *out)
{
    if (e->last_seq != 0 || e->stats.commands != 0)
        return ENG_SNAP_NOT_FRESH;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    eng_snap_hdr_t h, want;
    int rc = eng_read_all(fd, &h, sizeof h);
    eng_snap_hdr_fill(e, &want);
    if (rc == 0 && h.magic != ENG_SNAP_MAGIC)
        rc = ENG_SNAP_BAD_MAGIC;
    else if (rc == 0 && (h.version != want.version || h.hdr_bytes != want.hdr_bytes ||
                         h.order_bytes != want.order_bytes || h.level_bytes != want.level_bytes ||
                         h.instr_bytes != want.instr_bytes))
        rc = ENG_SNAP_BAD_VERSION;
    else if (rc == 0 && (h.max_orders != want.max_orders || h.max_levels != want.max_levels ||
                         h.max_instruments != want.max_instruments ||
                         h.max_accounts != want.max_accounts))
        rc = ENG_SNAP_BAD_CONFIG;
    /* the scalars first: they give the sizes of the parts after them */
    eng_snap_scalars_t sc;
    memset(&sc, 0, sizeof sc);
    uint32_t crc = 0;
    if (rc == 0) rc = eng_read_all(fd, &sc, sizeof sc);
    if (rc == 0 && !eng_snap_scalars_fit(e, &sc)) rc = ENG_SNAP_CORRUPT;
    eng_snap_part_t parts[9];
    int nparts = eng_snap_parts(e, &sc, parts);
    if (rc == 0) {
        crc = jrnl_crc32c(crc, &sc, sizeof sc);
        eng_pools_ensure(e, sc.orders_hw, sc.levels_hw);
        eng_region_touch(&e->mem_obkt, sizeof(uint32_t) * (sc.obkt_round + sc.obkt_split));
    }
    for (int i = 1; rc == 0 && i < nparts; i++) {
        rc = eng_read_all(fd, parts[i].ptr, parts[i].bytes);
        if (rc == 0)
            crc = jrnl_crc32c(crc, parts[i].ptr, parts[i].bytes);
    }
    close(fd);
    if (rc == 0 && crc != h.body_crc)
        rc = ENG_SNAP_CORRUPT;
    if (rc != 0)
        return rc;
    e->obkt_round = sc.obkt_round;
    e->obkt_split = sc.obkt_split;
    e->free_order = sc.free_order;
    e->free_level = sc.free_level;
    e->orders_hw = sc.orders_hw;
    e->levels_hw = sc.levels_hw;
    e->orders_live = sc.orders_live;
    e->levels_live = sc.levels_live;
    e->heap_n = sc.heap_n;
    e->oidx_count = sc.oidx_count;
    e->now = sc.now;
    e->last_seq = sc.last_seq;
    e->trade_id = sc.trade_id;
    e->stats = sc.stats;
    if (eng_state_hash(e) != h.state_hash || eng_check(e) != 0)
        return ENG_SNAP_CORRUPT;
    *out = h;
    return 0;
}
