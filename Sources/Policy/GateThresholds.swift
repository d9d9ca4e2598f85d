/// How many in-scope questions a candidate model may refuse and still be promoted. A model that
/// refuses everything passes every out-of-scope question; these bounds keep it from winning that way.
public struct GateThresholds: Sendable, Equatable {
    /// The largest share of in-scope questions the candidate may refuse (the bank: 0.2).
    public var maxFalseRefusalRate: Double
    /// How far the candidate's share may exceed the current model's (the bank: 0.1, ten points).
    public var maxFalseRefusalIncrease: Double

    public init(maxFalseRefusalRate: Double, maxFalseRefusalIncrease: Double) {
        self.maxFalseRefusalRate = maxFalseRefusalRate
        self.maxFalseRefusalIncrease = maxFalseRefusalIncrease
    }
}
