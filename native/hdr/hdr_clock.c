/* hdr_clock: clock-source detection and TSC calibration behind hdr_now(). Owns the process-wide
 * hdr_clock_g and nothing else; it never allocates after start-up and never runs on the hot path
 * (hdr_now() is inline in the header). */
#include "hdr_clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#define HDR_CLOCK_SHIFT 32
#define HDR_CLOCK_PAIR_TRIES 7

hdr_clock_state_t hdr_clock_g = {HDR_CLOCK_MONOTONIC, HDR_CLOCK_SHIFT, 1ull << HDR_CLOCK_SHIFT};

/* Kept beside hdr_clock_g for hdr_clock_current(): detection results and the calibration. */
static hdr_clock_info_t hdr_clock_last = {
    .source = HDR_CLOCK_MONOTONIC, .ns_shift = HDR_CLOCK_SHIFT, .ns_mult = 1ull << HDR_CLOCK_SHIFT,
    .ticks_per_ns = 1.0,
};

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t tsc_invariant_cpuid(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
        return 0;
    if (!__get_cpuid(0x80000007u, &a, &b, &c, &d))
        return 0;
    return (d >> 8) & 1u; /* "Advanced Power Management": EDX bit 8 = invariant TSC (Intel SDM
                           * vol. 3B 17.17.1, AMD APM vol. 3 CPUID Fn8000_0007) */
#else
    return 0;
#endif
}

/* The kernel's view: constant_tsc (fixed rate across P-states) and nonstop_tsc (keeps running in
 * deep C-states) together are what the kernel itself needs before it trusts the TSC. A kernel that
 * found the TSC unstable clears them. */
static uint32_t tsc_flags_cpuinfo(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[8192];
    uint32_t found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        found = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
        break; /* the first CPU's flags: the kernel keeps them uniform across CPUs */
    }
    fclose(f);
    return found;
}

#if defined(__x86_64__)
/* One (tsc, monotonic) pair: the TSC reading is the midpoint of the two around clock_gettime, and
 * the tightest of a few tries wins, so a preemption inside one try cannot skew the calibration. */
static void tsc_mono_pair(uint64_t *tsc, uint64_t *mono)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < HDR_CLOCK_PAIR_TRIES; i++) {
        uint64_t t0 = __rdtsc();
        uint64_t m = monotonic_ns();
        uint64_t t1 = __rdtsc();
        if (t1 > t0 && t1 - t0 < best) {
            best = t1 - t0;
            *tsc = t0 + (t1 - t0) / 2;
            *mono = m;
        }
    }
}
#endif

int hdr_clock_init(uint32_t requested, uint64_t calibration_window_ns, hdr_clock_info_t *out)
{
    if (requested > HDR_CLOCK_TSC || calibration_window_ns > HDR_CLOCK_MAX_CALIBRATION_NS)
        return -EINVAL;
    if (calibration_window_ns == 0)
        calibration_window_ns = HDR_CLOCK_DEFAULT_CALIBRATION_NS;

    hdr_clock_info_t info = {0};
    info.tsc_invariant_cpuid = tsc_invariant_cpuid();
    info.tsc_flags_cpuinfo = tsc_flags_cpuinfo();
    int tsc_ok = info.tsc_invariant_cpuid && info.tsc_flags_cpuinfo;
#if !defined(__x86_64__)
    tsc_ok = 0;
#endif
    if (requested == HDR_CLOCK_TSC && !tsc_ok)
        return -ENOTSUP;

    info.ns_shift = HDR_CLOCK_SHIFT;
    if (requested == HDR_CLOCK_MONOTONIC || !tsc_ok) {
        info.source = HDR_CLOCK_MONOTONIC;
        info.ns_mult = 1ull << HDR_CLOCK_SHIFT;
        info.ticks_per_ns = 1.0;
    } else {
#if defined(__x86_64__)
        uint64_t tsc0, mono0, tsc1, mono1;
        tsc_mono_pair(&tsc0, &mono0);
        struct timespec wait = {(time_t)(calibration_window_ns / 1000000000u),
                                (long)(calibration_window_ns % 1000000000u)};
        while (nanosleep(&wait, &wait) == -1 && errno == EINTR) {
        }
        tsc_mono_pair(&tsc1, &mono1);
        if (tsc1 <= tsc0 || mono1 <= mono0)
            return -EIO;
        info.source = HDR_CLOCK_TSC;
        info.ticks_per_ns = (double)(tsc1 - tsc0) / (double)(mono1 - mono0);
        info.ns_mult = (uint64_t)((double)(1ull << HDR_CLOCK_SHIFT) / info.ticks_per_ns + 0.5);
        info.calibration_window_ns = mono1 - mono0;
#endif
    }
    hdr_clock_g.source = info.source;
    hdr_clock_g.ns_shift = info.ns_shift;
    hdr_clock_g.ns_mult = info.ns_mult;
    hdr_clock_last = info;
    if (out)
        *out = info;
    return 0;
}

int hdr_clock_adopt(const hdr_clock_info_t *info)
{
    if (!info || info->ns_mult == 0 || info->ns_shift > 63 ||
        (info->source != HDR_CLOCK_MONOTONIC && info->source != HDR_CLOCK_TSC))
        return -EINVAL;
    hdr_clock_info_t mine = *info;
    mine.tsc_invariant_cpuid = tsc_invariant_cpuid();
    mine.tsc_flags_cpuinfo = tsc_flags_cpuinfo();
    if (info->source == HDR_CLOCK_TSC) {
#if defined(__x86_64__)
        if (!(mine.tsc_invariant_cpuid && mine.tsc_flags_cpuinfo))
            return -ENOTSUP;
#else
        return -ENOTSUP;
#endif
    }
    hdr_clock_g.source = info->source;
    hdr_clock_g.ns_shift = info->ns_shift;
    hdr_clock_g.ns_mult = info->ns_mult;
    hdr_clock_last = mine;
    return 0;
}

void hdr_clock_current(hdr_clock_info_t *out)
{
    *out = hdr_clock_last;
}

uint64_t hdr_clock_now(void)
{
    return hdr_now();
}

uint64_t hdr_clock_ticks_to_ns(uint64_t ticks)
{
    return hdr_ticks_to_ns_with(ticks, hdr_clock_g.ns_mult, hdr_clock_g.ns_shift);
}

int hdr_clock_describe(const hdr_clock_info_t *info, char *buf, size_t len)
{
    if (!info || !buf)
        return -EINVAL;
    const char *cpuid = info->tsc_invariant_cpuid ? "yes" : "no";
    const char *flags = info->tsc_flags_cpuinfo ? "yes" : "no";
    if (info->source == HDR_CLOCK_TSC)
        return snprintf(buf, len,
                        "clock: tsc (invariant: cpuid %s, cpuinfo constant_tsc+nonstop_tsc %s), "
                        "%.6f ticks/ns calibrated against CLOCK_MONOTONIC over %.1f ms",
                        cpuid, flags, info->ticks_per_ns,
                        (double)info->calibration_window_ns / 1e6);
    return snprintf(buf, len,
                    "clock: CLOCK_MONOTONIC (invariant tsc: cpuid %s, cpuinfo "
                    "constant_tsc+nonstop_tsc %s), 1 tick = 1 ns",
                    cpuid, flags);
}
