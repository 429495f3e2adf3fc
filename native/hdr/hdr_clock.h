/* hdr_clock: the one clock every order-path timestamp is taken with. It picks a calibrated
 * invariant TSC where the CPU has one (x86_64, CPUID and /proc/cpuinfo agree) and CLOCK_MONOTONIC
 * otherwise, and says which at start-up. It owns only the process-wide choice (hdr_clock_g);
 * histograms and their layout are hdr_recorder's. Invariant: ticks from hdr_now() are comparable
 * across threads and processes of one host only after each process chose the same source, and
 * tick-to-ns conversion uses one calibration per region (hdr_clock_adopt()). */
#ifndef HDR_CLOCK_H
#define HDR_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "venue_layout.h"

/* CFFI-BEGIN */
#define HDR_CLOCK_DEFAULT_CALIBRATION_NS 20000000
#define HDR_CLOCK_MAX_CALIBRATION_NS 2000000000

/* Chooses this process's clock and calibrates it. requested: HDR_CLOCK_AUTO (TSC where both CPUID
 * and /proc/cpuinfo say it is invariant, else CLOCK_MONOTONIC), HDR_CLOCK_MONOTONIC, or
 * HDR_CLOCK_TSC. The TSC is calibrated against CLOCK_MONOTONIC over calibration_window_ns (0: the
 * default), by sleeping, not spinning. Call it once at start-up, before any thread takes a
 * timestamp (thread creation publishes the choice to the threads). Fills *out (may be NULL).
 * Returns 0; -EINVAL for an unknown request or a window above HDR_CLOCK_MAX_CALIBRATION_NS;
 * -ENOTSUP when HDR_CLOCK_TSC is requested but the TSC is not invariant here (or not x86_64);
 * -EIO when the calibration measured a non-increasing TSC. On error the previous choice stays. */
int hdr_clock_init(uint32_t requested, uint64_t calibration_window_ns, hdr_clock_info_t *out);

/* Makes this process use another process's choice and calibration (e.g. the region's creator's),
 * so that ticks stamped here convert to ns with the same factor. Same start-up rule as init.
 * Returns 0; -EINVAL for an unknown source or a zero multiplier; -ENOTSUP when info says TSC but
 * this CPU's TSC is not invariant. */
int hdr_clock_adopt(const hdr_clock_info_t *info);

/* Copies the current choice into *out. Before any init or adopt: CLOCK_MONOTONIC, identity. */
void hdr_clock_current(hdr_clock_info_t *out);

/* hdr_now() for callers that cannot inline it (Python tests, other languages). */
uint64_t hdr_clock_now(void);

/* Ticks of the current choice to ns. */
uint64_t hdr_clock_ticks_to_ns(uint64_t ticks);

/* Writes one start-up line such as "clock: tsc (invariant: cpuid yes, cpuinfo yes), 2.99454
 * ticks/ns calibrated against CLOCK_MONOTONIC over 20.0 ms" into buf (always NUL-terminated when
 * len > 0). Returns the length the full line needs (snprintf's contract), or -EINVAL if info or
 * buf is NULL. */
int hdr_clock_describe(const hdr_clock_info_t *info, char *buf, size_t len);
/* CFFI-END */

/* The process-wide choice. Written only by hdr_clock_init/adopt before threads start, read by
 * every hdr_now(): plain fields are enough because thread creation orders the write before any
 * read, and after start-up nobody writes them again. */
typedef struct hdr_clock_state {
    uint32_t source;
    uint32_t ns_shift;
    uint64_t ns_mult;
} hdr_clock_state_t;

extern hdr_clock_state_t hdr_clock_g;

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

/* The timestamp of the hot path: ~10 ns for rdtsc, ~25 ns for the vDSO clock_gettime. rdtsc is
 * not serializing, so it may run a few dozen cycles early or late relative to neighbouring
 * instructions; that error is far below the stage latencies it measures, and rdtscp or an lfence
 * would double the cost on every stamp. */
static inline uint64_t hdr_now(void)
{
#if defined(__x86_64__)
    if (__builtin_expect(hdr_clock_g.source == HDR_CLOCK_TSC, 1))
        return __rdtsc();
#endif
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ticks * mult >> shift in 128 bits: a 30 s interval of a 3 GHz TSC (~2^37 ticks) times a 2^32
 * scaled multiplier would overflow 64 bits. */
static inline uint64_t hdr_ticks_to_ns_with(uint64_t ticks, uint64_t mult, uint32_t shift)
{
    return (uint64_t)(((unsigned __int128)ticks * mult) >> shift);
}

#endif
