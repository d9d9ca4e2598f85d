import CKernels
import Foundation
@testable import TensorKit

/// Deterministic random data for the kernel tests: a small xorshift generator (the same numbers on
/// every run and platform) and random raw blocks of every type.
struct TestRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }

    mutating func floats(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in float() * scale } }

    /// `rows` rows of `cols` values of `type`: random bytes, with every fp16 scale field set to a
    /// small finite value (random bytes there could be NaN or huge). That is a valid block of each type.
    mutating func matrixBytes(type: GGMLType, rows: Int, cols: Int) -> [UInt8] {
        let count = rows * cols
        switch type {
        case .f32:
            return floats(count).withUnsafeBytes { Array($0) }
        case .f16:
            return (0..<count).flatMap { _ in withUnsafeBytes(of: HalfFloat.float16Bits(from: float()).littleEndian) { Array($0) } }
        case .bf16:
            return (0..<count).flatMap { _ in withUnsafeBytes(of: HalfFloat.bfloat16Bits(from: float()).littleEndian) { Array($0) } }
        default:
            break
        }
        let blocks = count / type.blockSize
        var bytes = (0..<blocks * type.typeSize).map { _ in UInt8(truncatingIfNeeded: next() >> 32) }
        for b in 0..<blocks {
            for offset in Self.scaleOffsets(type) {
                let bits = HalfFloat.float16Bits(from: float() * 0.02)
                bytes[b * type.typeSize + offset] = UInt8(bits & 0xff)
                bytes[b * type.typeSize + offset + 1] = UInt8(bits >> 8)
            }
        }
        return bytes
    }

    /// Byte offsets of the fp16 scale fields in a block (docs/gguf.md, "Block layouts").
    static func scaleOffsets(_ type: GGMLType) -> [Int] {
        switch type {
        case .q4_0, .q5_0, .q8_0: return [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: return [0, 2]
        case .q6_K: return [208]
        default: return []
        }
    }
}

/// The supported types, with a row length that suits each.
let supportedTypes: [GGMLType] = GGMLType.allCases.filter(\.isSupported)

func testColumns(_ type: GGMLType) -> Int { type.blockSize == 256 ? 512 : 640 }

/// Reference dequantization of a whole matrix (scalar C reference kernels).
func referenceValues(_ m: QuantizedMatrix) -> [Float] {
    var out = [Float](repeating: 0, count: m.rows * m.cols)
    out.withUnsafeMutableBufferPointer { buffer in
        for r in 0..<m.rows {
            ck_dequantize_row_ref(Int32(m.type.rawValue), m.data + r * m.rowBytes, buffer.baseAddress! + r * m.cols, Int64(m.cols))
        }
    }
    return out
}
