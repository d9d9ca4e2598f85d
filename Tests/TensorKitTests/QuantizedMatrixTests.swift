import CKernels
import Testing
@testable import TensorKit

@Suite struct QuantizedMatrixTests {
    static let pool = try! ComputePool(threads: 2)

    /// Y = X · Wᵀ in Double from the reference dequantization.
    static func naiveProduct(_ w: [Float], rows: Int, cols: Int, _ x: [Float], n: Int) -> [Double] {
        var y = [Double](repeating: 0, count: n * rows)
        for t in 0..<n {
            for r in 0..<rows {
                var sum: Double = 0
                for c in 0..<cols { sum += Double(w[r * cols + c]) * Double(x[t * cols + c]) }
                y[t * rows + r] = sum
            }
        }
        return y
    }

    @Test(arguments: supportedTypes)
    func multiplyMatchesNaiveProduct(type: GGMLType) throws {
        var random = TestRandom(seed: UInt64(type.rawValue) + 500)
        let cols = testColumns(type), rows = 40
        let bytes = random.matrixBytes(type: type, rows: rows, cols: cols)
        try bytes.withUnsafeBytes { raw in
            // 40 rows: two groups of 16 for the packed kernel, then one with 8 (a masked store)
            let plain = try QuantizedMatrix(type: type, rows: rows, cols: cols, data: raw.baseAddress!)
            let w = referenceValues(plain)
            let rowMagnitude = (0..<rows).map { r in (0..<cols).reduce(Float(0)) { $0 + abs(w[r * cols + $1]) } }
            let packedMatrix = plain.packed(pool: Self.pool)
            #expect((packedMatrix.packed != nil) == plain.canPack, "\(type): packed only where the type and CPU allow")
            for m in [plain, packedMatrix] {
            for n in [1, 3, 6, 64] {
                let x = random.floats(n * cols)
                let expected = Self.naiveProduct(w, rows: rows, cols: cols, x, n: n)
                let methods: [MatmulMethod] = [.automatic, .dotKernels, .dequantizeSgemm, .packedInt8]
                for (precision, method) in [MatmulPrecision.exact, .fast].flatMap({ p in methods.map { (p, $0) } }) {
                    var y = [Float](repeating: .nan, count: n * rows)
                    y.withUnsafeMutableBufferPointer {
                        m.multiply(x, count: n, into: $0.baseAddress!, precision: precision, pool: Self.pool, method: method)
                    }
                    // fast: each activation moves by at most max|x|/254 = 1/254
                    let packed = m.packed != nil && precision == .fast
                        && (method == .packedInt8 || (method == .automatic && n >= QuantizedMatrix.packedThreshold))
                    let dots = method == .dotKernels || (method == .automatic && n < QuantizedMatrix.sgemmThreshold)
                    let quantized = precision == .fast && dots && ck_fast_uses_q8(Int32(type.rawValue)) != 0
                    for t in 0..<n {
                        for r in 0..<rows {
                            // packed: 16-bit activations move by at most 1/65534
                            let tolerance = Double(rowMagnitude[r]) * (quantized ? 1.0 / 254 : packed ? 1.0 / 30000 : 1e-5)
                            #expect(abs(Double(y[t * rows + r]) - expected[t * rows + r]) <= tolerance, "\(type) n=\(n) \(precision) \(method) packed \(m.packed != nil) y[\(t), \(r)]")
                        }
                    }
                }
            }
            }
        }
    }

    /// The VNNI kernel against the plain loops over the same packed bytes and quantized
    /// activations: the integer sums are exact, so only the float steps' rounding may differ.
    /// Every tile shape (1-4 vectors, one or two groups of 16 rows, a partial group) and both
    /// scale layouts (Q6_K's scale per 16 values; an offset for Q4_K and Q5_1).
    @Test(arguments: [GGMLType.q4_K, .q6_K, .q8_0, .q5_1, .q4_0])
    func packedKernelMatchesItsReference(type: GGMLType) throws {
        guard ck_has_vnni() != 0 else { return }  // the kernel needs AVX-512 VNNI; unpacked matrices (the other paths) are tested above
        var random = TestRandom(seed: UInt64(type.rawValue) + 900)
        let cols = testColumns(type)
        for rows in [16, 37, 64] {
            let bytes = random.matrixBytes(type: type, rows: rows, cols: cols)
            try bytes.withUnsafeBytes { raw in
                let m = try QuantizedMatrix(type: type, rows: rows, cols: cols, data: raw.baseAddress!).packed(pool: Self.pool)
                let packed = try #require(m.packed)
                #expect(packed.byteCount == ck_packed_bytes(Int64(rows), Int64(cols)))
                for n in [1, 2, 3, 4, 5, 11] {
                    let x = random.floats(n * cols)
                    var y = [Float](repeating: .nan, count: n * rows)
                    y.withUnsafeMutableBufferPointer {
                        m.multiply(x, count: n, into: $0.baseAddress!, precision: .fast, pool: Self.pool, method: .packedInt8)
                    }
                    let blocks = cols / 32
                    var act = [ck_block_a16](repeating: ck_block_a16(), count: n * blocks)
                    var expected = [Float](repeating: .nan, count: n * rows)
                    act.withUnsafeMutableBufferPointer { a in
                        for t in 0..<n { x.withUnsafeBufferPointer { ck_quantize_act16_ref($0.baseAddress! + t * cols, a.baseAddress! + t * blocks, Int64(cols)) } }
                        expected.withUnsafeMutableBufferPointer { ck_matmul_packed_ref(packed.memory, a.baseAddress!, Int64(n), $0.baseAddress!) }
                    }
                    for i in 0..<(n * rows) {
                        #expect(abs(y[i] - expected[i]) <= 1e-4 * max(1, abs(expected[i])), "\(type) rows=\(rows) n=\(n) [\(i / rows), \(i % rows)]: \(y[i]) vs \(expected[i])")
                    }
                }
            }
        }
    }

    /// A row's product does not depend on the other rows of the call (how many, or where it sits in
    /// a tile): a prompt scored with and without a cached prefix must get the same numbers.
    @Test func packedRowsDoNotDependOnTheirNeighbours() throws {
        guard ck_has_vnni() != 0 else { return }
        var random = TestRandom(seed: 77)
        let rows = 48, cols = 256
        let bytes = random.matrixBytes(type: .q4_K, rows: rows, cols: cols)
        try bytes.withUnsafeBytes { raw in
            let m = try QuantizedMatrix(type: .q4_K, rows: rows, cols: cols, data: raw.baseAddress!).packed(pool: Self.pool)
            let n = 23
            let x = random.floats(n * cols)
            var all = [Float](repeating: .nan, count: n * rows)
            all.withUnsafeMutableBufferPointer { m.multiply(x, count: n, into: $0.baseAddress!, precision: .fast, pool: Self.pool, method: .packedInt8) }
            for (start, count) in [(0, 1), (5, 3), (6, 4), (9, 14), (22, 1)] {
                var part = [Float](repeating: .nan, count: count * rows)
                let slice = Array(x[(start * cols)..<((start + count) * cols)])
                part.withUnsafeMutableBufferPointer { m.multiply(slice, count: count, into: $0.baseAddress!, precision: .fast, pool: Self.pool, method: .packedInt8) }
                #expect(part == Array(all[(start * rows)..<((start + count) * rows)]), "rows \(start)..<\(start + count)")
            }
        }
    }

    /// The SIMD 16-bit activation quantizer writes the reference's bytes (large, small, zero blocks).
    @Test func sixteenBitActivationsMatchTheReference() {
        var random = TestRandom(seed: 78)
        var x = random.floats(32 * 9).map { $0 * 3 }
        for j in 32..<64 { x[j] = 0 }
        x[70] = 1e4
        x[100] = -2e-6
        var fast = [ck_block_a16](repeating: ck_block_a16(), count: 9), plain = fast
        fast.withUnsafeMutableBufferPointer { ck_quantize_act16(x, $0.baseAddress!, Int64(x.count)) }
        plain.withUnsafeMutableBufferPointer { ck_quantize_act16_ref(x, $0.baseAddress!, Int64(x.count)) }
        for (f, p) in zip(fast, plain) {
            #expect(f.d == p.d && f.s == p.s)
            #expect(withUnsafeBytes(of: f.hi) { Array($0) } == withUnsafeBytes(of: p.hi) { Array($0) })
            #expect(withUnsafeBytes(of: f.lo) { Array($0) } == withUnsafeBytes(of: p.lo) { Array($0) })
        }
        // q = 256·(hi − 128) + lo gives back x / d within half a step
        let b = plain[2]
        for j in 0..<32 {
            let q = 256 * (Int(withUnsafeBytes(of: b.hi) { $0[j] }) - 128) + Int(withUnsafeBytes(of: b.lo) { $0[j] })
            #expect(abs(Float(q) * b.d - x[64 + j]) <= b.d / 2 + 1e-3 * abs(x[64 + j]))
        }
    }

    @Test func dequantizeInParallelMatchesRowByRow() throws {
        var random = TestRandom(seed: 9)
        let bytes = random.matrixBytes(type: .q6_K, rows: 33, cols: 512)
        try bytes.withUnsafeBytes { raw in
            let m = try QuantizedMatrix(type: .q6_K, rows: 33, cols: 512, data: raw.baseAddress!)
            var parallel = [Float](repeating: .nan, count: 33 * 512)
            parallel.withUnsafeMutableBufferPointer { m.dequantize(into: $0.baseAddress!, pool: Self.pool) }
            #expect(parallel == referenceValues(m))
        }
    }

    @Test func badConstructionThrows() {
        let bytes = [UInt8](repeating: 0, count: 4096)
        bytes.withUnsafeBytes { raw in
            let p = raw.baseAddress!
            #expect(throws: TensorKitError.unsupportedType(.q2_K)) { try QuantizedMatrix(type: .q2_K, rows: 1, cols: 256, data: p) }
            #expect(throws: TensorKitError.unsupportedType(.q8_K)) { try QuantizedMatrix(type: .q8_K, rows: 1, cols: 256, data: p) }
            #expect(throws: TensorKitError.self) { try QuantizedMatrix(type: .q4_K, rows: 2, cols: 640, data: p) }
            #expect(throws: TensorKitError.self) { try QuantizedMatrix(type: .q8_0, rows: 2, cols: 48, data: p) }
            #expect(throws: TensorKitError.self) { try QuantizedMatrix(type: .f32, rows: 2, cols: 0, data: p) }
            #expect(throws: TensorKitError.self) { try QuantizedMatrix(type: .f32, rows: -1, cols: 4, data: p) }
            #expect(throws: TensorKitError.misaligned(type: .f32, alignment: 4)) { try QuantizedMatrix(type: .f32, rows: 1, cols: 4, data: p + 2) }
            #expect(throws: TensorKitError.misaligned(type: .q8_0, alignment: 2)) { try QuantizedMatrix(type: .q8_0, rows: 1, cols: 32, data: p + 1) }
        }
        let message = TensorKitError.badShape(type: .q4_K, rows: 2, cols: 640, reason: "a row of Q4_K must hold a multiple of 256 values").description
        #expect(message.contains("Q4_K") && message.contains("640"))
    }
}
