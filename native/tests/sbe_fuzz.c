/*
 * sbe_fuzz.c - deterministic fuzzer for the generated SBE codec (native/gateway/sbe_codec.c), meant to be built
 * with -fsanitize=address,undefined -fno-sanitize-recover=all so that any out-of-bounds read, overflow
 * or other UB aborts the run. Standalone program, not part of the cffi build (it has a main()).
 *
 * It checks, for a bounded number of cases from a fixed seed: every decode returns ENG_OK or one of the
 * codec's ENG_GW_* codes; sbe_frame_peek agrees with sbe_decode; a frame that decodes re-encodes, and
 * decodes again to the same struct (byte-identical when its blockLength is the schema's); random
 * structs either encode (and then decode to themselves) or are refused with -EINVAL / -ENOSPC without
 * a write past the capacity. Each input lives in a heap block of exactly its length, so ASan sees any
 * read past it. Corpus frames given as EXPECT:PATH arguments must decode to EXPECT.
 *
 * Usage: sbe_fuzz [--cases N] [--seed S] [EXPECT:PATH ...]; exit 0 when every check held.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbe_codec.h"

#define MAX_SEEDS 256

static uint64_t rng_state;

/* xorshift64*: small, deterministic, good enough to spread mutations. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static uint32_t rng_below(uint32_t n) { return n ? (uint32_t)(rng() % n) : 0; }

typedef struct seed {
    uint8_t *bytes;
    size_t len;
} seed_t;

static seed_t seeds[MAX_SEEDS];
static size_t n_seeds;
static uint16_t templates[64];
static size_t n_templates;
static uint64_t failures;
static uint64_t by_code[1000];

static void fail(const char *what, const uint8_t *buf, size_t len, int rc)
{
    failures++;
    if (failures > 20) return;
    fprintf(stderr, "sbe_fuzz: %s (rc=%d %s) len=%zu bytes:", what, rc, sbe_error_text(rc), len);
    for (size_t i = 0; i < len && i < 64; i++) fprintf(stderr, " %02x", buf[i]);
    fprintf(stderr, "\n");
}

static int is_codec_code(int rc)
{
    return rc == ENG_OK || (rc >= ENG_GW_FRAME_TRUNCATED && rc <= ENG_GW_TRAILING_BYTES);
}

static void add_seed(const uint8_t *bytes, size_t len)
{
    if (n_seeds == MAX_SEEDS) return;
    seeds[n_seeds].bytes = malloc(len ? len : 1);
    if (!seeds[n_seeds].bytes) {
        perror("malloc");
        exit(2);
    }
    memcpy(seeds[n_seeds].bytes, bytes, len);
    seeds[n_seeds].len = len;
    n_seeds++;
}

/* Decodes buf[0..len) and checks every invariant that must hold whatever the bytes are. */
static int check_decode(const uint8_t *buf, size_t len)
{
    sbe_msg_t a, b;
    uint8_t out[SBE_MAX_FRAME_LENGTH];
    uint32_t peek_len = 0;
    int rc, prc, n, rc2;

    memset(&a, 0, sizeof a);
    rc = sbe_decode(buf, len, &a);
    if (!is_codec_code(rc)) {
        fail("decode returned a code outside the codec table", buf, len, rc);
        return rc;
    }
    by_code[rc]++;
    prc = sbe_frame_peek(buf, len, &peek_len);
    if (rc == ENG_GW_FRAME_TRUNCATED ? prc != SBE_NEED_MORE
        : (rc == ENG_GW_ENCODING_TYPE || rc == ENG_GW_FRAME_LENGTH) ? prc != rc : prc != ENG_OK)
        fail("frame_peek disagrees with decode", buf, len, rc);
    if (rc != ENG_OK) return rc;
    if (a.frame_length > len || a.frame_length != peek_len)
        fail("decoded frame_length beyond the buffer or unlike peek", buf, len, rc);
    n = sbe_encode(out, sizeof out, &a);
    if (n <= 0) {
        fail("a decoded message does not re-encode", buf, len, n);
        return rc;
    }
    memset(&b, 0, sizeof b);
    rc2 = sbe_decode(out, (size_t)n, &b);
    if (rc2 != ENG_OK || b.template_id != a.template_id || memcmp(&a.body, &b.body, sizeof a.body) != 0)
        fail("re-encoded frame does not decode to the same message", out, (size_t)n, rc2);
    /* canonical frames (schema blockLength) must come back byte for byte */
    if (b.block_length == a.block_length && ((size_t)n != a.frame_length || memcmp(out, buf, (size_t)n) != 0))
        fail("re-encoding a canonical frame changed its bytes", buf, len, rc);
    return rc;
}

static void mutate(uint8_t *buf, size_t len)
{
    uint32_t kind = rng_below(8);
    if (len == 0) return;
    switch (kind) {
    case 0: /* flip one bit */
        buf[rng_below((uint32_t)len)] ^= (uint8_t)(1u << rng_below(8));
        break;
    case 1: /* random byte */
        buf[rng_below((uint32_t)len)] = (uint8_t)rng();
        break;
    case 2: /* interesting byte at a field-ish position */
    {
        static const uint8_t interesting[] = {0, 1, 2, 0x7f, 0x80, 0xff, '0', 'F', 'Z'};
        buf[rng_below((uint32_t)len)] = interesting[rng_below(sizeof interesting)];
        break;
    }
    case 3: /* SOFH length near the real one */
        if (len >= 4) {
            uint32_t v = (uint32_t)len + rng_below(9) - 4;
            if (rng_below(8) == 0) v = (uint32_t)rng();
            buf[0] = (uint8_t)(v >> 24);
            buf[1] = (uint8_t)(v >> 16);
            buf[2] = (uint8_t)(v >> 8);
            buf[3] = (uint8_t)v;
        }
        break;
    case 4: /* header field: blockLength / templateId / schemaId / version */
        if (len >= 14) {
            uint32_t at = 6 + 2 * rng_below(4);
            uint16_t v = (uint16_t)(rng_below(4) == 0 ? rng() : (uint32_t)buf[at] + rng_below(5) - 2);
            if (at == 8 && rng_below(2)) v = templates[rng_below((uint32_t)n_templates)];
            buf[at] = (uint8_t)v;
            buf[at + 1] = (uint8_t)(v >> 8);
        }
        break;
    case 5: /* a little-endian uint16 anywhere (hits varData lengths) */
        if (len >= 2) {
            uint32_t at = rng_below((uint32_t)len - 1);
            uint16_t v = (uint16_t)(rng_below(2) ? rng_below(300) : rng());
            buf[at] = (uint8_t)v;
            buf[at + 1] = (uint8_t)(v >> 8);
        }
        break;
    default: /* several random bytes */
        for (uint32_t i = rng_below(4) + 1; i > 0; i--) buf[rng_below((uint32_t)len)] = (uint8_t)rng();
        break;
    }
}

/* One mutated frame in a heap block of exactly its length. */
static void fuzz_decode_case(void)
{
    const seed_t *sd = &seeds[rng_below((uint32_t)n_seeds)];
    size_t len = sd->len;
    uint32_t shape = rng_below(10);
    uint8_t *buf;

    if (shape == 0 && len > 0) len = rng_below((uint32_t)len);         /* truncate */
    else if (shape == 1) len = len + 1 + rng_below(40);                 /* extend */
    else if (shape == 2) len = rng_below(64);                           /* pure noise */
    buf = malloc(len ? len : 1);
    if (!buf) {
        perror("malloc");
        exit(2);
    }
    for (size_t i = 0; i < len; i++) buf[i] = i < sd->len && shape != 2 ? sd->bytes[i] : (uint8_t)rng();
    if (shape >= 3)
        for (uint32_t m = rng_below(4) + 1; m > 0; m--) mutate(buf, len);
    check_decode(buf, len);
    free(buf);
}

/* A random struct, encoded into a heap block of a random capacity. */
static void fuzz_encode_case(void)
{
    sbe_msg_t m, back;
    uint8_t *raw = (uint8_t *)&m;
    size_t cap = rng_below(SBE_MAX_FRAME_LENGTH / 4);
    uint8_t *buf;
    int n;

    /* start from a decoded seed most of the time so that many structs are valid */
    memset(&m, 0, sizeof m);
    if (rng_below(4) != 0) {
        const seed_t *sd = &seeds[rng_below((uint32_t)n_seeds)];
        if (sbe_decode(sd->bytes, sd->len, &m) != ENG_OK) return;
        for (uint32_t k = rng_below(3); k > 0; k--)
            raw[offsetof(sbe_msg_t, body) + rng_below(sizeof m.body)] = (uint8_t)rng();
    } else {
        for (size_t i = 0; i < sizeof m.body; i++) raw[offsetof(sbe_msg_t, body) + i] = (uint8_t)rng();
        m.template_id = templates[rng_below((uint32_t)n_templates)];
    }
    buf = malloc(cap ? cap : 1);
    if (!buf) {
        perror("malloc");
        exit(2);
    }
    n = sbe_encode(buf, cap, &m);
    if (n > 0) {
        if ((size_t)n > cap) fail("encode reported more bytes than the capacity", buf, cap, n);
        memset(&back, 0, sizeof back);
        if (sbe_decode(buf, (size_t)n, &back) != ENG_OK || back.template_id != m.template_id)
            fail("an encoded frame does not decode", buf, (size_t)n, n);
    } else if (n != -EINVAL && n != -ENOSPC) {
        fail("encode returned neither a length nor -EINVAL/-ENOSPC", buf, 0, n);
    }
    free(buf);
}

static int run_corpus_entry(const char *arg)
{
    char *end;
    long expect = strtol(arg, &end, 10);
    FILE *f;
    uint8_t *buf;
    long size;
    int rc;

    if (*end != ':') {
        fprintf(stderr, "sbe_fuzz: corpus argument %s is not EXPECT:PATH\n", arg);
        exit(2);
    }
    f = fopen(end + 1, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "sbe_fuzz: cannot read %s\n", end + 1);
        exit(2);
    }
    buf = malloc(size ? (size_t)size : 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "sbe_fuzz: cannot read %s\n", end + 1);
        exit(2);
    }
    fclose(f);
    rc = check_decode(buf, (size_t)size);
    if (rc != expect) {
        fprintf(stderr, "sbe_fuzz: %s decoded to %d (%s), expected %ld\n", end + 1, rc, sbe_error_text(rc), expect);
        failures++;
    }
    if (rc == ENG_OK) add_seed(buf, (size_t)size);
    free(buf);
    return rc;
}

static void builtin_seeds(void)
{
    uint8_t buf[SBE_MAX_FRAME_LENGTH];
    sbe_new_order_single_t nos = {.seq_num = 1, .sending_time_ns = 2, .cl_ord_id = 3, .price = 1000100,
                                  .stop_px = SBE_OPTIONAL_PRICE_NULL, .order_qty = 500,
                                  .display_qty = 100, .expire_time_ns = SBE_OPTIONAL_TIME_NS_NULL,
                                  .instrument_id = 1, .account_id = 7, .stp_group = 9,
                                  .side = SBE_SIDE_BUY, .ord_type = SBE_ORD_TYPE_LIMIT,
                                  .time_in_force = SBE_TIME_IN_FORCE_DAY,
                                  .stp_mode = SBE_SELF_TRADE_PREVENTION_DECREMENT,
                                  .flags = SBE_ORDER_FLAGS_ICEBERG};
    sbe_negotiate_t neg = {.session_id = 77, .timestamp_ns = 5, .firm_id = 3,
                           .client_flow = SBE_FLOW_TYPE_RECOVERABLE, .credentials_length = 12};
    sbe_terminate_t term = {.session_id = 77, .reason_code = ENG_GW_UNKNOWN_TEMPLATE,
                            .code = SBE_TERMINATION_CODE_DECODING_ERROR, .reason_length = 0};
    int n;
    memcpy(neg.credentials, "key:abcdefgh", 12);
    if ((n = sbe_encode_new_order_single(buf, sizeof buf, &nos)) > 0) add_seed(buf, (size_t)n);
    else fail("built-in NewOrderSingle does not encode", buf, 0, n);
    if ((n = sbe_encode_negotiate(buf, sizeof buf, &neg)) > 0) add_seed(buf, (size_t)n);
    else fail("built-in Negotiate does not encode", buf, 0, n);
    if ((n = sbe_encode_terminate(buf, sizeof buf, &term)) > 0) add_seed(buf, (size_t)n);
    else fail("built-in Terminate does not encode", buf, 0, n);
}

int main(int argc, char **argv)
{
    uint64_t cases = 200000, seed = UINT64_C(0x5BE0EB50);
    int corpus = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cases") == 0 && i + 1 < argc) cases = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
        else {
            run_corpus_entry(argv[i]);
            corpus++;
        }
    }
    rng_state = seed ? seed : 1;
    for (uint32_t t = 1; t <= 0xFFFF && n_templates < sizeof templates / sizeof templates[0]; t++)
        if (sbe_template_name((uint16_t)t)) templates[n_templates++] = (uint16_t)t;
    builtin_seeds();
    for (uint64_t c = 0; c < cases; c++) {
        if (c % 4 == 3) fuzz_encode_case();
        else fuzz_decode_case();
    }
    printf("sbe_fuzz: seed %#" PRIx64 ", %" PRIu64 " cases, %d corpus frames, %zu seeds, %zu templates\n", seed,
           cases, corpus, n_seeds, n_templates);
    printf("sbe_fuzz: decode results:");
    for (int code = 0; code < 1000; code++)
        if (by_code[code]) printf(" %d=%" PRIu64, code, by_code[code]);
    printf("\nsbe_fuzz: %s (%" PRIu64 " failures)\n", failures ? "FAILED" : "ok", failures);
    for (size_t i = 0; i < n_seeds; i++) free(seeds[i].bytes);
    return failures ? 1 : 0;
}
