// Public entry points: pick the AVX2 kernels when the CPU has them (checked once), else the scalar
// reference; and the row-parallel matrix products on a ck_pool.
#include <math.h>
#include "avx2.h"

static int force_scalar = 0;

void ck_force_scalar(int on) { force_scalar = on; }

int ck_has_avx2(void) { return !force_scalar && ck_cpu_avx2(); }

void ck_dequantize_row(int type, const void *src, float *dst, int64_t n) {
    if (!ck_type_supported(type)) return;
    if (ck_has_avx2()) ck_dequantize_row_avx2(type, src, dst, n);
    else ck_dequantize_row_ref(type, src, dst, n);
}

void ck_quantize_act(const float *x, ck_block_q8a *dst, int64_t n) {
    if (ck_has_avx2()) ck_quantize_act_avx2(x, dst, n);
    else ck_quantize_act_ref(x, dst, n);
}

float ck_dot_exact(int type, const void *row, const float *x, int64_t n) {
    if (!ck_type_supported(type)) return NAN;
    return ck_has_avx2() ? ck_dot_exact_avx2(type, row, x, n) : ck_dot_exact_ref(type, row, x, n);
}

float ck_dot_fast(int type, const void *row, const ck_block_q8a *xq, int64_t n) {
    if (!ck_fast_uses_q8(type)) return NAN;
    return ck_has_avx2() ? ck_dot_fast_avx2(type, row, xq, n) : ck_dot_fast_ref(type, row, xq, n);
}

// MARK: matrix products

typedef struct {
    int type, avx2, quantized;
    const uint8_t *w;
    size_t row_bytes;
    int64_t rows, cols, n;
    const float *x;
    const ck_block_q8a *xq;
    float *y;
} matmul_job;

/// Rows [begin, end) against every vector; a row stays in L1 while it meets all n vectors. With
/// several vectors (batched decoding) the AVX2 kernels unpack each quantized row once for all of
/// them, with results bit-identical to one dot product per vector.
static void matmul_rows(void *ctx, int64_t begin, int64_t end, int thread) {
    (void)thread;
    const matmul_job *j = ctx;
    size_t act_stride = ck_act_bytes(j->cols) / sizeof(ck_block_q8a);
    int multi = j->n > 1 && j->avx2 && ck_fast_uses_q8(j->type);
    for (int64_t r = begin; r < end; r++) {
        const uint8_t *row = j->w + (size_t)r * j->row_bytes;
        if (multi) {
            if (j->quantized)
                ck_dot_fast_multi_avx2(j->type, row, j->xq, act_stride, j->n, j->cols, j->y + r, (size_t)j->rows);
            else
                ck_dot_exact_multi_avx2(j->type, row, j->x, (size_t)j->cols, j->n, j->cols, j->y + r, (size_t)j->rows);
            continue;
        }
        for (int64_t t = 0; t < j->n; t++) {
            float v;
            if (j->quantized) {
                const ck_block_q8a *xq = j->xq + (size_t)t * act_stride;
                v = j->avx2 ? ck_dot_fast_avx2(j->type, row, xq, j->cols) : ck_dot_fast_ref(j->type, row, xq, j->cols);
            } else {
                const float *x = j->x + (size_t)t * j->cols;
                v = j->avx2 ? ck_dot_exact_avx2(j->type, row, x, j->cols) : ck_dot_exact_ref(j->type, row, x, j->cols);
            }
            j->y[(size_t)t * j->rows + r] = v;
        }
    }
}

static void quantize_vectors(void *ctx, int64_t begin, int64_t end, int thread) {
    (void)thread;
    const matmul_job *j = ctx;
    size_t act_stride = ck_act_bytes(j->cols) / sizeof(ck_block_q8a);
    for (int64_t t = begin; t < end; t++)
        ck_quantize_act(j->x + (size_t)t * j->cols, (ck_block_q8a *)j->xq + (size_t)t * act_stride, j->cols);
}

/// Chunks of about a quarter of a thread's share, so a thread that was descheduled for a moment
/// leaves its remaining chunks to the others.
static int64_t chunk_for(const ck_pool *pool, int64_t count) {
    int64_t parts = 4 * (int64_t)ck_pool_threads(pool);
    int64_t c = (count + parts - 1) / parts;
    return c < 1 ? 1 : c;
}

void ck_matmul(ck_pool *pool, int type, const void *w, int64_t rows, int64_t cols,
               const float *x, int64_t n, float *y, int fast, void *act) {
    if (!ck_type_supported(type) || rows <= 0 || n <= 0) return;
    matmul_job j = {
        .type = type, .avx2 = ck_has_avx2(), .quantized = fast && ck_fast_uses_q8(type),
        .w = w, .row_bytes = (size_t)(cols / ck_block_size(type)) * (size_t)ck_type_size(type),
        .rows = rows, .cols = cols, .n = n, .x = x, .xq = act, .y = y,
    };
    if (j.quantized) {
        if (n == 1) quantize_vectors(&j, 0, 1, 0);
        else ck_pool_run(pool, n, chunk_for(pool, n), quantize_vectors, &j);
    }
    // Work below ~64K multiply-adds is not worth waking the workers for.
    int64_t chunk = rows * cols * n < 65536 ? rows : chunk_for(pool, rows);
    ck_pool_run(pool, rows, chunk, matmul_rows, &j);
}

typedef struct {
    int type;
    const uint8_t *w;
    size_t row_bytes;
    int64_t cols;
    float *dst;
} dequant_job;

static void dequant_rows(void *ctx, int64_t begin, int64_t end, int thread) {
    (void)thread;
    const dequant_job *j = ctx;
    for (int64_t r = begin; r < end; r++)
        ck_dequantize_row(j->type, j->w + (size_t)r * j->row_bytes, j->dst + (size_t)r * j->cols, j->cols);
}

void ck_dequantize_rows(ck_pool *pool, int type, const void *w, int64_t rows, int64_t cols, float *dst) {
    if (!ck_type_supported(type) || rows <= 0) return;
    dequant_job j = {type, w, (size_t)(cols / ck_block_size(type)) * (size_t)ck_type_size(type), cols, dst};
    ck_pool_run(pool, rows, chunk_for(pool, rows), dequant_rows, &j);
}
