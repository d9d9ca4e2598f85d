// CKernels: dequantization and dot products directly on ggml-quantized weight rows, plus a small
// persistent thread pool. Block layouts follow docs/gguf.md, "Block layouts" (as ggml's
// ggml-quants.c defines them).
//
// Types are named by their ggml type ids (GGMLType in TensorKit). A "row" is `n` consecutive values
// of one type; `n` must be a multiple of the type's block size (the caller checks).
//
// Every optimised kernel has a plain scalar reference beside it (`*_ref`); the public entry points
// pick AVX2+FMA+F16C code at run time when the CPU has it and the scalar code otherwise.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CK_TYPE_F32 = 0, CK_TYPE_F16 = 1, CK_TYPE_Q4_0 = 2, CK_TYPE_Q4_1 = 3, CK_TYPE_Q5_0 = 6,
    CK_TYPE_Q5_1 = 7, CK_TYPE_Q8_0 = 8, CK_TYPE_Q4_K = 12, CK_TYPE_Q5_K = 13, CK_TYPE_Q6_K = 14,
    CK_TYPE_BF16 = 30,
};

/// 1 when `type` is one of the types above.
int ck_type_supported(int type);
/// Values per block (1 for the float types) and bytes per block; 0 for unsupported types.
int ck_block_size(int type);
int ck_type_size(int type);
/// 1 when the CPU runs the AVX2+FMA+F16C kernels (decided once, at first use).
int ck_has_avx2(void);
/// Forces the scalar kernels (1) or lets the runtime check decide (0); for benchmarks and tests.
void ck_force_scalar(int on);

// MARK: fp16 / bf16

float ck_fp16_to_fp32(uint16_t h);
/// Round to nearest even, with overflow to infinity and subnormals, as IEEE 754 binary16.
uint16_t ck_fp32_to_fp16(float f);
float ck_bf16_to_fp32(uint16_t h);
/// Round to nearest even; NaN stays NaN.
uint16_t ck_fp32_to_bf16(float f);

// MARK: dequantization

/// Scalar reference, written straight from docs/gguf.md, "Block layouts".
void ck_dequantize_row_ref(int type, const void *src, float *dst, int64_t n);
/// Same values, SIMD when available.
void ck_dequantize_row(int type, const void *src, float *dst, int64_t n);

// MARK: quantization

/// GGUF Q8_0 blocks (fp16 scale d = amax/127, q = round(x/d)), as ggml's quantize_row_q8_0_ref.
/// `n` must be a multiple of 32; writes n/32 * 34 bytes.
void ck_quantize_row_q8_0(const float *src, void *dst, int64_t n);

// MARK: activations for the fast path

/// Activations quantized in blocks of 32: float scale d, float s = d * sum(q) (for types with an
/// offset), int8 q[32]. Finer than ggml's Q8_K (one scale per 32 values, not per 256), and every
/// supported weight type splits into sub-blocks of 32, so one format serves all of them.
typedef struct {
    float d;
    float s;
    int8_t qs[32];
} ck_block_q8a;

/// Bytes of quantized activations for `n` values (n a multiple of 32).
size_t ck_act_bytes(int64_t n);
void ck_quantize_act_ref(const float *x, ck_block_q8a *dst, int64_t n);
void ck_quantize_act(const float *x, ck_block_q8a *dst, int64_t n);

// MARK: dot products of one weight row with activations

/// dot(dequantize(row), x) with float32 accumulation. Reference: dequantize, then a plain loop.
float ck_dot_exact_ref(int type, const void *row, const float *x, int64_t n);
float ck_dot_exact(int type, const void *row, const float *x, int64_t n);

/// 1 when the fast path quantizes activations for this weight type (the quantized types); for the
/// float types the fast path is the exact path.
int ck_fast_uses_q8(int type);
/// dot(dequantize(row), dequantize(xq)) with integer products per 32-value sub-block.
float ck_dot_fast_ref(int type, const void *row, const ck_block_q8a *xq, int64_t n);
float ck_dot_fast(int type, const void *row, const ck_block_q8a *xq, int64_t n);

// MARK: thread pool

/// Runs `fn(ctx, begin, end, thread)` over chunks of [0, count).
typedef void (*ck_task_fn)(void *ctx, int64_t begin, int64_t end, int thread);
typedef struct ck_pool ck_pool;

/// A pool of `threads` threads in all: the caller of ck_pool_run plus threads-1 workers. Idle workers
/// spin for `spin_us` microseconds before they sleep, so back-to-back jobs start in well under a
/// microsecond. Returns NULL when a thread cannot be started.
ck_pool *ck_pool_create(int threads, int spin_us);
void ck_pool_destroy(ck_pool *pool);
int ck_pool_threads(const ck_pool *pool);
/// Splits [0, count) into chunks of `chunk` items (the last may be shorter) handed out in order;
/// returns when all are done. Not reentrant: one job at a time per pool.
void ck_pool_run(ck_pool *pool, int64_t count, int64_t chunk, ck_task_fn fn, void *ctx);

// MARK: matrix products on a pool

/// Y[t, r] = dot(W row r, X[t]) for t < n, r < rows. W is `rows` rows of `cols` values of `type`,
/// rows stored back to back; X is n x cols floats, Y is n x rows floats (row stride `rows`).
/// `fast` quantizes X into `act` (ck_act_bytes(cols) * n bytes) first when ck_fast_uses_q8(type).
void ck_matmul(ck_pool *pool, int type, const void *w, int64_t rows, int64_t cols,
               const float *x, int64_t n, float *y, int fast, void *act);

/// Dequantizes rows [0, rows) of W into dst (rows x cols floats), in parallel.
void ck_dequantize_rows(ck_pool *pool, int type, const void *w, int64_t rows, int64_t cols, float *dst);

// MARK: packed int8 weights for prefill (AVX-512 VNNI)

/// 1 when the CPU runs the packed kernels (AVX-512 F/BW/VL and VNNI), unless ck_force_no_vnni(1).
int ck_has_vnni(void);
/// Turns the packed kernels off (1) or lets the CPU check decide (0); for benchmarks and tests.
void ck_force_no_vnni(int on);
/// 1 for the types whose rows can be packed (the quantized types).
int ck_pack_supported(int type);
/// Bytes of a packed matrix of `rows` x `cols` (cols a multiple of 32).
size_t ck_packed_bytes(int64_t rows, int64_t cols);
/// Packs W (rows x cols of `type`, rows back to back) into `dst`: ck_packed_bytes(rows, cols) bytes,
/// 64-byte aligned. Each row's sub-blocks of 32 become int8 values with their scales, 16 rows
/// interleaved. Returns 0, or -1 for a type that cannot be packed or a misaligned dst.
int ck_pack_weights(ck_pool *pool, int type, const void *w, int64_t rows, int64_t cols, void *dst);
/// Activations for the packed kernel: 16-bit values per block of 32, q = round(x / d) with
/// d = amax / 32767, stored as two bytes each, hi = (q >> 8) + 128 and lo = q & 255 (so
/// q = 256·(hi − 128) + lo); s = d·Σq for the offset term.
typedef struct {
    float d;
    float s;
    uint8_t hi[32];
    uint8_t lo[32];
} ck_block_a16;

void ck_quantize_act16_ref(const float *x, ck_block_a16 *dst, int64_t n);
/// Same values, AVX-512 when the CPU has VNNI.
void ck_quantize_act16(const float *x, ck_block_a16 *dst, int64_t n);
/// Bytes of the activation scratch of ck_matmul_packed for n vectors of `cols` values.
size_t ck_packed_act_bytes(int64_t cols, int64_t n);
/// Y[n, rows] = X[n, cols] · Wᵀ from packed weights, X quantized to 16 bits per 32 values into
/// `act` first (ck_packed_act_bytes bytes), on VNNI. Returns -1 (and writes nothing) when the CPU
/// has no VNNI.
int ck_matmul_packed(ck_pool *pool, const void *packed, const float *x, int64_t n, float *y, void *act);
/// The same from activations as ck_quantize_act16_ref writes them (n vectors of cols/32 blocks),
/// with plain loops: the reference the tests hold the kernel to.
void ck_matmul_packed_ref(const void *packed, const ck_block_a16 *act, int64_t n, float *y);

#ifdef __cplusplus
}
#endif
#endif
