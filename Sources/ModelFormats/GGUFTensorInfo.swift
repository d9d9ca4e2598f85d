import TensorKit

/// Where one tensor of a GGUF file lives and what it holds (docs/gguf.md, "Tensor infos").
public struct GGUFTensorInfo: TensorLocation, Equatable {
    public let name: String
    /// Dimensions in ggml order: `ne0` (the contiguous, innermost one) first. A PyTorch `[out, in]`
    /// weight has `shape == [in, out]`.
    public let shape: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the data in the file (data section start + the stored offset).
    public let offset: Int
    public let byteCount: Int

    public init(name: String, shape: [Int], type: GGMLType, offset: Int, byteCount: Int) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
    }

    /// Values per row: `ne0`.
    public var cols: Int { shape.first ?? 1 }
    /// Number of rows: the product of `ne1...`.
    public var rows: Int { shape.dropFirst().reduce(1, *) }
    public var elementCount: Int { shape.reduce(1, *) }
    /// The shape in PyTorch order (outermost first), as checkpoints and model code speak of it.
    public var torchShape: [Int] { shape.reversed() }
}
