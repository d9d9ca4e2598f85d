import CKernels
import COpenBLAS

/// Which algorithm `QuantizedMatrix.multiply` uses; `.automatic` picks by the number of vectors.
/// The others are for benchmarks and tests.
public enum MatmulMethod: Sendable {
    case automatic
    /// Dot-product kernels, each row against all vectors.
    case dotKernels
    /// Tiles of dequantized rows times the vectors with sgemm.
    case dequantizeSgemm
    /// The packed int8 weights (`QuantizedMatrix.packed`) on AVX-512 VNNI; falls back to
    /// `.dequantizeSgemm` when the matrix is not packed or the CPU has no VNNI.
    case packedInt8
}

/// A weight matrix repacked for the VNNI prefill kernel (CKernels' `ck_pack_weights`): each row's
/// 32-value sub-blocks as int8 values beside their scales, 16 rows interleaved. 1.625 bytes per
/// weight, owned here and freed with the last copy of the matrix that holds it.
public final class PackedWeights: @unchecked Sendable {
    let memory: UnsafeMutableRawPointer
    public let byteCount: Int

    init?(_ m: QuantizedMatrix, pool: ComputePool) {
        guard ck_pack_supported(m.typeID) != 0, m.rows > 0 else { return nil }
        let bytes = ck_packed_bytes(Int64(m.rows), Int64(m.cols))
        let memory = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        let status = pool.withLocked { ck_pack_weights(pool.handle, m.typeID, m.data, Int64(m.rows), Int64(m.cols), memory) }
        guard status == 0 else {
            memory.deallocate()
            return nil
        }
        self.memory = memory
        byteCount = bytes
    }

    deinit { memory.deallocate() }
}

/// A weight matrix [rows, cols] stored row-major in one of the ggml types, with quantization blocks
/// along each row (GGUF's ne0 = cols, ne1 = rows; docs/gguf.md, "Tensor infos"). The data is not
/// copied or owned: it usually lies in a memory-mapped model file that outlives the matrix.
///
/// Products run directly on the quantized bytes (CKernels), so decoding reads each weight once
/// per token in its compact form.
public struct QuantizedMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let data: UnsafeRawPointer
    /// Bytes of one row.
    public let rowBytes: Int
    /// The int8 copy the VNNI prefill kernel reads, once `packed(pool:)` has made it.
    public private(set) var packed: PackedWeights?

    /// Below this many token vectors `multiply` runs the dot-product kernels row by row; from it on
    /// it dequantizes tiles of rows and multiplies them with sgemm. Measured by scripts/bench-kernels
    /// on the model's shapes (AVX2, one thread): at 8 vectors the two are within ±30% either way
    /// depending on the shape; at 16 sgemm is 1.5-2x faster per vector on every shape.
    public static let sgemmThreshold = 12

    /// From this many vectors on, a packed matrix (on a CPU with VNNI) takes the packed kernel
    /// instead of the dot-product kernels; below it the compact weights cost less to read.
    public static let packedThreshold = 4

    /// True when products of this matrix can use the packed kernel: a quantized type on a CPU with
    /// AVX-512 VNNI.
    public var canPack: Bool { ck_pack_supported(typeID) != 0 && ck_has_vnni() != 0 }

    /// This matrix with its packed copy for prefill (made on `pool`), or unchanged when it cannot be
    /// packed (`canPack` false).
    public func packed(pool: ComputePool) -> QuantizedMatrix {
        guard canPack, packed == nil else { return self }
        var copy = self
        copy.packed = PackedWeights(self, pool: pool)
        return copy
    }

    public init(type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer) throws {
        guard type.isSupported else { throw TensorKitError.unsupportedType(type) }
        guard rows >= 0, cols > 0 else {
            throw TensorKitError.badShape(type: type, rows: rows, cols: cols, reason: "dimensions must be positive")
        }
        guard cols % type.blockSize == 0, let rowBytes = type.byteCount(elements: cols) else {
            throw TensorKitError.badShape(
                type: type, rows: rows, cols: cols,
                reason: "a row of \(type) must hold a multiple of \(type.blockSize) values")
        }
        guard rowBytes.multipliedReportingOverflow(by: rows).overflow == false else {
            throw TensorKitError.badShape(type: type, rows: rows, cols: cols, reason: "too large")
        }
        let alignment = type == .f32 ? 4 : 2
        guard Int(bitPattern: data) % alignment == 0 else {
            throw TensorKitError.misaligned(type: type, alignment: alignment)
        }
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
        self.rowBytes = rowBytes
    }

    /// Bytes of the whole matrix.
    public var byteCount: Int { rows * rowBytes }

    var typeID: Int32 { Int32(type.rawValue) }

    /// Writes the `cols` values of row `r` (0 ..< rows) as floats.
    public func dequantizeRow(_ r: Int, into y: UnsafeMutablePointer<Float>) {
        ck_dequantize_row(typeID, data + r * rowBytes, y, Int64(cols))
    }

    /// Writes all rows * cols values as floats, row-major.
    public func dequantize(into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { dequantizeRow(r, into: y + r * cols) }
    }

    /// Dequantizes all rows, in parallel on `pool`.
    public func dequantize(into y: UnsafeMutablePointer<Float>, pool: ComputePool) {
        pool.withLocked { ck_dequantize_rows(pool.handle, typeID, data, Int64(rows), Int64(cols), y) }
    }

    /// Y[n, rows] = X[n, cols] · Wᵀ for n token vectors.
    ///
    /// Few vectors (decoding) go through the dot-product kernels, each weight row meeting all n
    /// vectors while it is in L1 and each of its blocks unpacked once for all of them (with results
    /// bit-identical to n products of one vector, so a batched decode step gives each sequence what
    /// decoding it alone gives); with `.fast` the vectors are first quantized to int8. From
    /// `packedThreshold` vectors on, a packed matrix (`packed(pool:)`) with `.fast` takes the VNNI
    /// kernel: int8 weights unpacked once at load times activations quantized to 16 bits, 64 byte
    /// products per instruction (docs/gguf.md, "Packed prefill"). Otherwise, from `sgemmThreshold` vectors on (prefill), each
    /// thread dequantizes tiles of rows into its own cache-sized scratch and multiplies them with
    /// single-threaded sgemm: float FMA throughput is then the limit, not unpacking. That path never
    /// quantizes activations.
    public func multiply(
        _ x: UnsafePointer<Float>, count n: Int, into y: UnsafeMutablePointer<Float>,
        precision: MatmulPrecision, pool: ComputePool, method: MatmulMethod = .automatic
    ) {
        guard n > 0, rows > 0 else { return }
        if let packed, precision == .fast, ck_has_vnni() != 0,
           method == .packedInt8 || (method == .automatic && n >= Self.packedThreshold) {
            let status = pool.withLocked {
                let act = pool.scratchMemory(bytes: ck_packed_act_bytes(Int64(cols), Int64(n)))
                return ck_matmul_packed(pool.handle, packed.memory, x, Int64(n), y, act)
            }
            if status == 0 { return }
            // the kernel was turned off meanwhile (ck_force_no_vnni): the paths below
        }
        if method == .dequantizeSgemm || method == .packedInt8 || (method == .automatic && n >= Self.sgemmThreshold) {
            multiplyTiled(x, count: n, into: y, pool: pool)
            return
        }
        let fast = precision == .fast && ck_fast_uses_q8(typeID) != 0
        pool.withLocked {
            let act = fast ? pool.scratchMemory(bytes: ck_act_bytes(Int64(cols)) * n) : nil
            ck_matmul(pool.handle, typeID, data, Int64(rows), Int64(cols), x, Int64(n), y, fast ? 1 : 0, act)
        }
    }

    /// Rows per tile: a tile of floats stays within ~192 KB so that it remains in L2 while sgemm
    /// sweeps the token vectors over it.
    var tileRows: Int { max(8, min(256, (192 * 1024 / 4) / cols)) }

    /// Rows per tile for many vectors (a long prefill): one share of the rows per thread, so each
    /// thread makes one large sgemm and packs the vectors once rather than once per small tile
    /// (prefill of a 233-token prompt on the default model: 332 -> 410 tok/s on 2 threads); capped
    /// at 16 MB of floats per thread, which keeps the 262144-row output head in bounded tiles.
    func wideTileRows(threads: Int) -> Int {
        let share = (rows + threads - 1) / threads
        return max(tileRows, min(share, (16 << 20) / 4 / cols))
    }

    private func multiplyTiled(_ x: UnsafePointer<Float>, count n: Int, into y: UnsafeMutablePointer<Float>, pool: ComputePool) {
        let tile = n >= 64 ? wideTileRows(threads: pool.threadCount) : tileRows
        let tiles = (rows + tile - 1) / tile
        let perThread = tile * cols
        pool.withLocked {
            let scratch = pool.scratchMemory(bytes: perThread * pool.threadCount * 4)
                .bindMemory(to: Float.self, capacity: perThread * pool.threadCount)
            BLAS.singleThreaded()
            let job = TiledJob(matrix: self, x: x, n: n, y: y, scratch: scratch, tile: tile)
            withUnsafePointer(to: job) { context in
                ck_pool_run(pool.handle, Int64(tiles), 1, { context, begin, end, thread in
                    let job = context!.assumingMemoryBound(to: TiledJob.self).pointee
                    for t in Int(begin)..<Int(end) { job.run(tile: t, thread: Int(thread)) }
                }, UnsafeMutableRawPointer(mutating: context))
            }
        }
    }
}

/// One `multiplyTiled` call, handed to the pool's C threads.
private struct TiledJob {
    let matrix: QuantizedMatrix
    let x: UnsafePointer<Float>
    let n: Int
    let y: UnsafeMutablePointer<Float>
    let scratch: UnsafeMutablePointer<Float>
    let tile: Int

    func run(tile index: Int, thread: Int) {
        let first = index * tile
        let count = min(tile, matrix.rows - first)
        let w = scratch + thread * tile * matrix.cols
        for r in 0..<count { matrix.dequantizeRow(first + r, into: w + r * matrix.cols) }
        // Y[:, first ..< first+count] = X · W_tileᵀ
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(count), Int32(matrix.cols),
            1, x, Int32(matrix.cols), w, Int32(matrix.cols), 0, y + first, Int32(matrix.rows))
    }
}
