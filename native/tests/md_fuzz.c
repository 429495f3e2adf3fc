/*
 * md_fuzz.c - deterministic fuzzer for the feed's C subscriber decoder (native/md/md_sub.c, with
 * md_book.c), meant to be built with -fsanitize=address,undefined -fno-sanitize-recover=all so
 * that any out-of-bounds access or UB aborts the run. Standalone program (it has a main()), not
 * part of the cffi build; tests/marketdata/test_md_c_decoder_fuzz_sanitized.py compiles and runs it.
 *
 * Input: a file of valid packets (each a 4-byte little-endian length, then the packet) recorded
 * from the real encoder, and a valid snapshot. Checks: the valid stream applies in order with
 * MD_OK and a book that passes md_book_check; then, for a bounded number of seeded cases, a
 * mutated packet / snapshot / single message (bit flips, byte overwrites, truncation, extension,
 * forged length prefixes and counts), each in a heap block of exactly its length so ASan sees any
 * read past it, returns a status the contract allows, and the book's invariants still hold.
 *
 * Usage: md_fuzz --cases N --seed S PACKETS SNAPSHOT; exit 0 and "ok (0 failures)" when all held.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_book.h"
#include "md_feed.h"
#include "md_sub.h"

#define MAX_SEEDS 100000

static uint64_t rng_state;

/* xorshift64*: deterministic, enough to spread mutations. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob_t;

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int allowed(int rc)
{
    return rc == MD_OK || rc == MD_GAP || rc == MD_STALE || rc == MD_END_OF_SESSION ||
           (rc <= MD_E_PACKET_SHORT && rc >= MD_E_REQUEST) || rc == MD_E_BOOK ||
           rc == MD_E_CAPACITY || rc == MD_E_BAD_VALUE;
}

/* A mutated copy of src in a heap block of exactly the new length. */
static blob_t mutate(const blob_t *src)
{
    size_t n = src->n;
    unsigned kind = (unsigned)(rng() % 7);
    if (kind == 3 && n > 0)
        n = (size_t)(rng() % n);                        /* truncate */
    else if (kind == 4)
        n += 1 + (size_t)(rng() % 64);                  /* extend */
    blob_t b = {malloc(n ? n : 1), n};
    size_t keep = n < src->n ? n : src->n;
    memcpy(b.p, src->p, keep);
    for (size_t i = keep; i < n; i++)
        b.p[i] = (uint8_t)rng();
    if (n == 0)
        return b;
    switch (kind) {
    case 0: {                                           /* bit flips */
        unsigned flips = 1 + (unsigned)(rng() % 4);
        for (unsigned i = 0; i < flips; i++)
            b.p[rng() % n] ^= (uint8_t)(1u << (rng() % 8));
        break;
    }
    case 1: {                                           /* byte overwrites */
        unsigned k = 1 + (unsigned)(rng() % 8);
        for (unsigned i = 0; i < k; i++)
            b.p[rng() % n] = (uint8_t)rng();
        break;
    }
    case 2:                                             /* forged message count */
        if (n >= MD_MOLD_HDR_BYTES) {
            b.p[18] = (uint8_t)rng();
            b.p[19] = (uint8_t)rng();
        }
        break;
    case 5:                                             /* forged first length prefix */
        if (n >= MD_MOLD_HDR_BYTES + 2) {
            b.p[20] = (uint8_t)rng();
            b.p[21] = (uint8_t)rng();
        }
        break;
    case 6:                                             /* a random message type byte */
        if (n >= MD_MOLD_HDR_BYTES + 3)
            b.p[22] = (uint8_t)rng();
        break;
    default:
        break;
    }
    return b;
}

int main(int argc, char **argv)
{
    uint64_t cases = 100000, seed = 1;
    const char *pk_path = NULL, *snap_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cases") && i + 1 < argc)
            cases = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!pk_path)
            pk_path = argv[i];
        else
            snap_path = argv[i];
    }
    if (!pk_path || !snap_path) {
        fprintf(stderr, "usage: md_fuzz --cases N --seed S PACKETS SNAPSHOT\n");
        return 2;
    }
    rng_state = seed ? seed : 1;
    size_t flen = 0, slen = 0;
    uint8_t *file = read_file(pk_path, &flen);
    uint8_t *snap = read_file(snap_path, &slen);
    if (!file || !snap) {
        fprintf(stderr, "md_fuzz: cannot read %s or %s: %s\n", pk_path, snap_path, strerror(errno));
        return 2;
    }
    static blob_t seeds[MAX_SEEDS];
    size_t nseeds = 0;
    for (size_t off = 0; off + 4 <= flen && nseeds < MAX_SEEDS;) {
        uint32_t len = (uint32_t)file[off] | (uint32_t)file[off + 1] << 8 |
                       (uint32_t)file[off + 2] << 16 | (uint32_t)file[off + 3] << 24;
        off += 4;
        if (off + len > flen)
            break;
        seeds[nseeds].p = malloc(len);
        seeds[nseeds].n = len;
        memcpy(seeds[nseeds].p, file + off, len);
        nseeds++;
        off += len;
    }
    md_sub_t *sub;
    if (md_sub_create("VENUE     ", 20000, 4000, 8, &sub) != 0) {
        fprintf(stderr, "md_fuzz: md_sub_create failed\n");
        return 2;
    }
    unsigned long failures = 0;
    md_sub_reset(sub, 1);
    for (size_t i = 0; i < nseeds; i++) {
        uint64_t first;
        uint32_t count;
        int rc = md_sub_apply_packet(sub, seeds[i].p, seeds[i].n, &first, &count);
        if (rc != MD_OK || md_book_check(md_sub_book(sub)) != 0) {
            if (failures++ < 10)
                fprintf(stderr, "valid packet %zu: status %d, book check %d\n", i, rc,
                        md_book_check(md_sub_book(sub)));
        }
    }
    printf("%zu valid packets applied, %u orders on the book\n", nseeds,
           md_book_order_count(md_sub_book(sub)));
    blob_t snapshot = {snap, slen};
    uint64_t counts[3] = {0, 0, 0};
    for (uint64_t c = 0; c < cases; c++) {
        unsigned what = (unsigned)(rng() % 10);
        int rc;
        if (what < 7 && nseeds) {
            const blob_t *s = &seeds[rng() % nseeds];
            if (rng() % 4 == 0 && s->n >= MD_MOLD_HDR_BYTES) {
                /* reopen the window at this packet's seq so that mutations get applied */
                uint64_t be;
                memcpy(&be, s->p + 10, 8);
                md_sub_reset(sub, __builtin_bswap64(be));
            }
            blob_t m = mutate(s);
            uint64_t first;
            uint32_t count;
            rc = md_sub_apply_packet(sub, m.p, m.n, &first, &count);
            free(m.p);
            counts[0]++;
        } else if (what < 9) {
            blob_t m = mutate(&snapshot);
            rc = md_sub_apply_snapshot(sub, m.p, m.n);
            free(m.p);
            counts[1]++;
        } else {
            blob_t m = mutate(nseeds ? &seeds[rng() % nseeds] : &snapshot);
            size_t skip = m.n > MD_MOLD_HDR_BYTES + 2 ? MD_MOLD_HDR_BYTES + 2 : 0;
            uint8_t *msg = malloc(m.n - skip ? m.n - skip : 1);
            memcpy(msg, m.p + skip, m.n - skip);
            rc = md_msg_validate(msg, m.n - skip, 8);
            if (rc > 0)
                rc = -1;                                 /* validate never returns > 0 */
            free(msg);
            free(m.p);
            counts[2]++;
        }
        int check = md_book_check(md_sub_book(sub));
        if (!allowed(rc) || check != 0) {
            if (failures++ < 10)
                fprintf(stderr, "case %" PRIu64 ": status %d, book check %d\n", c, rc, check);
        }
    }
    printf("%" PRIu64 " cases: %" PRIu64 " packets, %" PRIu64 " snapshots, %" PRIu64 " messages\n",
           cases, counts[0], counts[1], counts[2]);
    md_sub_destroy(sub);
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i].p);
    free(file);
    free(snap);
    if (failures) {
        printf("FAILED (%lu failures)\n", failures);
        return 1;
    }
    printf("ok (0 failures)\n");
    return 0;
}
