/*
 * runner_syncer.c - the sync thread of group commit (see runner_syncer.h). A sync of a range
 * (jrnl_sync_slots: writeback + the device's flush, or msync) only writes back pages; the
 * engine keeps appending to later slots (and to the last, partly synced page) meanwhile, which
 * is safe: a page dirtied again is written again by the next request.
 */
#define _GNU_SOURCE
#include "runner_syncer.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

static void *runner_syncer_main(void *arg)
{
    runner_syncer_t *s = (runner_syncer_t *)arg;
    uint64_t served = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->req == served)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->req == served)
            break;                  /* stop with nothing left to do */
        uint8_t *cm = s->cmd_map, *em = s->evt_map;
        jrnl_durable_t cd = s->cmd_durable, ed = s->evt_durable;
        uint64_t cf = s->cmd_from, ct = s->cmd_to, ef = s->evt_from, et = s->evt_to;
        served = s->req;
        pthread_mutex_unlock(&s->mu);
        int rc = cm ? jrnl_sync_slots(&cd, cm, cf, ct) : 0;
        if (rc == 0 && em)
            rc = jrnl_sync_slots(&ed, em, ef, et);
        s->rc = rc;
        /* release: rc above (and the durability of the ranges) happens-before the engine's use
         * of them; pairs with the acquire load of done in runner_syncer_poll(). */
        atomic_store_explicit(&s->done, served, memory_order_release);
        if (s->wake_bell)
            ring_doorbell_notify(s->wake_bell);     /* full fence inside: ring_wait.c */
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    struct timespec cpu;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
        s->cpu_ns = (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec;
    return NULL;
}

int runner_syncer_start(runner_syncer_t *s, int32_t cpu, ring_doorbell_t *wake_bell)
{
    memset(s, 0, sizeof *s);
    s->wake_bell = wake_bell;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_store_explicit(&s->done, 0, memory_order_relaxed);
    int rc = pthread_create(&s->thread, NULL, runner_syncer_main, s);
    if (rc != 0)
        return -rc;
    s->started = 1;
    /* Real-time priority (SCHED_FIFO 1) where permitted: an ack waits for this thread to be
     * scheduled as well as for its msync, and on a busy CPU a normal thread queued behind the
     * producers for milliseconds (measured: 9 ms per sync on tmpfs, where msync itself is
     * free, with the machine loaded). It never spins: it sleeps on the condition variable or
     * in msync, so it cannot starve the CPU. Without permission it stays SCHED_OTHER. */
    struct sched_param sp = {.sched_priority = 1};
    s->realtime = pthread_setschedparam(s->thread, SCHED_FIFO, &sp) == 0;
    if (cpu >= 0 && cpu < CPU_SETSIZE) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        rc = pthread_setaffinity_np(s->thread, sizeof set, &set);
        if (rc != 0) {
            runner_syncer_stop(s);
            return -rc;
        }
    }
    return 0;
}

void runner_syncer_post(runner_syncer_t *s, const jrnl_log_t *cmd, const jrnl_log_t *evt)
{
    pthread_mutex_lock(&s->mu);
    s->cmd_map = cmd->map;
    s->cmd_durable = cmd->durable;
    s->cmd_from = cmd->synced_slot;
    s->cmd_to = cmd->next_slot;
    s->evt_map = evt ? evt->map : NULL;
    s->evt_durable = evt ? evt->durable : (jrnl_durable_t){.fd = -1, .flush_fd = -1};
    s->evt_from = evt ? evt->synced_slot : 0;
    s->evt_to = evt ? evt->next_slot : 0;
    s->req++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int runner_syncer_poll(runner_syncer_t *s, int wait, int32_t *rc)
{
    for (;;) {
        /* req is only written by this (the engine) thread, so reading it unlocked is exact. */
        uint64_t want = s->req;
        /* acquire: pairs with the release store of done in runner_syncer_main(). */
        if (atomic_load_explicit(&s->done, memory_order_acquire) == want) {
            *rc = s->rc;
            return 1;
        }
        if (!wait)
            return 0;
        sched_yield();              /* the sync takes a disk round trip: give the CPU away */
    }
}

void runner_syncer_stop(runner_syncer_t *s)
{
    if (!s->started)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    s->started = 0;
}
