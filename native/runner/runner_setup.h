/*
 * runner_setup.h - process set-up the engine needs before entering its loop and that Python's
 * os module does not offer (pinning and SCHED_FIFO are done with os.sched_setaffinity and
 * os.sched_setscheduler in gateway/engine_process.py).
 */
#ifndef RUNNER_SETUP_H
#define RUNNER_SETUP_H

#include <stdint.h>

/* CFFI-BEGIN */
/* Locks all current and future pages (mlockall MCL_CURRENT | MCL_FUTURE) and touches
 * stack_bytes of stack so the loop never takes a page fault. 0 or -errno (-EPERM / -ENOMEM:
 * not permitted here; the caller warns and goes on unlocked). stack_bytes above 8 MiB is
 * clamped to 8 MiB. */
int runner_lock_memory(uint64_t stack_bytes);
/* CFFI-END */

#endif /* RUNNER_SETUP_H */
