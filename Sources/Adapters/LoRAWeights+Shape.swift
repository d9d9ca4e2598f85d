import Gemma

extension LoRAWeights {
    /// `in` of A [r, in]; 0 for factors of rank 0, which hold nothing.
    public var inFeatures: Int { rank > 0 ? a.count / rank : 0 }
    /// `out` of B [out, r]; 0 for factors of rank 0.
    public var outFeatures: Int { rank > 0 ? b.count / rank : 0 }
}
