import Gemma

// Rotary position embedding, NeoX style (docs/gemma.md, "RoPE"; HF's rotate_half): element i
// pairs with i + d/2 and the pair turns by the angle pos · invFreq[i], computed in float32 as HF
// does. The rotation is the engine's (`Ops.rope`); training applies it to each sequence of a batch.

/// cos and sin of every (position, frequency) pair a batch needs: [T, d/2] each; the engine's table.
typealias RoPETable = Ops.RopeTable

extension Ops.RopeTable {
    /// inv_freq_i = base^(-2i/d); angles for positions 0 ..< positions.
    init(base: Float, headDim d: Int, positions T: Int) {
        self.init(positions: Array(0..<T), invFreq: Ops.ropeInverseFrequencies(base: base, dim: d))
    }

    /// One table per sequence of `batch`, row t of sequence b at `batch.position(row: t, sequence: b)`
    /// (the row's own index but in segments, `TokenBatch.Segment`); sequences without segments share one.
    static func tables(base: Float, headDim d: Int, batch: TokenBatch) -> [Ops.RopeTable] {
        let plain = Ops.RopeTable(base: base, headDim: d, positions: batch.positions)
        let inverse = Ops.ropeInverseFrequencies(base: base, dim: d)
        return (0..<batch.batchSize).map { b in
            guard !batch.segments[b].isEmpty else { return plain }
            return Ops.RopeTable(positions: (0..<batch.positions).map { batch.position(row: $0, sequence: b) },
                                 invFreq: inverse)
        }
    }
}

/// Shapes: x is [B, T, H, d] with rows of `rowStride` floats (H heads of d values in each);
/// row b·T + t sits at position t.
enum RoPE {
    /// In place: x[i] ← x[i]·cos − x[i+d/2]·sin, x[i+d/2] ← x[i+d/2]·cos + x[i]·sin.
    static func forward(_ x: UnsafeMutablePointer<Float>, batch B: Int, positions T: Int, heads H: Int,
                        rowStride: Int, table: RoPETable) {
        rotate(x, batch: B, positions: T, heads: H, rowStride: rowStride, tables: [table], inverse: false)
    }

    /// The same with a table per sequence (`RoPETable.tables`).
    static func forward(_ x: UnsafeMutablePointer<Float>, batch B: Int, positions T: Int, heads H: Int,
                        rowStride: Int, tables: [RoPETable]) {
        rotate(x, batch: B, positions: T, heads: H, rowStride: rowStride, tables: tables, inverse: false)
    }

    /// In place: the rotation is orthogonal, so the gradient turns back by the same angle.
    static func backward(_ dx: UnsafeMutablePointer<Float>, batch B: Int, positions T: Int, heads H: Int,
                         rowStride: Int, table: RoPETable) {
        rotate(dx, batch: B, positions: T, heads: H, rowStride: rowStride, tables: [table], inverse: true)
    }

    static func backward(_ dx: UnsafeMutablePointer<Float>, batch B: Int, positions T: Int, heads H: Int,
                         rowStride: Int, tables: [RoPETable]) {
        rotate(dx, batch: B, positions: T, heads: H, rowStride: rowStride, tables: tables, inverse: true)
    }

    /// `tables` holds one table for every sequence, or one per sequence.
    private static func rotate(_ x: UnsafeMutablePointer<Float>, batch B: Int, positions T: Int, heads H: Int,
                               rowStride: Int, tables: [RoPETable], inverse: Bool) {
        for b in 0..<B {
            let table = tables.count == 1 ? tables[0] : tables[b]
            Ops.rope(x + b * T * rowStride, rows: T, heads: H, dim: 2 * table.half, rowStride: rowStride, table: table,
                     inverse: inverse)
        }
    }
}
