// Scalar reference kernels: fp16/bf16 conversion, dequantization straight from docs/gguf.md,
// "Block layouts" (as ggml's dequantize_row_* in ggml-quants.c), the unpacking into 32-value
// sub-blocks that the optimised kernels share, the Q8_0 quantizer, and the reference dot products
// the optimised ones are tested against. These are also the kernels used on CPUs without AVX2.
#include <math.h>
#include <string.h>
#include "blocks.h"

int ck_type_supported(int type) { return ck_block_size(type) != 0; }

int ck_block_size(int type) {
    switch (type) {
    case CK_TYPE_F32: case CK_TYPE_F16: case CK_TYPE_BF16: return 1;
    case CK_TYPE_Q4_0: case CK_TYPE_Q4_1: case CK_TYPE_Q5_0: case CK_TYPE_Q5_1: case CK_TYPE_Q8_0: return QK;
    case CK_TYPE_Q4_K: case CK_TYPE_Q5_K: case CK_TYPE_Q6_K: return QK_K;
    default: return 0;
    }
}

int ck_type_size(int type) {
    switch (type) {
    case CK_TYPE_F32: return 4;
    case CK_TYPE_F16: case CK_TYPE_BF16: return 2;
    case CK_TYPE_Q4_0: return sizeof(block_q4_0);
    case CK_TYPE_Q4_1: return sizeof(block_q4_1);
    case CK_TYPE_Q5_0: return sizeof(block_q5_0);
    case CK_TYPE_Q5_1: return sizeof(block_q5_1);
    case CK_TYPE_Q8_0: return sizeof(block_q8_0);
    case CK_TYPE_Q4_K: return sizeof(block_q4_K);
    case CK_TYPE_Q5_K: return sizeof(block_q5_K);
    case CK_TYPE_Q6_K: return sizeof(block_q6_K);
    default: return 0;
    }
}

int ck_fast_uses_q8(int type) {
    return ck_type_supported(type) && type != CK_TYPE_F32 && type != CK_TYPE_F16 && type != CK_TYPE_BF16;
}

// MARK: fp16 / bf16, in software so that every CPU gives the same bits

static inline float from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint32_t to_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    return x;
}

float ck_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { // subnormal: shift the mantissa up until it has its leading bit
            int e = -1;
            do { e++; mant <<= 1; } while (!(mant & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000 | (mant << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    return from_bits(bits);
}

uint16_t ck_fp32_to_fp16(float f) {
    uint32_t x = to_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t a = x & 0x7fffffff;
    if (a > 0x7f800000) return sign | 0x7e00 | (uint16_t)((a >> 13) & 0x3ff); // NaN stays NaN
    if (a >= 0x477ff000) return sign | 0x7c00;                               // >= 65520: infinity
    if (a < 0x38800000) {                                                    // below 2^-14: subnormal
        if (a < 0x33000000) return sign;                                     // <= 2^-25 rounds to 0
        uint32_t e = a >> 23, m = (a & 0x7fffff) | 0x800000;
        int shift = 126 - (int)e;
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return sign | (uint16_t)q;
    }
    uint32_t r = a + 0xfff + ((a >> 13) & 1); // round to nearest even at bit 13
    return sign | (uint16_t)((r - (112u << 23)) >> 13);
}

float ck_bf16_to_fp32(uint16_t h) { return from_bits((uint32_t)h << 16); }

uint16_t ck_fp32_to_bf16(float f) {
    uint32_t x = to_bits(f);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40);
    return (uint16_t)((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}

#define FP16(h) ck_fp16_to_fp32(h)

// MARK: dequantization, one function per layout as docs/gguf.md, "Block layouts", states it

static void dequant_q4_0(const block_q4_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += QK) {
        float d = FP16(b->d);
        for (int j = 0; j < 16; j++) {
            y[j] = ((b->qs[j] & 15) - 8) * d;
            y[j + 16] = ((b->qs[j] >> 4) - 8) * d;
        }
    }
}

static void dequant_q4_1(const block_q4_1 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += QK) {
        float d = FP16(b->d), m = FP16(b->m);
        for (int j = 0; j < 16; j++) {
            y[j] = (b->qs[j] & 15) * d + m;
            y[j + 16] = (b->qs[j] >> 4) * d + m;
        }
    }
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void dequant_q5_0(const block_q5_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += QK) {
        float d = FP16(b->d);
        uint32_t qh = le32(b->qh);
        for (int j = 0; j < 16; j++) {
            int xh0 = ((qh >> j) << 4) & 16, xh1 = (qh >> (j + 12)) & 16;
            y[j] = (((b->qs[j] & 15) | xh0) - 16) * d;
            y[j + 16] = (((b->qs[j] >> 4) | xh1) - 16) * d;
        }
    }
}

static void dequant_q5_1(const block_q5_1 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += QK) {
        float d = FP16(b->d), m = FP16(b->m);
        uint32_t qh = le32(b->qh);
        for (int j = 0; j < 16; j++) {
            int xh0 = ((qh >> j) << 4) & 16, xh1 = (qh >> (j + 12)) & 16;
            y[j] = ((b->qs[j] & 15) | xh0) * d + m;
            y[j + 16] = ((b->qs[j] >> 4) | xh1) * d + m;
        }
    }
}

static void dequant_q8_0(const block_q8_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += QK) {
        float d = FP16(b->d);
        for (int j = 0; j < QK; j++) y[j] = b->qs[j] * d;
    }
}

static void dequant_q4_K(const block_q4_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++) {
        float d = FP16(b->d), dmin = FP16(b->dmin);
        const uint8_t *q = b->qs;
        for (int c = 0; c < 4; c++, q += 32) {
            uint8_t sc, m;
            ck_scale_min_k4(2 * c, b->scales, &sc, &m);
            float d1 = d * sc, m1 = dmin * m;
            ck_scale_min_k4(2 * c + 1, b->scales, &sc, &m);
            float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 15) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

static void dequant_q5_K(const block_q5_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++) {
        float d = FP16(b->d), dmin = FP16(b->dmin);
        const uint8_t *q = b->qs, *qh = b->qh;
        for (int c = 0; c < 4; c++, q += 32) {
            uint8_t sc, m, u1 = (uint8_t)(1 << (2 * c)), u2 = (uint8_t)(2 << (2 * c));
            ck_scale_min_k4(2 * c, b->scales, &sc, &m);
            float d1 = d * sc, m1 = dmin * m;
            ck_scale_min_k4(2 * c + 1, b->scales, &sc, &m);
            float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((q[l] & 15) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((q[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

static void dequant_q6_K(const block_q6_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++) {
        float d = FP16(b->d);
        const uint8_t *ql = b->ql, *qh = b->qh;
        const int8_t *sc = b->scales;
        for (int half = 0; half < 2; half++, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
                int q2 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
                int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
                int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
                y[l] = d * sc[is] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

void ck_dequantize_row_ref(int type, const void *src, float *y, int64_t n) {
    int64_t bs = ck_block_size(type);
    if (bs == 0) return;
    int64_t nb = n / bs;
    switch (type) {
    case CK_TYPE_F32: memcpy(y, src, (size_t)n * 4); break;
    case CK_TYPE_F16: for (int64_t i = 0; i < n; i++) y[i] = FP16(((const uint16_t *)src)[i]); break;
    case CK_TYPE_BF16: for (int64_t i = 0; i < n; i++) y[i] = ck_bf16_to_fp32(((const uint16_t *)src)[i]); break;
    case CK_TYPE_Q4_0: dequant_q4_0(src, y, nb); break;
    case CK_TYPE_Q4_1: dequant_q4_1(src, y, nb); break;
    case CK_TYPE_Q5_0: dequant_q5_0(src, y, nb); break;
    case CK_TYPE_Q5_1: dequant_q5_1(src, y, nb); break;
    case CK_TYPE_Q8_0: dequant_q8_0(src, y, nb); break;
    case CK_TYPE_Q4_K: dequant_q4_K(src, y, nb); break;
    case CK_TYPE_Q5_K: dequant_q5_K(src, y, nb); break;
    case CK_TYPE_Q6_K: dequant_q6_K(src, y, nb); break;
    }
}

// MARK: sub-block unpacking (the common form of blocks.h)

void ck_unpack_sub32_ref(int type, const uint8_t *row, int64_t sub, ck_sub32 *o) {
    o->offset = 0;
    switch (type) {
    case CK_TYPE_Q4_0: case CK_TYPE_Q4_1: {
        const block_q4_0 *b0 = (const block_q4_0 *)(row + sub * sizeof(block_q4_0));
        const block_q4_1 *b1 = (const block_q4_1 *)(row + sub * sizeof(block_q4_1));
        const uint8_t *qs = type == CK_TYPE_Q4_0 ? b0->qs : b1->qs;
        int bias = type == CK_TYPE_Q4_0 ? 8 : 0;
        for (int j = 0; j < 16; j++) {
            o->q[j] = (int8_t)((qs[j] & 15) - bias);
            o->q[j + 16] = (int8_t)((qs[j] >> 4) - bias);
        }
        o->s0 = o->s1 = FP16(type == CK_TYPE_Q4_0 ? b0->d : b1->d);
        if (type == CK_TYPE_Q4_1) o->offset = FP16(b1->m);
        break;
    }
    case CK_TYPE_Q5_0: case CK_TYPE_Q5_1: {
        const block_q5_0 *b0 = (const block_q5_0 *)(row + sub * sizeof(block_q5_0));
        const block_q5_1 *b1 = (const block_q5_1 *)(row + sub * sizeof(block_q5_1));
        const uint8_t *qs = type == CK_TYPE_Q5_0 ? b0->qs : b1->qs;
        uint32_t qh = le32(type == CK_TYPE_Q5_0 ? b0->qh : b1->qh);
        int bias = type == CK_TYPE_Q5_0 ? 16 : 0;
        for (int j = 0; j < 16; j++) {
            o->q[j] = (int8_t)(((qs[j] & 15) | ((qh >> j) & 1) << 4) - bias);
            o->q[j + 16] = (int8_t)(((qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - bias);
        }
        o->s0 = o->s1 = FP16(type == CK_TYPE_Q5_0 ? b0->d : b1->d);
        if (type == CK_TYPE_Q5_1) o->offset = FP16(b1->m);
        break;
    }
    case CK_TYPE_Q8_0: {
        const block_q8_0 *b = (const block_q8_0 *)(row + sub * sizeof(block_q8_0));
        memcpy(o->q, b->qs, QK);
        o->s0 = o->s1 = FP16(b->d);
        break;
    }
    case CK_TYPE_Q4_K: case CK_TYPE_Q5_K: {
        // Sub-block j of a block: the low (j even) or high (j odd) nibbles of qs[32(j/2) ..], plus
        // for Q5_K bit j of qh[l] as the fifth bit.
        int64_t j = sub % 8;
        const block_q4_K *b4 = (const block_q4_K *)(row + (sub / 8) * sizeof(block_q4_K));
        const block_q5_K *b5 = (const block_q5_K *)(row + (sub / 8) * sizeof(block_q5_K));
        int five = type == CK_TYPE_Q5_K;
        const uint8_t *qs = (five ? b5->qs : b4->qs) + 32 * (j / 2);
        uint8_t sc, m;
        ck_scale_min_k4((int)j, five ? b5->scales : b4->scales, &sc, &m);
        for (int l = 0; l < 32; l++) {
            int q = (j & 1) ? qs[l] >> 4 : qs[l] & 15;
            if (five && (b5->qh[l] >> j) & 1) q += 16;
            o->q[l] = (int8_t)q;
        }
        o->s0 = o->s1 = FP16(five ? b5->d : b4->d) * sc;
        o->offset = -(FP16(five ? b5->dmin : b4->dmin) * m);
        break;
    }
    case CK_TYPE_Q6_K: {
        // Sub-block s = 4 half + k of a block: ql nibbles (low for k < 2) of ql[64 half + 32 (k & 1) ..],
        // bits 2k, 2k+1 of qh[32 half ..]; scales[8 half + 2k] for the first 16 values, the next one after.
        const block_q6_K *b = (const block_q6_K *)(row + (sub / 8) * sizeof(block_q6_K));
        int s = (int)(sub % 8), half = s / 4, k = s % 4;
        const uint8_t *ql = b->ql + 64 * half + 32 * (k & 1), *qh = b->qh + 32 * half;
        int shift = (k >> 1) * 4;
        for (int l = 0; l < 32; l++)
            o->q[l] = (int8_t)((((ql[l] >> shift) & 15) | ((qh[l] >> (2 * k)) & 3) << 4) - 32);
        float d = FP16(b->d);
        o->s0 = d * b->scales[8 * half + 2 * k];
        o->s1 = d * b->scales[8 * half + 2 * k + 1];
        break;
    }
    }
}

// MARK: quantization

void ck_quantize_row_q8_0(const float *x, void *dst, int64_t n) {
    block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, b++, x += QK) {
        float amax = 0;
        for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127, id = d != 0 ? 1 / d : 0;
        b->d = ck_fp32_to_fp16(d);
        for (int j = 0; j < QK; j++) b->qs[j] = (int8_t)roundf(x[j] * id);
    }
}

size_t ck_act_bytes(int64_t n) { return (size_t)(n / QK) * sizeof(ck_block_q8a); }

void ck_quantize_act_ref(const float *x, ck_block_q8a *b, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, b++, x += QK) {
        float amax = 0;
        for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127, id = d != 0 ? 127 / amax : 0;
        int sum = 0;
        for (int j = 0; j < QK; j++) {
            b->qs[j] = (int8_t)nearbyintf(x[j] * id); // ties to even, like the SIMD conversion
            sum += b->qs[j];
        }
        b->d = d;
        b->s = d * (float)sum;
    }
}

// MARK: reference dot products

float ck_dot_exact_ref(int type, const void *row, const float *x, int64_t n) {
    int64_t bs = ck_block_size(type), ts = ck_type_size(type);
    if (bs == 0) return NAN;
    float buf[QK_K], sum = 0;
    for (int64_t i = 0; i < n; i += QK_K) {
        int64_t len = n - i < QK_K ? n - i : QK_K;
        ck_dequantize_row_ref(type, (const uint8_t *)row + i / bs * ts, buf, len);
        for (int64_t j = 0; j < len; j++) sum += buf[j] * x[i + j];
    }
    return sum;
}

float ck_dot_fast_ref(int type, const void *row, const ck_block_q8a *xq, int64_t n) {
    if (!ck_fast_uses_q8(type)) return NAN;
    float sum = 0;
    ck_sub32 s;
    for (int64_t i = 0; i < n / QK; i++) {
        ck_unpack_sub32_ref(type, row, i, &s);
        int32_t lo = 0, hi = 0;
        for (int j = 0; j < 16; j++) lo += s.q[j] * xq[i].qs[j];
        for (int j = 16; j < 32; j++) hi += s.q[j] * xq[i].qs[j];
        sum += xq[i].d * (s.s0 * (float)lo + s.s1 * (float)hi) + s.offset * xq[i].s;
    }
    return sum;
}
