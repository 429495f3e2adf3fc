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

__attribute__((constructor)) static void jrnl_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? (c >> 1) ^ JRNL_CRC32C_POLY : c >> 1;
        jrnl_crc_table[i] = c;
    }
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
__attribute__((target("sse4.2"))) uint32_t jrnl_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    uint64_t c = (uint32_t)~crc;
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

int jrnl_crc32c_hw_available(void)
{
    return jrnl_crc_hw;
}

uint32_t jrnl_crc32c(uint32_t crc, const void *buf, size_t len)
{
    return jrnl_crc_hw ? jrnl_crc32c_hw(crc, buf, len) : jrnl_crc32c_sw(crc, buf, len);
}
