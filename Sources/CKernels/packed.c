// Packed int8 weights for prefill: the products of many token vectors with one weight matrix, on
// AVX-512 VNNI (vpdpbusd: 64 unsigned-by-signed byte products summed into 16 int32 lanes per
// instruction). docs/gguf.md, "Packed prefill", describes the layout and the arithmetic.
//
// Each weight row's 32-value sub-blocks are unpacked once, at load, into the common form of
// blocks.h (32 int8 values, scales s0/s1, an offset), and laid out so that one 64-byte load holds 4
// consecutive values of 16 rows: lanes are output rows, so the sums need no horizontal reduction.
// Activations are quantized to 16 bits per block of 32 (ck_block_a16), not 8: with 8 bits, a block
// holding one of the model's large activations rounds the others so coarsely that a prompt scored
// with and without its cached prefix differed by up to 0.02 in a judge's probability. A 16-bit value
// q = 256·hi + lo is multiplied as two bytes, lo (0..255) and hi + 128 (0..255), each by vpdpbusd;
// the shift's share, 32768 times each row's sum of values, is an integer kept per row at load, so
// every sum is exact in int32 until its one conversion to float.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "avx2.h"

#define PK_ROWS 16                       // rows per group: the 16 int32 lanes of a zmm register
#define PK_WEIGHTS (8 * PK_ROWS * 4)     // bytes of one sub-block of a group: [8 quads][16 rows][4]
#define PK_EXTRA (5 * PK_ROWS)           // per row: float s0, s1; int32 k0, k1; float off
#define PK_RECORD (PK_WEIGHTS + 4 * PK_EXTRA)

/// The header at the start of a packed matrix (64 bytes, so the records stay 64-byte aligned).
typedef struct {
    int64_t rows, cols, groups, subs;
    int32_t split;   // some row has s0 != s1 (Q6_K's scales cover 16 values): two sums per sub-block
    int32_t offset;  // some row has an offset (Q4_1, Q5_1, Q4_K, Q5_K)
    int32_t type, pad[5];
} pk_header;
_Static_assert(sizeof(pk_header) == 64, "packed header");
_Static_assert(PK_RECORD % 64 == 0, "records stay 64-byte aligned");
_Static_assert(sizeof(ck_block_a16) == 72, "16-bit activation block");

int ck_pack_supported(int type) { return ck_fast_uses_q8(type); }

size_t ck_packed_bytes(int64_t rows, int64_t cols) {
    int64_t groups = (rows + PK_ROWS - 1) / PK_ROWS, subs = cols / 32;
    return sizeof(pk_header) + (size_t)groups * (size_t)subs * PK_RECORD;
}

static uint8_t *pk_record(const pk_header *h, int64_t group, int64_t sub) {
    return (uint8_t *)(h + 1) + ((size_t)group * (size_t)h->subs + (size_t)sub) * PK_RECORD;
}

typedef struct {
    int type;
    const uint8_t *w;
    size_t row_bytes;
    pk_header *h;
    int split, offset;  // what the group's rows need, set per thread (OR-ed after)
} pack_job;

static void pack_groups(void *ctx, int64_t begin, int64_t end, int thread) {
    (void)thread;
    pack_job *j = ctx;
    const pk_header *h = j->h;
    int split = 0, offset = 0;
    for (int64_t g = begin; g < end; g++) {
        for (int64_t b = 0; b < h->subs; b++) {
            uint8_t *rec = pk_record(h, g, b);
            float *s0 = (float *)(rec + PK_WEIGHTS), *s1 = s0 + PK_ROWS;
            int32_t *k0 = (int32_t *)(s1 + PK_ROWS), *k1 = k0 + PK_ROWS;
            float *off = (float *)(k1 + PK_ROWS);
            memset(rec, 0, PK_RECORD);
            for (int r = 0; r < PK_ROWS; r++) {
                int64_t row = g * PK_ROWS + r;
                if (row >= h->rows) break;
                ck_sub32 s;
                ck_unpack_sub32_ref(j->type, j->w + (size_t)row * j->row_bytes, b, &s);
                int32_t sum0 = 0, sum1 = 0;
                for (int i = 0; i < 32; i++) {
                    rec[(i / 4) * PK_ROWS * 4 + r * 4 + i % 4] = (uint8_t)s.q[i];
                    if (i < 16) sum0 += s.q[i]; else sum1 += s.q[i];
                }
                s0[r] = s.s0;
                s1[r] = s.s1;
                k0[r] = 32768 * sum0;
                k1[r] = 32768 * sum1;
                off[r] = s.offset;
                split |= s.s0 != s.s1;
                offset |= s.offset != 0;
            }
        }
    }
    // The flags only ever go from 0 to 1; a racing write of 1 is harmless.
    if (split) __atomic_store_n(&j->split, 1, __ATOMIC_RELAXED);
    if (offset) __atomic_store_n(&j->offset, 1, __ATOMIC_RELAXED);
}

int ck_pack_weights(ck_pool *pool, int type, const void *w, int64_t rows, int64_t cols, void *dst) {
    if (!ck_pack_supported(type) || rows <= 0 || cols <= 0 || cols % 32 != 0) return -1;
    if ((uintptr_t)dst % 64 != 0) return -1;
    pk_header *h = dst;
    memset(h, 0, sizeof *h);
    h->rows = rows;
    h->cols = cols;
    h->groups = (rows + PK_ROWS - 1) / PK_ROWS;
    h->subs = cols / 32;
    h->type = type;
    pack_job j = {type, w, (size_t)(cols / ck_block_size(type)) * (size_t)ck_type_size(type), h, 0, 0};
    ck_pool_run(pool, h->groups, 1 + h->groups / (8 * ck_pool_threads(pool)), pack_groups, &j);
    h->split = j.split;
    h->offset = j.offset;
    return 0;
}

void ck_quantize_act16_ref(const float *x, ck_block_a16 *b, int64_t n) {
    for (int64_t i = 0; i < n / 32; i++, b++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 32767, id = d != 0 ? 32767 / amax : 0;
        if (!isfinite(id)) id = 0;  // amax below about 1e-34: the block is taken as zeros
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) {
            int32_t q = (int32_t)nearbyintf(x[j] * id);  // ties to even, like the SIMD conversion
            b->hi[j] = (uint8_t)((q >> 8) + 128);
            b->lo[j] = (uint8_t)(q & 255);
            sum += q;
        }
        b->d = d;
        b->s = d * (float)sum;
    }
}

/// The reference: y[t, r] from the packed form and 16-bit activations, with plain integer loops, in
/// the order the kernel adds (per sub-block: the scaled sums, then the offset term). Tests compare
/// the kernel with it.
void ck_matmul_packed_ref(const void *packed, const ck_block_a16 *act, int64_t n, float *y) {
    const pk_header *h = packed;
    for (int64_t t = 0; t < n; t++) {
        const ck_block_a16 *a = act + (size_t)t * (size_t)h->subs;
        for (int64_t row = 0; row < h->rows; row++) {
            int64_t g = row / PK_ROWS;
            int r = (int)(row % PK_ROWS);
            float acc = 0;
            for (int64_t b = 0; b < h->subs; b++) {
                const uint8_t *rec = pk_record(h, g, b);
                const float *s0 = (const float *)(rec + PK_WEIGHTS), *s1 = s0 + PK_ROWS;
                const int32_t *k0 = (const int32_t *)(s1 + PK_ROWS), *k1 = k0 + PK_ROWS;
                const float *off = (const float *)(k1 + PK_ROWS);
                int32_t hi0 = 0, hi1 = 0, lo0 = 0, lo1 = 0;
                for (int i = 0; i < 32; i++) {
                    int32_t w = (int8_t)rec[(i / 4) * PK_ROWS * 4 + r * 4 + i % 4];
                    if (i < 16) { hi0 += a[b].hi[i] * w; lo0 += a[b].lo[i] * w; }
                    else { hi1 += a[b].hi[i] * w; lo1 += a[b].lo[i] * w; }
                }
                int32_t t0 = hi0 * 256 + lo0 - k0[r], t1 = hi1 * 256 + lo1 - k1[r];
                float part = h->split ? (float)t0 * s0[r] * a[b].d + (float)t1 * s1[r] * a[b].d
                                      : (float)(t0 + t1) * s0[r] * a[b].d;
                acc += part;
                if (h->offset) acc += off[r] * a[b].s;
            }
            y[(size_t)t * (size_t)h->rows + (size_t)row] = acc;
        }
    }
}

#if CK_X86

#include <immintrin.h>

#define TARGET512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))
#define INLINE512 static inline __attribute__((always_inline)) TARGET512

/// T token vectors (1..4) against NG groups (1..2) of 16 rows, over every sub-block. The float sums
/// stay in registers from the first sub-block to the last.
INLINE512 void pk_tile(int T, int NG, int split, int offset, const pk_header *h, int64_t g0,
                       const ck_block_a16 *const *a, float *const *y, const int *valid) {
    __m512 acc[4][2];
    for (int t = 0; t < T; t++)
        for (int g = 0; g < NG; g++) acc[t][g] = _mm512_setzero_ps();
    for (int64_t b = 0; b < h->subs; b++) {
        const uint8_t *rec[2];
        for (int g = 0; g < NG; g++) rec[g] = pk_record(h, g0 + g, b);
        __m512i hi[4][2], lo[4][2];
        for (int t = 0; t < T; t++)
            for (int g = 0; g < NG; g++) hi[t][g] = lo[t][g] = _mm512_setzero_si512();
        for (int quad = 0; quad < 8; quad++) {
            if (split && quad == 4) {
                // values 0..15 carry s0: add them now and start again for 16..31
                for (int g = 0; g < NG; g++) {
                    const float *f = (const float *)(rec[g] + PK_WEIGHTS);
                    __m512 s0 = _mm512_load_ps(f);
                    __m512i k0 = _mm512_load_si512((const void *)(f + 2 * PK_ROWS));
                    for (int t = 0; t < T; t++) {
                        __m512i sum = _mm512_sub_epi32(_mm512_add_epi32(_mm512_slli_epi32(hi[t][g], 8), lo[t][g]), k0);
                        __m512 part = _mm512_mul_ps(_mm512_cvtepi32_ps(sum), s0);
                        acc[t][g] = _mm512_fmadd_ps(part, _mm512_set1_ps(a[t][b].d), acc[t][g]);
                        hi[t][g] = lo[t][g] = _mm512_setzero_si512();
                    }
                }
            }
            __m512i w[2];
            for (int g = 0; g < NG; g++) w[g] = _mm512_load_si512((const void *)(rec[g] + quad * PK_ROWS * 4));
            for (int t = 0; t < T; t++) {
                int32_t four_hi, four_lo;
                memcpy(&four_hi, a[t][b].hi + 4 * quad, 4);
                memcpy(&four_lo, a[t][b].lo + 4 * quad, 4);
                __m512i xh = _mm512_set1_epi32(four_hi), xl = _mm512_set1_epi32(four_lo);
                for (int g = 0; g < NG; g++) {
                    hi[t][g] = _mm512_dpbusd_epi32(hi[t][g], xh, w[g]);
                    lo[t][g] = _mm512_dpbusd_epi32(lo[t][g], xl, w[g]);
                }
            }
        }
        for (int g = 0; g < NG; g++) {
            const float *f = (const float *)(rec[g] + PK_WEIGHTS);
            __m512 s = _mm512_load_ps(split ? f + PK_ROWS : f);
            __m512i k0 = _mm512_load_si512((const void *)(f + 2 * PK_ROWS));
            __m512i k1 = _mm512_load_si512((const void *)(f + 3 * PK_ROWS));
            __m512i k = split ? k1 : _mm512_add_epi32(k0, k1);
            __m512 off = _mm512_load_ps(f + 4 * PK_ROWS);
            for (int t = 0; t < T; t++) {
                __m512i sum = _mm512_sub_epi32(_mm512_add_epi32(_mm512_slli_epi32(hi[t][g], 8), lo[t][g]), k);
                __m512 part = _mm512_mul_ps(_mm512_cvtepi32_ps(sum), s);
                acc[t][g] = _mm512_fmadd_ps(part, _mm512_set1_ps(a[t][b].d), acc[t][g]);
                if (offset) acc[t][g] = _mm512_fmadd_ps(off, _mm512_set1_ps(a[t][b].s), acc[t][g]);
            }
        }
    }
    for (int t = 0; t < T; t++)
        for (int g = 0; g < NG; g++) {
            float *out = y[t] + (g0 + g) * PK_ROWS;
            if (valid[g] == PK_ROWS) _mm512_storeu_ps(out, acc[t][g]);
            else _mm512_mask_storeu_ps(out, (__mmask16)((1u << valid[g]) - 1), acc[t][g]);
        }
}

#define PK_TILES(NG)                                                                               \
    switch (T) {                                                                                   \
    case 1: pk_tile(1, NG, split, offset, h, g0, a, y, valid); break;                              \
    case 2: pk_tile(2, NG, split, offset, h, g0, a, y, valid); break;                              \
    case 3: pk_tile(3, NG, split, offset, h, g0, a, y, valid); break;                              \
    default: pk_tile(4, NG, split, offset, h, g0, a, y, valid); break;                             \
    }

/// One group pair (or the last single group) against every token, four at a time.
TARGET512 static void pk_pair(const pk_header *h, int64_t g0, const ck_block_a16 *act, int64_t n, float *yout,
                              int split, int offset) {
    int NG = g0 + 1 < h->groups ? 2 : 1;
    int valid[2];
    for (int g = 0; g < NG; g++) {
        int64_t left = h->rows - (g0 + g) * PK_ROWS;
        valid[g] = (int)(left < PK_ROWS ? left : PK_ROWS);
    }
    for (int64_t t0 = 0; t0 < n; t0 += 4) {
        int T = (int)(n - t0 < 4 ? n - t0 : 4);
        const ck_block_a16 *a[4];
        float *y[4];
        for (int t = 0; t < T; t++) {
            a[t] = act + (size_t)(t0 + t) * (size_t)h->subs;
            y[t] = yout + (size_t)(t0 + t) * (size_t)h->rows;
        }
        if (NG == 2) { PK_TILES(2) } else { PK_TILES(1) }
    }
}

/// Every case of (split, offset) as its own instantiation, so the flags fold away in the loops.
TARGET512 static void pk_pair_any(const pk_header *h, int64_t g0, const ck_block_a16 *act, int64_t n, float *y) {
    if (h->split) {
        if (h->offset) pk_pair(h, g0, act, n, y, 1, 1); else pk_pair(h, g0, act, n, y, 1, 0);
    } else {
        if (h->offset) pk_pair(h, g0, act, n, y, 0, 1); else pk_pair(h, g0, act, n, y, 0, 0);
    }
}

/// ck_quantize_act16_ref, 32 values per iteration: the same amax, scale and rounding (cvtps rounds
/// to nearest even, as nearbyintf does there).
TARGET512 static void pk_quantize16(const float *x, ck_block_a16 *b, int64_t n) {
    const __m512i bias = _mm512_set1_epi32(128), low = _mm512_set1_epi32(255);
    for (int64_t i = 0; i < n / 32; i++, b++, x += 32) {
        __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float d = amax / 32767, id = d != 0 ? 32767 / amax : 0;
        if (!isfinite(id)) id = 0;
        __m512 vid = _mm512_set1_ps(id);
        __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, vid)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, vid));
        _mm_storeu_si128((__m128i *)b->hi, _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_srai_epi32(q0, 8), bias)));
        _mm_storeu_si128((__m128i *)(b->hi + 16), _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_srai_epi32(q1, 8), bias)));
        _mm_storeu_si128((__m128i *)b->lo, _mm512_cvtepi32_epi8(_mm512_and_si512(q0, low)));
        _mm_storeu_si128((__m128i *)(b->lo + 16), _mm512_cvtepi32_epi8(_mm512_and_si512(q1, low)));
        b->d = d;
        b->s = d * (float)_mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

static int cpu_has_vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")
        && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#else

static int cpu_has_vnni(void) { return 0; }
static void pk_pair_any(const pk_header *h, int64_t g0, const ck_block_a16 *act, int64_t n, float *y) {
    (void)h; (void)g0; (void)act; (void)n; (void)y;
}
static void pk_quantize16(const float *x, ck_block_a16 *b, int64_t n) { ck_quantize_act16_ref(x, b, n); }

#endif

static int force_off = 0;

void ck_force_no_vnni(int on) { force_off = on; }

int ck_has_vnni(void) {
    static int cached = -1;
    if (cached < 0) cached = cpu_has_vnni();
    return cached && !force_off;
}

typedef struct {
    const pk_header *h;
    const float *x;
    ck_block_a16 *act;
    int64_t n;
    float *y;
} packed_job;

static void packed_quantize(void *ctx, int64_t begin, int64_t end, int thread) {
    (void)thread;
    const packed_job *j = ctx;
    for (int64_t t = begin; t < end; t++)
        pk_quantize16(j->x + (size_t)t * (size_t)j->h->cols, j->act + (size_t)t * (size_t)j->h->subs, j->h->cols);
}

static void packed_pairs(void *ctx, int64_t begin, int64_t end, int thread) {
    (void)thread;
    const packed_job *j = ctx;
    for (int64_t p = begin; p < end; p++) pk_pair_any(j->h, 2 * p, j->act, j->n, j->y);
}

size_t ck_packed_act_bytes(int64_t cols, int64_t n) { return (size_t)(cols / 32) * sizeof(ck_block_a16) * (size_t)n; }

void ck_quantize_act16(const float *x, ck_block_a16 *dst, int64_t n) {
    if (ck_has_vnni()) pk_quantize16(x, dst, n);
    else ck_quantize_act16_ref(x, dst, n);
}

int ck_matmul_packed(ck_pool *pool, const void *packed, const float *x, int64_t n, float *y, void *act) {
    const pk_header *h = packed;
    if (!ck_has_vnni() || n <= 0) return -1;
    packed_job j = {h, x, act, n, y};
    ck_pool_run(pool, n, 1 + n / (4 * ck_pool_threads(pool)), packed_quantize, &j);
    int64_t pairs = (h->groups + 1) / 2;
    // One pair of groups per chunk: a pair is 32 rows against every token, enough work to be worth
    // a hand-out, and with 8-20 pairs per matrix larger chunks left a thread idle at the end
    // (11% of a local judge's samples were the pool's workers waiting).
    ck_pool_run(pool, pairs, 1, packed_pairs, &j);
    return 0;
}
