// The AVX2+FMA+F16C kernels (avx2.c). On other CPUs they are the scalar reference kernels, so callers
// may call them unconditionally; dispatch.c calls them only when ck_cpu_avx2() says the CPU has them.
#ifndef CKERNELS_AVX2_H
#define CKERNELS_AVX2_H

#include "blocks.h"

#if defined(__x86_64__) || defined(__i386__)
#define CK_X86 1
#else
#define CK_X86 0
#endif

int ck_cpu_avx2(void);
float ck_dot_exact_avx2(int type, const void *row, const float *x, int64_t n);
float ck_dot_fast_avx2(int type, const void *row, const ck_block_q8a *xq, int64_t n);
void ck_dequantize_row_avx2(int type, const void *row, float *y, int64_t n);
void ck_quantize_act_avx2(const float *x, ck_block_q8a *b, int64_t n);
/// Row against nvec vectors: y[t * y_stride] = ck_dot_fast_avx2(type, row, xq + t * xq_stride, n), bit for
/// bit, for the quantized types; the row is unpacked once rather than once per vector.
void ck_dot_fast_multi_avx2(int type, const void *row, const ck_block_q8a *xq, size_t xq_stride,
                            int64_t nvec, int64_t n, float *y, size_t y_stride);
/// Same for ck_dot_exact_avx2, with vectors x + t * x_stride.
void ck_dot_exact_multi_avx2(int type, const void *row, const float *x, size_t x_stride,
                             int64_t nvec, int64_t n, float *y, size_t y_stride);

#endif
