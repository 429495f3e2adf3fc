/*
 * gw_sec_bench.h - what the gateway's intrusion checks cost per message and a hashed key's proof
 * per logon, timed in C around the very functions the loop calls (gateway/gw_security.c), on a
 * minimal gateway state of one session (no sockets, no engine): bench/sec.py reports it with and
 * without the checks in the same run.
 */
#ifndef GW_SEC_BENCH_H
#define GW_SEC_BENCH_H

#include <stdint.h>

/* CFFI-BEGIN */
#define GW_SEC_BENCH_ENTRY_OFF 0    /* gw_sec_entry with no security configured (the baseline) */
#define GW_SEC_BENCH_ENTRY_ON 1     /* gw_sec_entry with all five detectors on, none reaching its limit */
#define GW_SEC_BENCH_LOGON_PLAIN 2  /* gw_sec_logon of a plain key (constant-time compare) */
#define GW_SEC_BENCH_LOGON_HASHED 3 /* gw_sec_logon of a hashed key's proof (HMAC-SHA256 + SHA-256) */

/* Nanoseconds (CLOCK_MONOTONIC) that n calls of the measured function took, or -1 for an unknown
 * mode or a call that did not answer as expected (e.g. a proof refused). Allocates nothing. */
int64_t gw_sec_bench(uint32_t mode, uint32_t n);
/* CFFI-END */

#endif /* GW_SEC_BENCH_H */
