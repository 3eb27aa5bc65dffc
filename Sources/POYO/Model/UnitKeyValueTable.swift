/// The encoder's keys and values before rotation depend only on (unit, token type):
/// `to_kv(norm_context(unit_emb[u] + token_type_emb[type]))`. They are computed once per
/// unit, on first sight or ahead of time with `prepare(units:)`, and reused by every window.
struct UnitKeyValueTable {
    static let tokenTypes = 4
    /// Slot of each unit of the vocabulary in `table`, -1 until computed.
    private var slotOfUnit: [Int32]
    private(set) var slots = 0
    /// [slots, tokenTypes, 2 * inner]: K then V of each (unit, type).
    let table = FloatBuffer()
    private let rowWidth: Int
    private let scratch = FloatBuffer()

    init(vocabularySize: Int, inner: Int) {
        slotOfUnit = Array(repeating: -1, count: vocabularySize)
        rowWidth = 2 * inner
    }

    /// The K/V rows of `unit`: [tokenTypes, 2 * inner].
    mutating func rows(of unit: Int, weights: ModelWeights, dim: Int) -> UnsafePointer<Float> {
        var slot = Int(slotOfUnit[unit])
        if slot < 0 {
            slot = slots
            compute(unit: unit, slot: slot, weights: weights, dim: dim)
            slotOfUnit[unit] = Int32(slot)
            slots += 1
        }
        return UnsafePointer(table.pointer + slot &* Self.tokenTypes &* rowWidth)
    }

    /// The K/V rows of a unit `rows(of:)` has computed already: [tokenTypes, 2 * inner].
    func prepared(_ unit: Int) -> UnsafePointer<Float> {
        UnsafePointer(table.pointer + Int(slotOfUnit[unit]) &* Self.tokenTypes &* rowWidth)
    }

    private mutating func compute(unit: Int, slot: Int, weights: ModelWeights, dim: Int) {
        let block = Self.tokenTypes * rowWidth
        if (slot + 1) * block > table.capacity {
            // Grow, keeping what was computed (a new unit, outside the steady state).
            let old = Array(UnsafeBufferPointer(start: table.pointer, count: slot * block))
            let target = table.reserve(max((slot + 1) * block, 2 * table.capacity))
            target.update(from: old, count: old.count)
        }
        let embedded = scratch.reserve(2 * Self.tokenTypes * dim)
        let normed = embedded + Self.tokenTypes * dim
        for type in 0..<Self.tokenTypes {
            for c in 0..<dim {
                embedded[type * dim + c] = weights.unitEmb[unit * dim + c] + weights.tokenTypeEmb[type * dim + c]
            }
        }
        let attention = weights.encoderAttention
        layerNormForward(normed, embedded, rows: Self.tokenTypes, dim: dim, attention.normContext)
        linearForward(table.pointer + slot * block, ldy: rowWidth, normed, ldx: dim, rows: Self.tokenTypes, attention.toKV)
    }
}
