import COpenBLAS

/// Thin wrappers over OpenBLAS's CBLAS for the rest of the project (attention, training).
///
/// TensorKit parallelizes over its own ComputePool and runs OpenBLAS single-threaded: OpenBLAS's
/// threads and the pool's spinning workers would otherwise compete for the same cores.
public enum BLAS {
    /// Sets OpenBLAS to one thread (idempotent, cheap).
    public static func singleThreaded() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }

    /// C[m, n] = alpha · op(A) · op(B) + beta · C, all row-major. op(A) is [m, k] (A is [k, m] when
    /// `transposeA`), op(B) is [k, n] (B is [n, k] when `transposeB`). Leading dimensions default to
    /// the packed row lengths.
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda ?? (transposeA ? m : k)),
            b, Int32(ldb ?? (transposeB ? k : n)), beta, c, Int32(ldc ?? n))
    }

    /// The same product with the rows of C split over `pool`'s threads.
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil, pool: ComputePool
    ) {
        guard m > 0, n > 0 else { return }
        singleThreaded()
        let lda = lda ?? (transposeA ? m : k), ldc = ldc ?? n
        let rowsPerChunk = max(16, (m + pool.threadCount - 1) / pool.threadCount)
        pool.parallelFor(m, chunk: rowsPerChunk) { range, _ in
            // rows of op(A): rows of A, or columns of A when transposed
            let aStart = transposeA ? a + range.lowerBound : a + range.lowerBound * lda
            sgemm(
                transposeA: transposeA, transposeB: transposeB, m: range.count, n: n, k: k, alpha: alpha,
                a: aStart, lda: lda, b: b, ldb: ldb, beta: beta, c: c + range.lowerBound * ldc, ldc: ldc)
        }
    }
}
