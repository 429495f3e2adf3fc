/*
 * ring_atomic.h - C11 atomic access to the plain integer fields of the shared layout.
 *
 * venue_layout.h declares shared fields as plain uint32_t/uint64_t because cffi cannot parse
 * _Atomic. Every cross-process access goes through these helpers instead, never a plain or
 * volatile access (memory-barriers.txt: the compiler may tear, merge or drop plain accesses).
 * No CFFI markers here: this header is for C only. The casts are sound because _Atomic of these
 * types has the plain type's size and alignment on the ABIs we build for (asserted below).
 */
#ifndef RING_ATOMIC_H
#define RING_ATOMIC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_acle.h>
#endif

_Static_assert(sizeof(_Atomic uint64_t) == sizeof(uint64_t) &&
               _Alignof(_Atomic uint64_t) == _Alignof(uint64_t), "atomic u64 layout");
_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t) &&
               _Alignof(_Atomic uint32_t) == _Alignof(uint32_t), "atomic u32 layout");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free to be shared");

static inline _Atomic uint64_t *ring_a64(uint64_t *p) { return (_Atomic uint64_t *)p; }
static inline _Atomic int64_t *ring_ai64(int64_t *p) { return (_Atomic int64_t *)p; }
static inline _Atomic uint32_t *ring_a32(uint32_t *p) { return (_Atomic uint32_t *)p; }
static inline _Atomic int32_t *ring_ai32(int32_t *p) { return (_Atomic int32_t *)p; }

#define RING_RELAXED memory_order_relaxed
#define RING_ACQUIRE memory_order_acquire
#define RING_RELEASE memory_order_release
#define RING_SEQ_CST memory_order_seq_cst

/* Polite busy-wait hint: frees pipeline resources for the sibling hyperthread. Not a barrier. */
static inline void ring_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    __yield();
#endif
}

static inline uint64_t ring_align8(uint64_t n) { return (n + 7u) & ~(uint64_t)7u; }

/* Copies n bytes (a multiple of 8, both pointers 8-aligned) into memory other processes read
 * concurrently, as relaxed 64-bit atomic stores: the broadcast log's readers may copy a slot while
 * it is being overwritten, and with atomic accesses on both sides that is not a data race. */
static inline void ring_copy_to_shared(void *dst, const void *src, size_t n)
{
    uint64_t *d = (uint64_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    for (size_t i = 0; i < n / 8; i++) {
        uint64_t w;
        memcpy(&w, s + 8 * i, 8);
        atomic_store_explicit(ring_a64(d + i), w, RING_RELAXED);
    }
}

/* The reading half of ring_copy_to_shared: relaxed 64-bit atomic loads. */
static inline void ring_copy_from_shared(void *dst, const void *src, size_t n)
{
    uint8_t *d = (uint8_t *)dst;
    uint64_t *s = (uint64_t *)src;
    for (size_t i = 0; i < n / 8; i++) {
        uint64_t w = atomic_load_explicit(ring_a64(s + i), RING_RELAXED);
        memcpy(d + 8 * i, &w, 8);
    }
}

#endif /* RING_ATOMIC_H */
