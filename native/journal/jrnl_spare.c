/*
 * jrnl_spare.c - the segment maker thread (see jrnl_spare.h).
 * Invariants: spare number k is segment spare_base + k of its log (segments are only ever taken
 * in order, and a roll takes only a spare); the helper writes a ring slot only while it is free
 * (k - spare_taken < JRNL_SPARES_MAX), the writer reads it only once made (k < spare_made).
 */
#define _GNU_SOURCE
#include "jrnl_spare.h"
#include "jrnl_segment.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t jrnl_spare_load(const uint64_t *p)
{
    /* acquire: pairs with the writer's release stores of spare_taken / retired_put in
     * jrnl_log.c (the slot is free / the descriptor is stored). */
    return atomic_load_explicit((_Atomic uint64_t *)p, memory_order_acquire);
}

static void jrnl_spare_store(uint64_t *p, uint64_t v)
{
    /* release: the slot (and the file behind it) or the finished sync happen-before the
     * writer's acquire load of the count; pairs with JRNL_LOAD_ACQ of spare_made / retired_done
     * in jrnl_log.c. */
    atomic_store_explicit((_Atomic uint64_t *)p, v, memory_order_release);
}

static int jrnl_spare_failed(const jrnl_log_t *log)
{
    /* acquire: pairs with the release store of spare_error in jrnl_spare_fail(). */
    return atomic_load_explicit((_Atomic int32_t *)&log->spare_error, memory_order_acquire) != 0;
}

/* 1 if some log has a retired segment to sync or a spare to make. */
static int jrnl_spare_has_work(const jrnl_spare_t *sp)
{
    for (uint32_t i = 0; i < sp->count; i++) {
        const jrnl_log_t *log = sp->logs[i];
        if (jrnl_spare_load(&log->retired_put) != log->retired_done)
            return 1;
        if (!jrnl_spare_failed(log) &&
            log->spare_made - jrnl_spare_load(&log->spare_taken) < log->spare_target)
            return 1;
    }
    return 0;
}

static void jrnl_spare_fail(jrnl_log_t *log, int rc, const char *why)
{
    /* release: the message before the error; pairs with the acquire loads of spare_error in
     * jrnl_spare_failed() and the writer's check in jrnl_log.c */
    snprintf(log->message, sizeof log->message, "%s", why);
    atomic_store_explicit((_Atomic int32_t *)&log->spare_error, rc, memory_order_release);
}

/* Syncs and closes what the writer retired. */
static void jrnl_spare_sync_retired(jrnl_log_t *log)
{
    uint64_t put = jrnl_spare_load(&log->retired_put);
    while (log->retired_done < put) {
        int32_t fd = log->retired_fds[log->retired_done % JRNL_SPARES_MAX];
        /* A MiB at a time first: an event segment is not synced as it fills, so up to all of
         * it is dirty here, and one fdatasync put it all in front of every order's durable
         * write (bench/journal_files.py, "new segment": the same burst). */
        jrnl_write_back_file(fd);
        if (fdatasync(fd) != 0 && !jrnl_spare_failed(log)) {
            char why[JRNL_MESSAGE_MAX];
            snprintf(why, sizeof why, "%s: fdatasync of a full segment failed: %s", log->dir,
                     strerror(errno));
            jrnl_spare_fail(log, -errno, why);
        }
        close(fd);
        jrnl_spare_store(&log->retired_done, log->retired_done + 1);
    }
}

/* Makes one spare if the log wants one. 1 if it made (or failed) one, 0 if nothing to do. */
static int jrnl_spare_make_one(jrnl_log_t *log)
{
    if (jrnl_spare_failed(log) ||
        log->spare_made - jrnl_spare_load(&log->spare_taken) >= log->spare_target)
        return 0;
    uint8_t *map;
    int32_t fd;
    char why[JRNL_MESSAGE_MAX];
    int rc = jrnl_segment_make(log, log->spare_base + log->spare_made, &map, &fd, why, sizeof why);
    if (rc != 0) {
        jrnl_spare_fail(log, rc, why);
        return 1;
    }
    uint32_t k = (uint32_t)(log->spare_made % JRNL_SPARES_MAX);
    log->spare_maps[k] = map;
    log->spare_fds[k] = fd;
    /* Checked here, off the order path: the writer's roll only takes the answer. */
    log->spare_fast[k] = (uint8_t)(log->flush_fd >= 0 &&
                                   jrnl_durable_provable(fd, log->segment_bytes, log->flush_fd,
                                                         why, sizeof why));
    jrnl_spare_store(&log->spare_made, log->spare_made + 1);
    return 1;
}

static void *jrnl_spare_main(void *arg)
{
    jrnl_spare_t *sp = (jrnl_spare_t *)arg;
    /* First the rest of each log's current segment (recovery mapped it without pre-faulting:
     * that would only lengthen start-up), as jrnl_segment_make does for new ones. The writer
     * does not append before jrnl_spare_wait_ready() returns, so map and next_slot are stable. */
    for (uint32_t i = 0; i < sp->count; i++) {
        jrnl_log_t *log = sp->logs[i];
        if (!log->map)
            continue;
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        uintptr_t from = (uintptr_t)jrnl_slot(log->map, log->next_slot) & ~(page - 1);
        uintptr_t to = (uintptr_t)log->map + log->map_bytes;
        if (to > from)
            madvise((void *)from, to - from, MADV_POPULATE_WRITE);
    }
    /* release: the pre-faulted pages before the flag; pairs with the acquire load in
     * jrnl_spare_wait_ready(). */
    atomic_store_explicit(&sp->prefaulted, 1, memory_order_release);
    for (;;) {
        pthread_mutex_lock(&sp->mu);
        while (!sp->stop && !jrnl_spare_has_work(sp))
            pthread_cond_wait(&sp->cv, &sp->mu);
        int stop = sp->stop;
        pthread_mutex_unlock(&sp->mu);
        if (stop)
            return NULL;
        /* Retired syncs first (a roll may wait on them), then one spare per log per round, so
         * neither log starves the other. */
        for (uint32_t i = 0; i < sp->count; i++)
            jrnl_spare_sync_retired(sp->logs[i]);
        for (uint32_t i = 0; i < sp->count; i++)
            jrnl_spare_make_one(sp->logs[i]);
    }
}

int jrnl_spare_start(jrnl_spare_t *sp, jrnl_log_t *const *logs, uint32_t count, uint32_t spares,
                     int32_t cpu)
{
    memset(sp, 0, sizeof *sp);
    if (count > JRNL_SPARE_MAX_LOGS || spares == 0 || spares > JRNL_SPARES_MAX)
        return -EINVAL;
    pthread_mutex_init(&sp->mu, NULL);
    pthread_cond_init(&sp->cv, NULL);
    sp->count = count;
    for (uint32_t i = 0; i < count; i++) {
        jrnl_log_t *log = logs[i];
        sp->logs[i] = log;
        log->spare_owner = sp;
        log->spare_made = log->spare_taken = 0;
        log->retired_put = log->retired_done = 0;
        log->spare_error = 0;
        log->spare_base = log->segments;    /* the next segment a roll opens */
        log->spare_target = spares;         /* published by pthread_create */
    }
    int rc = pthread_create(&sp->thread, NULL, jrnl_spare_main, sp);
    if (rc != 0) {
        for (uint32_t i = 0; i < count; i++) {
            logs[i]->spare_owner = NULL;
            logs[i]->spare_target = 0;
        }
        pthread_mutex_destroy(&sp->mu);
        pthread_cond_destroy(&sp->cv);
        return -rc;
    }
    sp->started = 1;
    if (cpu >= 0 && cpu < CPU_SETSIZE) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        pthread_setaffinity_np(sp->thread, sizeof set, &set);   /* best effort: unpinned works */
    }
    return 0;
}

int64_t jrnl_spare_wait_ready(jrnl_spare_t *sp)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* acquire: pairs with the release store of prefaulted in the helper's main loop. */
    while (sp->started && !atomic_load_explicit(&sp->prefaulted, memory_order_acquire)) {
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    }
    for (uint32_t i = 0; sp->started && i < sp->count; i++) {
        jrnl_log_t *log = sp->logs[i];
        while (!jrnl_spare_failed(log) && jrnl_spare_load(&log->spare_made) < log->spare_target) {
            struct timespec nap = {0, 1000000};
            nanosleep(&nap, NULL);  /* start of day only, never on the order path */
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
}

void jrnl_spare_kick(jrnl_spare_t *sp)
{
    if (!sp)
        return;
    pthread_mutex_lock(&sp->mu);
    pthread_cond_signal(&sp->cv);
    pthread_mutex_unlock(&sp->mu);
}

void jrnl_spare_stop(jrnl_spare_t *sp)
{
    if (!sp->started)
        return;
    pthread_mutex_lock(&sp->mu);
    sp->stop = 1;
    pthread_cond_signal(&sp->cv);
    pthread_mutex_unlock(&sp->mu);
    pthread_join(sp->thread, NULL);
    for (uint32_t i = 0; i < sp->count; i++) {
        jrnl_log_t *log = sp->logs[i];
        jrnl_spare_sync_retired(log);
        /* Unused spares lie after the journal's end: remove them, newest first, so a crash in
         * between leaves no gap in the segment numbers. */
        for (uint64_t k = log->spare_made; k > log->spare_taken; k--) {
            uint32_t slot = (uint32_t)((k - 1) % JRNL_SPARES_MAX);
            char path[JRNL_PATH_MAX + 32];
            munmap(log->spare_maps[slot], log->segment_bytes);
            close(log->spare_fds[slot]);
            log->spare_maps[slot] = NULL;
            log->spare_fds[slot] = -1;
            if (jrnl_segment_path(path, sizeof path, log->dir, log->kind,
                                  log->spare_base + k - 1) == 0)
                unlink(path);
        }
        log->spare_made = log->spare_taken = 0;
        log->spare_owner = NULL;
        log->spare_target = 0;
    }
    pthread_mutex_destroy(&sp->mu);
    pthread_cond_destroy(&sp->cv);
    sp->started = 0;
}
