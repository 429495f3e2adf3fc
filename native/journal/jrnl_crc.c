/*
 * jrnl_crc.c - CRC32C in hardware (SSE4.2 crc32, 8 bytes per instruction) and in software
 * (byte-wise table), chosen once at load. The table is built at load time from the polynomial,
 * so no hand-copied constant table can drift from it.
 */
#include "jrnl_crc.h"

#include <string.h>

#define JRNL_CRC32C_POLY 0x82F63B78u     /* Castagnoli, bit-reversed (RFC 3720 B.4) */

static uint32_t jrnl_crc_table[256];
static int jrnl_crc_hw;

/* Three-lane hardware CRC: the crc32 instruction has a latency of 3 cycles and a throughput of
 * 1, so one dependent chain uses a third of it. Long buffers run three chains over adjacent
 * blocks and join them by "shifting" a lane's CRC over the zero bytes of the lanes after it, a
 * linear map on the 32-bit register applied with 4 table lookups (tables built at load time
 * from the polynomial, like the byte table). Technique: M. Adler's crc32c.c (zlib). */
#define JRNL_CRC_LONG 2048          /* bytes per lane, blocks of 3 * LONG */
#define JRNL_CRC_SHORT 256          /* then blocks of 3 * SHORT */
static uint32_t jrnl_crc_long[4][256];
static uint32_t jrnl_crc_short[4][256];

static uint32_t jrnl_gf2_times(const uint32_t *mat, uint32_t vec)
{
    uint32_t sum = 0;
    while (vec) {
        if (vec & 1)
            sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void jrnl_gf2_square(uint32_t *square, const uint32_t *mat)
{
    for (int n = 0; n < 32; n++)
        square[n] = jrnl_gf2_times(mat, mat[n]);
}

/* The operator (32x32 GF(2) matrix, one column per word) that appends len zero bytes to a CRC
 * register; len a power of two. */
static void jrnl_crc_zeros_op(uint32_t *even, size_t len)
{
    uint32_t odd[32];
    odd[0] = JRNL_CRC32C_POLY;      /* one zero bit */
    for (int n = 1; n < 32; n++)
        odd[n] = 1u << (n - 1);
    jrnl_gf2_square(even, odd);     /* two zero bits */
    jrnl_gf2_square(odd, even);     /* four */
    do {                            /* then 1, 2, 4, ... bytes until len is used up */
        jrnl_gf2_square(even, odd);
        len >>= 1;
        if (len == 0)
            return;
        jrnl_gf2_square(odd, even);
        len >>= 1;
    } while (len);
    memcpy(even, odd, sizeof odd);
}

static void jrnl_crc_zeros(uint32_t zeros[4][256], size_t len)
{
    uint32_t op[32];
    jrnl_crc_zeros_op(op, len);
    for (uint32_t n = 0; n < 256; n++) {
        zeros[0][n] = jrnl_gf2_times(op, n);
        zeros[1][n] = jrnl_gf2_times(op, n << 8);
        zeros[2][n] = jrnl_gf2_times(op, n << 16);
        zeros[3][n] = jrnl_gf2_times(op, n << 24);
    }
}

static inline uint32_t jrnl_crc_shift(uint32_t zeros[4][256], uint32_t crc)
{
    return zeros[0][crc & 0xff] ^ zeros[1][(crc >> 8) & 0xff] ^ zeros[2][(crc >> 16) & 0xff] ^
           zeros[3][crc >> 24];
}

__attribute__((constructor)) static void jrnl_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? (c >> 1) ^ JRNL_CRC32C_POLY : c >> 1;
        jrnl_crc_table[i] = c;
    }
    jrnl_crc_zeros(jrnl_crc_long, JRNL_CRC_LONG);
    jrnl_crc_zeros(jrnl_crc_short, JRNL_CRC_SHORT);
#if defined(__x86_64__)
    __builtin_cpu_init();
    jrnl_crc_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
    jrnl_crc_hw = 0;
#endif
}

uint32_t jrnl_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = jrnl_crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
/* Three interleaved crc32 chains over 3 * block bytes at a time (the instruction's latency is
 * three times its throughput), joined by shifting the first two over a block of zeros. Inlined
 * with a constant block so each size gets its own unrolled loop. */
__attribute__((target("sse4.2"), always_inline)) static inline uint64_t
jrnl_crc_3way(uint64_t c, const uint8_t **pp, size_t *lenp, size_t block, uint32_t zeros[4][256])
{
    const uint8_t *p = *pp;
    size_t len = *lenp;
    while (len >= 3 * block) {
        uint64_t c1 = 0, c2 = 0;
        for (const uint8_t *end = p + block; p < end; p += 8) {
            uint64_t w0, w1, w2;
            memcpy(&w0, p, 8);
            memcpy(&w1, p + block, 8);
            memcpy(&w2, p + 2 * block, 8);
            c = __builtin_ia32_crc32di(c, w0);
            c1 = __builtin_ia32_crc32di(c1, w1);
            c2 = __builtin_ia32_crc32di(c2, w2);
        }
        c = jrnl_crc_shift(zeros, (uint32_t)c) ^ (uint32_t)c1;
        c = jrnl_crc_shift(zeros, (uint32_t)c) ^ (uint32_t)c2;
        p += 2 * block;
        len -= 3 * block;
    }
    *pp = p;
    *lenp = len;
    return c;
}

__attribute__((target("sse4.2"))) uint32_t jrnl_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    uint64_t c = (uint32_t)~crc;
    c = jrnl_crc_3way(c, &p, &len, JRNL_CRC_LONG, jrnl_crc_long);
    c = jrnl_crc_3way(c, &p, &len, JRNL_CRC_SHORT, jrnl_crc_short);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);           /* unaligned-safe load; compiles to one mov */
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}
#else
uint32_t jrnl_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
    return jrnl_crc32c_sw(crc, buf, len);   /* no hardware path on this architecture */
}
#endif

#if defined(__x86_64__)
/* Four independent chains over four buffers of len bytes (any len: 8-byte steps, then one
 * 4-byte step, then bytes), so the crc32 unit's 3-cycle latency is hidden by the other lanes. */
__attribute__((target("sse4.2"))) static void jrnl_crc32c_x4_hw(const uint8_t *const p[4],
                                                                size_t len, uint32_t out[4])
{
    uint64_t c0 = 0xffffffffu, c1 = 0xffffffffu, c2 = 0xffffffffu, c3 = 0xffffffffu;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w0, w1, w2, w3;
        memcpy(&w0, p[0] + i, 8);
        memcpy(&w1, p[1] + i, 8);
        memcpy(&w2, p[2] + i, 8);
        memcpy(&w3, p[3] + i, 8);
        c0 = __builtin_ia32_crc32di(c0, w0);
        c1 = __builtin_ia32_crc32di(c1, w1);
        c2 = __builtin_ia32_crc32di(c2, w2);
        c3 = __builtin_ia32_crc32di(c3, w3);
    }
    uint32_t d0 = (uint32_t)c0, d1 = (uint32_t)c1, d2 = (uint32_t)c2, d3 = (uint32_t)c3;
    if (i + 4 <= len) {
        uint32_t w0, w1, w2, w3;
        memcpy(&w0, p[0] + i, 4);
        memcpy(&w1, p[1] + i, 4);
        memcpy(&w2, p[2] + i, 4);
        memcpy(&w3, p[3] + i, 4);
        d0 = __builtin_ia32_crc32si(d0, w0);
        d1 = __builtin_ia32_crc32si(d1, w1);
        d2 = __builtin_ia32_crc32si(d2, w2);
        d3 = __builtin_ia32_crc32si(d3, w3);
        i += 4;
    }
    for (; i < len; i++) {
        d0 = __builtin_ia32_crc32qi(d0, p[0][i]);
        d1 = __builtin_ia32_crc32qi(d1, p[1][i]);
        d2 = __builtin_ia32_crc32qi(d2, p[2][i]);
        d3 = __builtin_ia32_crc32qi(d3, p[3][i]);
    }
    out[0] = ~d0;
    out[1] = ~d1;
    out[2] = ~d2;
    out[3] = ~d3;
}
#endif

void jrnl_crc32c_x4_ptrs(const void *const *bufs, size_t len, uint32_t out[4])
{
#if defined(__x86_64__)
    if (jrnl_crc_hw) {
        const uint8_t *const p[4] = {(const uint8_t *)bufs[0], (const uint8_t *)bufs[1],
                                     (const uint8_t *)bufs[2], (const uint8_t *)bufs[3]};
        jrnl_crc32c_x4_hw(p, len, out);
        return;
    }
#endif
    for (int k = 0; k < 4; k++)
        out[k] = jrnl_crc32c_sw(0, bufs[k], len);
}

void jrnl_crc32c_x4(const void *first, size_t stride, size_t len, uint32_t out[4])
{
    const uint8_t *p = (const uint8_t *)first;
    const void *const bufs[4] = {p, p + stride, p + 2 * stride, p + 3 * stride};
    jrnl_crc32c_x4_ptrs(bufs, len, out);
}

int jrnl_crc32c_hw_available(void)
{
    return jrnl_crc_hw;
}

uint32_t jrnl_crc32c(uint32_t crc, const void *buf, size_t len)
{
    return jrnl_crc_hw ? jrnl_crc32c_hw(crc, buf, len) : jrnl_crc32c_sw(crc, buf, len);
}
