/*
 * jrnl_crc.h - CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the journal's record check.
 *
 * jrnl_crc32c() picks the SSE4.2 crc32 instruction when the CPU has it (checked once at load
 * time with cpuid via __builtin_cpu_supports) and a table-driven software version otherwise.
 * Both compute the same function: crc = jrnl_crc32c(0, buf, len) is the standard CRC32C
 * (initial value and final xor ~0 applied inside; pass a previous result to continue it).
 */
#ifndef JRNL_CRC_H
#define JRNL_CRC_H

#include <stddef.h>
#include <stdint.h>

/* CFFI-BEGIN */
/* CRC32C of len bytes continuing crc (0 to start). Cannot fail. */
uint32_t jrnl_crc32c(uint32_t crc, const void *buf, size_t len);
/* The portable table version. Cannot fail. */
uint32_t jrnl_crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* The SSE4.2 version; only call it where jrnl_crc32c_hw_available() is 1. */
uint32_t jrnl_crc32c_hw(uint32_t crc, const void *buf, size_t len);
/* CRC32C (from 0) of four buffers of len bytes at first + k * stride, k = 0..3, into out[k]:
 * four independent chains run together (the journal checks records four at a time). */
void jrnl_crc32c_x4(const void *first, size_t stride, size_t len, uint32_t out[4]);
/* The same for four buffers anywhere: CRC32C (from 0) of len bytes at bufs[k] into out[k]
 * (the engine checks a command's records, spread over two journals, four at a time). */
void jrnl_crc32c_x4_ptrs(const void *const *bufs, size_t len, uint32_t out[4]);
/* 1 if this CPU has the SSE4.2 crc32 instruction (and this build can use it), else 0. */
int jrnl_crc32c_hw_available(void);
/* CFFI-END */

#endif /* JRNL_CRC_H */
