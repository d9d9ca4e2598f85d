import CKernels

/// Quantization of float rows to GGUF Q8_0 blocks (docs/gguf.md, "Q8_0 quantization"), as ggml's
/// quantize_row_q8_0_ref: d = max|x| / 127 stored as fp16, q = round(x / d) with ties away from zero.
public enum Q8_0Quantizer {
    /// Bytes that `count` values take as Q8_0, or nil when `count` is not a multiple of 32.
    public static func byteCount(elements count: Int) -> Int? { GGMLType.q8_0.byteCount(elements: count) }

    /// Quantizes `count` floats (a multiple of 32) into `dst`, which must hold byteCount(elements:) bytes.
    public static func quantize(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) throws {
        guard count % 32 == 0 else {
            throw TensorKitError.badShape(type: .q8_0, rows: 1, cols: count, reason: "Q8_0 rows hold a multiple of 32 values")
        }
        ck_quantize_row_q8_0(src, dst, Int64(count))
    }
}
