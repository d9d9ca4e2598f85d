// Block layouts of the ggml quantized types, byte for byte as ggml's ggml-common.h lays them out
// (docs/gguf.md, "Block layouts"). Every field is a byte array or a 16-bit value, so blocks need
// only 2-byte alignment.
#ifndef CKERNELS_BLOCKS_H
#define CKERNELS_BLOCKS_H

#include <stdint.h>
#include "ckernels.h"

#define QK 32    // values per block of the 32-types, and per sub-block of the K-types
#define QK_K 256 // values per block of the K-types

typedef struct { uint16_t d; uint8_t qs[QK / 2]; } block_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[QK / 2]; } block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[QK / 2]; } block_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[QK / 2]; } block_q5_1;
typedef struct { uint16_t d; int8_t qs[QK]; } block_q8_0;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[QK_K / 2]; } block_q4_K;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; } block_q5_K;
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; uint16_t d; } block_q6_K;

_Static_assert(sizeof(block_q4_0) == 18, "Q4_0 block");
_Static_assert(sizeof(block_q4_1) == 20, "Q4_1 block");
_Static_assert(sizeof(block_q5_0) == 22, "Q5_0 block");
_Static_assert(sizeof(block_q5_1) == 24, "Q5_1 block");
_Static_assert(sizeof(block_q8_0) == 34, "Q8_0 block");
_Static_assert(sizeof(block_q4_K) == 144, "Q4_K block");
_Static_assert(sizeof(block_q5_K) == 176, "Q5_K block");
_Static_assert(sizeof(block_q6_K) == 210, "Q6_K block");
_Static_assert(sizeof(ck_block_q8a) == 40, "activation block");

/// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block (get_scale_min_k4;
/// docs/gguf.md, "Q4_K").
static inline void ck_scale_min_k4(int j, const uint8_t *s, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 15) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

/// One 32-value sub-block of a quantized row in a common form: value i is q[i] * scale + offset,
/// with scale s0 for i < 16 and s1 for i >= 16 (they differ only for Q6_K, whose scales cover 16).
/// Both the scalar and the SIMD kernels are written against this form, so each type needs only
/// its unpacking, and the exact path, fast path and dequantizer share it.
typedef struct {
    int8_t q[QK];
    float s0, s1, offset;
} ck_sub32;

/// Unpacks sub-block `sub` (counted from the start of the row) of a row of `type`.
void ck_unpack_sub32_ref(int type, const uint8_t *row, int64_t sub, ck_sub32 *out);

#endif
