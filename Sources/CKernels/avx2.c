// AVX2+FMA+F16C kernels. Each quantized type only says how to unpack a 32-value sub-block into 32
// int8 values, scales and an offset (the form of blocks.h); the exact dot product, the integer
// ("fast") dot product and the dequantizer are written once against that form. The integer dot
// product multiplies int8 weights by int8 activations with the usual AVX2 idiom
// (maddubs(|w|, sign(a, w)), then madd to int32), as ggml's CPU backend does.
#include "avx2.h"

#if CK_X86

#include <immintrin.h>
#include <string.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline)) TARGET

INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE float h2f(uint16_t h) { return _cvtsh_ss(h); }

/// 16 packed bytes -> 32 nibbles: low nibbles as values 0..15, high nibbles as values 16..31.
INLINE __m256i nibbles32(const uint8_t *qs) {
    __m128i v = _mm_loadu_si128((const __m128i *)qs);
    __m128i m = _mm_set1_epi8(15);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

/// Bit i of the 32-bit qh -> 16 in byte i, else 0 (the fifth bit of Q5_0/Q5_1).
INLINE __m256i fifth_bits(const uint8_t *qhp) {
    uint32_t qh;
    memcpy(&qh, qhp, 4);
    const __m256i spread = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                             0x0101010101010101, 0x0000000000000000);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
    return _mm256_and_si256(v, _mm256_set1_epi8(16));
}

INLINE __m256i srl16(__m256i v, int count) { return _mm256_srl_epi16(v, _mm_cvtsi32_si128(count)); }

/// Unpacks sub-block `sub` of a row into 32 int8 values; scales s0 (values 0..15), s1 (16..31), offset.
INLINE __m256i unpack(int type, const uint8_t *row, int64_t sub, float *s0, float *s1, float *off) {
    const __m256i low4 = _mm256_set1_epi8(15);
    *off = 0;
    switch (type) {
    case CK_TYPE_Q4_0: {
        const block_q4_0 *b = (const block_q4_0 *)row + sub;
        *s0 = *s1 = h2f(b->d);
        return _mm256_sub_epi8(nibbles32(b->qs), _mm256_set1_epi8(8));
    }
    case CK_TYPE_Q4_1: {
        const block_q4_1 *b = (const block_q4_1 *)row + sub;
        *s0 = *s1 = h2f(b->d);
        *off = h2f(b->m);
        return nibbles32(b->qs);
    }
    case CK_TYPE_Q5_0: {
        const block_q5_0 *b = (const block_q5_0 *)row + sub;
        *s0 = *s1 = h2f(b->d);
        return _mm256_sub_epi8(_mm256_or_si256(nibbles32(b->qs), fifth_bits(b->qh)), _mm256_set1_epi8(16));
    }
    case CK_TYPE_Q5_1: {
        const block_q5_1 *b = (const block_q5_1 *)row + sub;
        *s0 = *s1 = h2f(b->d);
        *off = h2f(b->m);
        return _mm256_or_si256(nibbles32(b->qs), fifth_bits(b->qh));
    }
    case CK_TYPE_Q8_0: {
        const block_q8_0 *b = (const block_q8_0 *)row + sub;
        *s0 = *s1 = h2f(b->d);
        return _mm256_loadu_si256((const __m256i *)b->qs);
    }
    case CK_TYPE_Q4_K: {
        const block_q4_K *b = (const block_q4_K *)row + sub / 8;
        int j = (int)(sub % 8);
        uint8_t sc, m;
        ck_scale_min_k4(j, b->scales, &sc, &m);
        *s0 = *s1 = h2f(b->d) * sc;
        *off = -(h2f(b->dmin) * m);
        __m256i v = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * (j / 2)));
        return _mm256_and_si256(srl16(v, (j & 1) * 4), low4);
    }
    case CK_TYPE_Q5_K: {
        const block_q5_K *b = (const block_q5_K *)row + sub / 8;
        int j = (int)(sub % 8);
        uint8_t sc, m;
        ck_scale_min_k4(j, b->scales, &sc, &m);
        *s0 = *s1 = h2f(b->d) * sc;
        *off = -(h2f(b->dmin) * m);
        __m256i v = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * (j / 2)));
        __m256i h = _mm256_loadu_si256((const __m256i *)b->qh);
        h = _mm256_slli_epi16(_mm256_and_si256(srl16(h, j), _mm256_set1_epi8(1)), 4);
        return _mm256_or_si256(_mm256_and_si256(srl16(v, (j & 1) * 4), low4), h);
    }
    case CK_TYPE_Q6_K: {
        const block_q6_K *b = (const block_q6_K *)row + sub / 8;
        int s = (int)(sub % 8), half = s / 4, k = s % 4;
        float d = h2f(b->d);
        *s0 = d * b->scales[8 * half + 2 * k];
        *s1 = d * b->scales[8 * half + 2 * k + 1];
        __m256i l = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * half + 32 * (k & 1)));
        __m256i h = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * half));
        l = _mm256_and_si256(srl16(l, (k >> 1) * 4), low4);
        h = _mm256_slli_epi16(_mm256_and_si256(srl16(h, 2 * k), _mm256_set1_epi8(3)), 4);
        return _mm256_sub_epi8(_mm256_or_si256(l, h), _mm256_set1_epi8(32));
    }
    }
    return _mm256_setzero_si256();
}

/// The 32 int8 values as four vectors of 8 floats.
INLINE void widen(__m256i q, __m256 f[4]) {
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    f[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
    f[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
    f[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
    f[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
}

// MARK: per-type loops; `type` is a constant in each instantiation, so the switch in unpack folds away

// The dot products take G vectors at once (G = 1..4, a constant after inlining): each sub-block is
// unpacked once and then met by all G vectors, whose accumulators stay in registers. Vector t's sums
// are formed exactly as with G = 1 (same integer products, same float operations in the same order),
// so batched decoding gives bit for bit the results of one vector at a time; unpacking (scales,
// nibbles, high bits) is the work it saves.

INLINE void dot_exact_group(int G, int type, const uint8_t *row, const float *const *x, int64_t n, float *out) {
    __m256 acc[4][4];
    for (int t = 0; t < G; t++)
        for (int k = 0; k < 4; k++) acc[t][k] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; i++) {
        float s0, s1, off;
        __m256 f[4];
        widen(unpack(type, row, i, &s0, &s1, &off), f);
        __m256 vs0 = _mm256_set1_ps(s0), vs1 = _mm256_set1_ps(s1), voff = _mm256_set1_ps(off);
        __m256 w[4] = {_mm256_fmadd_ps(f[0], vs0, voff), _mm256_fmadd_ps(f[1], vs0, voff),
                       _mm256_fmadd_ps(f[2], vs1, voff), _mm256_fmadd_ps(f[3], vs1, voff)};
        for (int t = 0; t < G; t++)
            for (int k = 0; k < 4; k++) acc[t][k] = _mm256_fmadd_ps(w[k], _mm256_loadu_ps(x[t] + 32 * i + 8 * k), acc[t][k]);
    }
    for (int t = 0; t < G; t++)
        out[t] = hsum8(_mm256_add_ps(_mm256_add_ps(acc[t][0], acc[t][1]), _mm256_add_ps(acc[t][2], acc[t][3])));
}

INLINE void dot_fast_group(int G, int type, const uint8_t *row, const ck_block_q8a *const *xq, int64_t n, float *out) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc0[4], acc1[4];
    float corr[4];
    for (int t = 0; t < G; t++) {
        acc0[t] = acc1[t] = _mm256_setzero_ps();
        corr[t] = 0;
    }
    for (int64_t i = 0; i < n / 32; i++) {
        float s0, s1, off;
        __m256i q = unpack(type, row, i, &s0, &s1, &off);
        __m256i aq = _mm256_sign_epi8(q, q);
        // int32 lanes 0..3 of a product hold values 0..15, lanes 4..7 values 16..31
        __m256 s = _mm256_set_m128(_mm_set1_ps(s1), _mm_set1_ps(s0));
        for (int t = 0; t < G; t++) {
            const ck_block_q8a *b = xq[t] + i;
            __m256i a = _mm256_loadu_si256((const __m256i *)b->qs);
            __m256i p = _mm256_maddubs_epi16(aq, _mm256_sign_epi8(a, q));
            __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(p, ones));
            __m256 scale = _mm256_mul_ps(s, _mm256_set1_ps(b->d));
            if (i & 1) acc1[t] = _mm256_fmadd_ps(f, scale, acc1[t]);
            else acc0[t] = _mm256_fmadd_ps(f, scale, acc0[t]);
            corr[t] += off * b->s;
        }
    }
    for (int t = 0; t < G; t++) out[t] = hsum8(_mm256_add_ps(acc0[t], acc1[t])) + corr[t];
}

INLINE float dot_exact_q(int type, const uint8_t *row, const float *x, int64_t n) {
    float y;
    dot_exact_group(1, type, row, &x, n, &y);
    return y;
}

INLINE float dot_fast_q(int type, const uint8_t *row, const ck_block_q8a *xq, int64_t n) {
    float y;
    dot_fast_group(1, type, row, &xq, n, &y);
    return y;
}

/// Row against nvec vectors, in groups of four (eight accumulators in registers).
INLINE void dot_fast_multi_q(int type, const uint8_t *row, const ck_block_q8a *xq, size_t stride, int64_t nvec,
                             int64_t n, float *y, size_t y_stride) {
    for (int64_t v = 0; v < nvec; v += 4) {
        int g = (int)(nvec - v < 4 ? nvec - v : 4);
        const ck_block_q8a *p[4];
        float out[4];
        for (int t = 0; t < g; t++) p[t] = xq + (size_t)(v + t) * stride;
        switch (g) {
        case 1: dot_fast_group(1, type, row, p, n, out); break;
        case 2: dot_fast_group(2, type, row, p, n, out); break;
        case 3: dot_fast_group(3, type, row, p, n, out); break;
        default: dot_fast_group(4, type, row, p, n, out); break;
        }
        for (int t = 0; t < g; t++) y[(size_t)(v + t) * y_stride] = out[t];
    }
}

/// Row against nvec float vectors, in pairs (three would no longer keep their sums in registers).
INLINE void dot_exact_multi_q(int type, const uint8_t *row, const float *x, size_t stride, int64_t nvec,
                              int64_t n, float *y, size_t y_stride) {
    for (int64_t v = 0; v < nvec; v += 2) {
        const float *p[2] = {x + (size_t)v * stride, x + (size_t)(v + 1) * stride};
        float out[2];
        if (v + 1 < nvec) {
            dot_exact_group(2, type, row, p, n, out);
            y[(size_t)(v + 1) * y_stride] = out[1];
        } else {
            dot_exact_group(1, type, row, p, n, out);
        }
        y[(size_t)v * y_stride] = out[0];
    }
}

INLINE void dequant_q(int type, const uint8_t *row, float *y, int64_t n) {
    for (int64_t i = 0; i < n / 32; i++, y += 32) {
        float s0, s1, off;
        __m256 f[4];
        widen(unpack(type, row, i, &s0, &s1, &off), f);
        __m256 vs0 = _mm256_set1_ps(s0), vs1 = _mm256_set1_ps(s1), voff = _mm256_set1_ps(off);
        _mm256_storeu_ps(y, _mm256_fmadd_ps(f[0], vs0, voff));
        _mm256_storeu_ps(y + 8, _mm256_fmadd_ps(f[1], vs0, voff));
        _mm256_storeu_ps(y + 16, _mm256_fmadd_ps(f[2], vs1, voff));
        _mm256_storeu_ps(y + 24, _mm256_fmadd_ps(f[3], vs1, voff));
    }
}

// MARK: float weights

/// 8 weights of a float type as floats.
INLINE __m256 load8(int type, const void *w, int64_t i) {
    switch (type) {
    case CK_TYPE_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + i)));
    case CK_TYPE_BF16: {
        __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + i));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    default: return _mm256_loadu_ps((const float *)w + i);
    }
}

INLINE float scalar_weight(int type, const void *w, int64_t i) {
    switch (type) {
    case CK_TYPE_F16: return ck_fp16_to_fp32(((const uint16_t *)w)[i]);
    case CK_TYPE_BF16: return ck_bf16_to_fp32(((const uint16_t *)w)[i]);
    default: return ((const float *)w)[i];
    }
}

INLINE float dot_float(int type, const void *w, const float *x, int64_t n) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(load8(type, w, i + 8 * k), _mm256_loadu_ps(x + i + 8 * k), acc[k]);
    for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(load8(type, w, i), _mm256_loadu_ps(x + i), acc[0]);
    float sum = hsum8(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; i++) sum += scalar_weight(type, w, i) * x[i];
    return sum;
}

INLINE void dequant_float(int type, const void *w, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, load8(type, w, i));
    for (; i < n; i++) y[i] = scalar_weight(type, w, i);
}

// MARK: entry points

#define DISPATCH(fn, ...)                                                            \
    switch (type) {                                                                  \
    case CK_TYPE_Q4_0: return fn(CK_TYPE_Q4_0, __VA_ARGS__);                         \
    case CK_TYPE_Q4_1: return fn(CK_TYPE_Q4_1, __VA_ARGS__);                         \
    case CK_TYPE_Q5_0: return fn(CK_TYPE_Q5_0, __VA_ARGS__);                         \
    case CK_TYPE_Q5_1: return fn(CK_TYPE_Q5_1, __VA_ARGS__);                         \
    case CK_TYPE_Q8_0: return fn(CK_TYPE_Q8_0, __VA_ARGS__);                         \
    case CK_TYPE_Q4_K: return fn(CK_TYPE_Q4_K, __VA_ARGS__);                         \
    case CK_TYPE_Q5_K: return fn(CK_TYPE_Q5_K, __VA_ARGS__);                         \
    case CK_TYPE_Q6_K: return fn(CK_TYPE_Q6_K, __VA_ARGS__);                         \
    }

TARGET float ck_dot_exact_avx2(int type, const void *row, const float *x, int64_t n) {
    if (type == CK_TYPE_F32) return dot_float(CK_TYPE_F32, row, x, n);
    if (type == CK_TYPE_F16) return dot_float(CK_TYPE_F16, row, x, n);
    if (type == CK_TYPE_BF16) return dot_float(CK_TYPE_BF16, row, x, n);
    DISPATCH(dot_exact_q, row, x, n)
    return 0;
}

TARGET float ck_dot_fast_avx2(int type, const void *row, const ck_block_q8a *xq, int64_t n) {
    DISPATCH(dot_fast_q, row, xq, n)
    return 0;
}

TARGET void ck_dequantize_row_avx2(int type, const void *row, float *y, int64_t n) {
    if (type == CK_TYPE_F32) { memcpy(y, row, (size_t)n * 4); return; }
    if (type == CK_TYPE_F16) { dequant_float(CK_TYPE_F16, row, y, n); return; }
    if (type == CK_TYPE_BF16) { dequant_float(CK_TYPE_BF16, row, y, n); return; }
    DISPATCH(dequant_q, row, y, n)
}

TARGET void ck_dot_fast_multi_avx2(int type, const void *row, const ck_block_q8a *xq, size_t xq_stride,
                                   int64_t nvec, int64_t n, float *y, size_t y_stride) {
    DISPATCH(dot_fast_multi_q, row, xq, xq_stride, nvec, n, y, y_stride)
}

TARGET void ck_dot_exact_multi_avx2(int type, const void *row, const float *x, size_t x_stride,
                                    int64_t nvec, int64_t n, float *y, size_t y_stride) {
    DISPATCH(dot_exact_multi_q, row, x, x_stride, nvec, n, y, y_stride)
}

TARGET void ck_quantize_act_avx2(const float *x, ck_block_q8a *b, int64_t n) {
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / 32; i++, b++, x += 32) {
        __m256 v[4], mx = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_loadu_ps(x + 8 * k);
            mx = _mm256_max_ps(mx, _mm256_andnot_ps(signbit, v[k]));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float amax = _mm_cvtss_f32(m4);
        float d = amax / 127, id = d != 0 ? 127 / amax : 0;
        __m256 vid = _mm256_set1_ps(id);
        // cvtps rounds to nearest even, as nearbyintf does in the reference
        __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v[0], vid));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v[1], vid));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v[2], vid));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v[3], vid));
        __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
        // pack to int8 in order: packs works within 128-bit lanes, so fix the order with a permute
        __m256i a = _mm256_packs_epi32(i0, i1), c = _mm256_packs_epi32(i2, i3);
        __m256i q = _mm256_packs_epi16(a, c);
        q = _mm256_permutevar8x32_epi32(q, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)b->qs, q);
        b->d = d;
        b->s = d * (float)_mm_cvtsi128_si32(s4);
    }
}

static int cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

int ck_cpu_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = cpu_has_avx2();
    return cached;
}

#else

int ck_cpu_avx2(void) { return 0; }
float ck_dot_exact_avx2(int type, const void *row, const float *x, int64_t n) { return ck_dot_exact_ref(type, row, x, n); }
float ck_dot_fast_avx2(int type, const void *row, const ck_block_q8a *xq, int64_t n) { return ck_dot_fast_ref(type, row, xq, n); }
void ck_dequantize_row_avx2(int type, const void *row, float *y, int64_t n) { ck_dequantize_row_ref(type, row, y, n); }
void ck_quantize_act_avx2(const float *x, ck_block_q8a *b, int64_t n) { ck_quantize_act_ref(x, b, n); }
void ck_dot_fast_multi_avx2(int type, const void *row, const ck_block_q8a *xq, size_t xq_stride,
                            int64_t nvec, int64_t n, float *y, size_t y_stride) {
    for (int64_t t = 0; t < nvec; t++) y[(size_t)t * y_stride] = ck_dot_fast_ref(type, row, xq + (size_t)t * xq_stride, n);
}
void ck_dot_exact_multi_avx2(int type, const void *row, const float *x, size_t x_stride,
                             int64_t nvec, int64_t n, float *y, size_t y_stride) {
    for (int64_t t = 0; t < nvec; t++) y[(size_t)t * y_stride] = ck_dot_exact_ref(type, row, x + (size_t)t * x_stride, n);
}

#endif
