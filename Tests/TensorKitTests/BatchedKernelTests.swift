import CKernels
import Testing
@testable import TensorKit

/// Batched decoding multiplies several token vectors at once, and the server's answers must equal
/// those of one request at a time: so a product of n vectors must give, bit for bit, what n products
/// of one vector give (the multi-vector kernels unpack each weight sub-block once for several vectors
/// but keep each vector's arithmetic unchanged).
@Suite struct BatchedKernelTests {
    static let pool = try! ComputePool(threads: 2)

    /// Y for n vectors in one call (the dot-product kernels, as decoding uses them below the sgemm
    /// threshold; forced here up to 13 vectors) against n calls with one vector each.
    @Test(arguments: supportedTypes)
    func severalVectorsGiveTheBitsOfOneAtATime(type: GGMLType) throws {
        var random = TestRandom(seed: UInt64(type.rawValue) + 900)
        // odd row count, so the two pool threads get uneven shares
        let cols = testColumns(type), rows = 7
        let bytes = random.matrixBytes(type: type, rows: rows, cols: cols)
        try bytes.withUnsafeBytes { raw in
            let m = try QuantizedMatrix(type: type, rows: rows, cols: cols, data: raw.baseAddress!)
            for n in 1...13 {
                let x = random.floats(n * cols, scale: 2)
                for precision in [MatmulPrecision.exact, .fast] {
                    var batched = [Float](repeating: .nan, count: n * rows)
                    batched.withUnsafeMutableBufferPointer {
                        m.multiply(x, count: n, into: $0.baseAddress!, precision: precision, pool: Self.pool, method: .dotKernels)
                    }
                    var mismatches = 0
                    for t in 0..<n {
                        var single = [Float](repeating: .nan, count: rows)
                        x.withUnsafeBufferPointer { xs in
                            single.withUnsafeMutableBufferPointer {
                                m.multiply(xs.baseAddress! + t * cols, count: 1, into: $0.baseAddress!, precision: precision, pool: Self.pool)
                            }
                        }
                        for r in 0..<rows where batched[t * rows + r].bitPattern != single[r].bitPattern {
                            mismatches += 1
                        }
                        #expect(single.allSatisfy { $0.isFinite }, "\(type) \(precision) n=\(n) vector \(t)")
                    }
                    #expect(mismatches == 0, "\(type) \(precision) n=\(n): \(mismatches) of \(n * rows) outputs differ")
                }
            }
        }
    }

    /// The kernel a single vector goes through, called directly, gives the same bits as a one-vector
    /// product: the reference the batched products are held to is the per-vector dot product itself.
    @Test(arguments: BatchedKernelTests.quantizedTypes)
    func oneVectorProductIsTheDotKernel(type: GGMLType) throws {
        var random = TestRandom(seed: UInt64(type.rawValue) + 950)
        let cols = testColumns(type), rows = 5
        let bytes = random.matrixBytes(type: type, rows: rows, cols: cols)
        let x = random.floats(cols, scale: 2)
        var act = [UInt8](repeating: 0, count: ck_act_bytes(Int64(cols)))
        act.withUnsafeMutableBytes { ck_quantize_act(x, $0.baseAddress!.assumingMemoryBound(to: ck_block_q8a.self), Int64(cols)) }
        try bytes.withUnsafeBytes { raw in
            let m = try QuantizedMatrix(type: type, rows: rows, cols: cols, data: raw.baseAddress!)
            for precision in [MatmulPrecision.exact, .fast] {
                var y = [Float](repeating: .nan, count: rows)
                y.withUnsafeMutableBufferPointer { m.multiply(x, count: 1, into: $0.baseAddress!, precision: precision, pool: Self.pool) }
                for r in 0..<rows {
                    let row = m.data + r * m.rowBytes
                    let dot = precision == .exact
                        ? ck_dot_exact(Int32(type.rawValue), row, x, Int64(cols))
                        : act.withUnsafeBytes { ck_dot_fast(Int32(type.rawValue), row, $0.baseAddress!.assumingMemoryBound(to: ck_block_q8a.self), Int64(cols)) }
                    #expect(y[r].bitPattern == dot.bitPattern, "\(type) \(precision) row \(r)")
                }
            }
        }
    }

    static let quantizedTypes = supportedTypes.filter { ck_fast_uses_q8(Int32($0.rawValue)) != 0 }
}
