/// poyo-rt's own matrix product for POYO's small matrices (128 x 64 x 1536 and the like), where a
/// general BLAS spends a fifth of its time packing operands and clearing outputs: weights are
/// packed once at load, activation rows are packed only when they meet many panels, and bias,
/// scale and residual add are applied as each tile is stored.
///
/// The B operand is read in panels of 16 columns: element (k, j) of panel p is at
/// `base + p * panelStride + k * ldb + j`. A packed operand (`LinearWeights.packed`, keys and
/// values packed per head) has ldb 16 and panelStride 16 K; a row-major [K, N] matrix read in
/// place has ldb = its row stride and panelStride 16.
///
/// The microkernel keeps a 6 x 16 tile of C in 12 AVX2 registers (SIMD8<Float> with the package's
/// haswell target) and does 12 FMAs per 6 broadcasts and 2 loads: ~108 GFLOP/s on one 3.5 GHz
/// EPYC core against ~98 for OpenBLAS on the same shapes (both from L1/L2).
struct Panels {
    let base: UnsafePointer<Float>
    let panelStride: Int
    let ldb: Int
    /// Columns of B (N); the last panel may be partial.
    let columns: Int
    /// Whether a partial last panel is zero-padded to 16 columns (packed operands are), so it may
    /// be read whole.
    let padded: Bool
}

/// What is done to each tile of A · B when it is stored: `C = alpha (A B) + bias (+ C)`, with
/// alpha per row or one added row per row of C instead where given.
struct Epilogue {
    var alpha: Float = 1
    /// [N], added to every row.
    var bias: UnsafePointer<Float>? = nil
    var accumulate = false
    /// Added to row r of the tile instead of C's own row (in place of `accumulate`).
    var gathered: GatheredRows? = nil
    /// [M]: row r is scaled by rowScale[r] instead of alpha (softmax weights normalized as the
    /// value product is stored).
    var rowScale: UnsafePointer<Float>? = nil

    /// The factor of row r of A · B.
    @inline(__always) func alpha(row r: Int) -> Float { rowScale.map { $0[r] } ?? alpha }

    /// What row r is added to at `column`: its gathered row, C's own row `own` (accumulate), or nothing.
    @inline(__always) func addend(row r: Int, column: Int, own: UnsafePointer<Float>) -> UnsafePointer<Float>? {
        gathered.map { $0.row(r, column: column) } ?? (accumulate ? own : nil)
    }
}

/// Rows added by the epilogue, picked per row of C: row r gets `base + Int(index[r]) * stride`
/// (the encoder's per-slot score rows under each token's scores, `slotAttentionForward`), read
/// as each tile is stored instead of copied under the product first.
struct GatheredRows {
    let base: UnsafePointer<Float>
    /// [m]: the row of `base` for each row of C.
    let index: UnsafePointer<Int32>
    let stride: Int

    /// The row added to C's row r at `column`.
    @inline(__always) func row(_ r: Int, column: Int) -> UnsafePointer<Float> {
        base + (Int(index[r]) &* stride &+ column)
    }
}

/// c[m, n] = epilogue(a[m, k] · B), a row-major with row stride `lda`, c with `ldc`.
///
/// Rows are taken 6 at a time (a remainder of 1-3 rows shared with the last full tile, `tileRows`). When B has many panels (more than 8: q/k/v, feed-forward up)
/// the row tile is first packed interleaved ([k, 6], `threadPackBuffer`), so the microkernel's
/// broadcasts read one contiguous stream, and the packing is repaid over every panel; with fewer
/// panels (attention scores against 128 latents, N = 64: values, output projections, feed-forward
/// down) packing costs about what it saves (measured 1-2 % slower per window at 8 panels), and
/// rows are read in place. K is cut into chunks of `kChunk` that stay in L1.
///
/// With `transposedA`, a is stored [k, m] (row stride `lda`) and the product is aᵀ · B: element
/// (r, i) of the operand is `a[i * lda + r]`. A tile's 6 rows are then adjacent at every step, the
/// layout a packed tile has, so it is read in place (the encoder's softmax weights, kept
/// [keys, latents], times the values).
func panelGEMM(
    _ c: UnsafeMutablePointer<Float>, ldc: Int,
    _ a: UnsafePointer<Float>, lda: Int,
    _ b: Panels, m: Int, k: Int, _ epilogue: Epilogue = Epilogue(), transposedA: Bool = false
) {
    guard m > 0 else { return }
    let fullPanels = b.padded ? (b.columns &+ 15) / 16 : b.columns / 16
    if fullPanels * 16 < b.columns {
        // A partial panel read in place (values of a head narrower than a multiple of 16).
        let column = fullPanels &* 16
        unpaddedTail(
            c + column, ldc: ldc, a, lda: lda, transposedA: transposedA, b.base + fullPanels &* b.panelStride, ldb: b.ldb, m: m, k: k,
            width: b.columns &- column, column: column, epilogue, bias: epilogue.bias.map { $0 + column })
    }
    guard fullPanels > 0 else { return }
    let packed = threadPackBuffer()
    let packRows = fullPanels > 8 && !transposedA
    var chunkStart = 0
    while chunkStart < k {
        let depth = min(kChunk, k &- chunkStart)
        // Later chunks add to what the first stored (its bias and gathered rows included).
        let chunkEpilogue = chunkStart == 0 ? epilogue : Epilogue(alpha: epilogue.alpha, bias: nil, accumulate: true, rowScale: epilogue.rowScale)
        var row = 0
        while row < m {
            let rows = tileRows(at: row, of: m)
            let tile = transposedA ? a + (chunkStart &* lda &+ row) : a + (row &* lda &+ chunkStart)
            if packRows { packRowTile(tile, lda: lda, rows: rows, depth: depth, into: packed) }
            let source = packRows ? UnsafePointer(packed) : tile
            // Adjacent rows: the step between k's is 6 packed, lda transposed.
            let rowStride = packRows ? 6 : lda
            for p in 0..<fullPanels {
                let column = p &* 16
                let width = min(16, b.columns &- column)
                let panel = b.base + (p &* b.panelStride &+ chunkStart &* b.ldb)
                let target = c + (row &* ldc &+ column)
                let bias = chunkEpilogue.bias.map { $0 + column }
                if packRows || transposedA {
                    rowTile(Packed.self, rows: rows, width: width, k: depth, source, rowStride: rowStride, panel, ldb: b.ldb, target, ldc: ldc, chunkEpilogue, bias: bias, at: (row, column))
                } else {
                    rowTile(InPlace.self, rows: rows, width: width, k: depth, source, rowStride: rowStride, panel, ldb: b.ldb, target, ldc: ldc, chunkEpilogue, bias: bias, at: (row, column))
                }
            }
            row &+= rows
        }
        chunkStart &+= depth
    }
}

/// The rows of the tile starting at `row` of `m`: 6, except that a remainder of 1 to 3 rows is
/// joined with the last full tile and the two split evenly (7 -> 4 + 3, 8 -> 4 + 4, 9 -> 5 + 4):
/// a tile of 1 or 2 rows has too few accumulators (2 or 4) to cover the FMA latency and runs at
/// a quarter or half of the peak, one of 4 or 5 at about the peak (m = 128: 20 x 6 + 2 x 4 instead
/// of 21 x 6 + 2). Every row of C is computed the same way whatever tile it is in (same bits).
@inline(__always)
func tileRows(at row: Int, of m: Int) -> Int {
    let left = m &- row
    guard left > 6, left < 10 else { return min(6, left) }
    return (left &+ 1) >> 1
}

/// The microkernel specialization for a row count of 1 to 6.
@inline(__always)
private func rowTile<S: TileSource>(
    _ source: S.Type, rows: Int, width: Int, k: Int,
    _ a: UnsafePointer<Float>, rowStride: Int, _ b: UnsafePointer<Float>, ldb: Int,
    _ c: UnsafeMutablePointer<Float>, ldc: Int, _ epilogue: Epilogue, bias: UnsafePointer<Float>?, at origin: (row: Int, column: Int)
) {
    switch rows {
    case 6: microTile(Rows6.self, S.self, width: width, k: k, a, rowStride: rowStride, b, ldb: ldb, c, ldc: ldc, epilogue, bias: bias, at: origin)
    case 5: microTile(Rows5.self, S.self, width: width, k: k, a, rowStride: rowStride, b, ldb: ldb, c, ldc: ldc, epilogue, bias: bias, at: origin)
    case 4: microTile(Rows4.self, S.self, width: width, k: k, a, rowStride: rowStride, b, ldb: ldb, c, ldc: ldc, epilogue, bias: bias, at: origin)
    case 3: microTile(Rows3.self, S.self, width: width, k: k, a, rowStride: rowStride, b, ldb: ldb, c, ldc: ldc, epilogue, bias: bias, at: origin)
    case 2: microTile(Rows2.self, S.self, width: width, k: k, a, rowStride: rowStride, b, ldb: ldb, c, ldc: ldc, epilogue, bias: bias, at: origin)
    default: microTile(Rows1.self, S.self, width: width, k: k, a, rowStride: rowStride, b, ldb: ldb, c, ldc: ldc, epilogue, bias: bias, at: origin)
    }
}

/// Depth of one K chunk: a packed row tile (6 x 256 floats, 6 KiB) and a panel of B (16 KiB) stay in L1.
let kChunk = 256

/// a[rows, depth] (row stride lda) -> packed[depth, 6], rows interleaved; missing rows are zero.
@inline(__always)
private func packRowTile(_ a: UnsafePointer<Float>, lda: Int, rows: Int, depth: Int, into packed: UnsafeMutablePointer<Float>) {
    for r in 0..<6 {
        if r < rows {
            let source = a + r &* lda
            for i in 0..<depth { packed[i &* 6 &+ r] = source[i] }
        } else {
            for i in 0..<depth { packed[i &* 6 &+ r] = 0 }
        }
    }
}

/// The row count of a microkernel as a type, so that each count is its own specialization with
/// the unused accumulators gone (an integer argument left them in memory when not inlined).
protocol TileRows { static var rows: Int { get } }
/// Where the microkernel reads A: rows adjacent (row r, step i at a[i * rowStride + r]: a packed
/// tile, rowStride 6, or a transposed operand in place) or rows in place (a[r * rowStride + i]).
protocol TileSource { static var packed: Bool { get } }
enum Packed: TileSource { static var packed: Bool { true } }
enum InPlace: TileSource { static var packed: Bool { false } }
enum Rows1: TileRows { static var rows: Int { 1 } }
enum Rows2: TileRows { static var rows: Int { 2 } }
enum Rows3: TileRows { static var rows: Int { 3 } }
enum Rows4: TileRows { static var rows: Int { 4 } }
enum Rows5: TileRows { static var rows: Int { 5 } }
enum Rows6: TileRows { static var rows: Int { 6 } }

/// One tile of up to 6 rows and 16 columns.
@_specialize(where R == Rows6, S == Packed) @_specialize(where R == Rows5, S == Packed) @_specialize(where R == Rows4, S == Packed)
@_specialize(where R == Rows3, S == Packed) @_specialize(where R == Rows2, S == Packed) @_specialize(where R == Rows1, S == Packed)
@_specialize(where R == Rows6, S == InPlace) @_specialize(where R == Rows5, S == InPlace) @_specialize(where R == Rows4, S == InPlace)
@_specialize(where R == Rows3, S == InPlace) @_specialize(where R == Rows2, S == InPlace) @_specialize(where R == Rows1, S == InPlace)
private func microTile<R: TileRows, S: TileSource>(
    _: R.Type, _: S.Type, width: Int, k: Int,
    _ a: UnsafePointer<Float>, rowStride: Int, _ b: UnsafePointer<Float>, ldb: Int,
    _ c: UnsafeMutablePointer<Float>, ldc: Int, _ epilogue: Epilogue, bias: UnsafePointer<Float>?, at origin: (row: Int, column: Int)
) {
    let rows = R.rows
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    var bRow = UnsafeRawPointer(b)
    var aRow = a
    let bStride = ldb &* 4
    // Packed: row r at aRow[r], the tile advances rowStride a step. In place: row r at aRow[r * rowStride].
    let r1 = S.packed ? 1 : rowStride, r2 = S.packed ? 2 : 2 &* rowStride, r3 = S.packed ? 3 : 3 &* rowStride
    let r4 = S.packed ? 4 : 4 &* rowStride, r5 = S.packed ? 5 : 5 &* rowStride
    let step = S.packed ? rowStride : 1
    for _ in 0..<k {
        let b0 = bRow.loadUnaligned(as: SIMD8<Float>.self)
        let b1 = bRow.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        bRow += bStride
        var x = SIMD8<Float>(repeating: aRow[0])
        c00 = c00.addingProduct(x, b0)
        c01 = c01.addingProduct(x, b1)
        if rows > 1 {
            x = SIMD8(repeating: aRow[r1])
            c10 = c10.addingProduct(x, b0)
            c11 = c11.addingProduct(x, b1)
        }
        if rows > 2 {
            x = SIMD8(repeating: aRow[r2])
            c20 = c20.addingProduct(x, b0)
            c21 = c21.addingProduct(x, b1)
        }
        if rows > 3 {
            x = SIMD8(repeating: aRow[r3])
            c30 = c30.addingProduct(x, b0)
            c31 = c31.addingProduct(x, b1)
        }
        if rows > 4 {
            x = SIMD8(repeating: aRow[r4])
            c40 = c40.addingProduct(x, b0)
            c41 = c41.addingProduct(x, b1)
        }
        if rows > 5 {
            x = SIMD8(repeating: aRow[r5])
            c50 = c50.addingProduct(x, b0)
            c51 = c51.addingProduct(x, b1)
        }
        aRow += step
    }
    var bias0 = SIMD8<Float>(), bias1 = SIMD8<Float>()
    if let bias {
        if width == 16 {
            bias0 = UnsafeRawPointer(bias).loadUnaligned(as: SIMD8<Float>.self)
            bias1 = UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        } else {
            bias0 = partialLoad(bias, count: width)
            bias1 = partialLoad(bias + 8, count: width &- 8)
        }
    }
    storeRow(c, c00, c01, width: width, epilogue, bias0, bias1, row: origin.row, column: origin.column)
    if rows > 1 { storeRow(c + ldc, c10, c11, width: width, epilogue, bias0, bias1, row: origin.row &+ 1, column: origin.column) }
    if rows > 2 { storeRow(c + 2 &* ldc, c20, c21, width: width, epilogue, bias0, bias1, row: origin.row &+ 2, column: origin.column) }
    if rows > 3 { storeRow(c + 3 &* ldc, c30, c31, width: width, epilogue, bias0, bias1, row: origin.row &+ 3, column: origin.column) }
    if rows > 4 { storeRow(c + 4 &* ldc, c40, c41, width: width, epilogue, bias0, bias1, row: origin.row &+ 4, column: origin.column) }
    if rows > 5 { storeRow(c + 5 &* ldc, c50, c51, width: width, epilogue, bias0, bias1, row: origin.row &+ 5, column: origin.column) }
}

@inline(__always)
private func storeRow(
    _ c: UnsafeMutablePointer<Float>, _ low0: SIMD8<Float>, _ high0: SIMD8<Float>, width: Int,
    _ epilogue: Epilogue, _ bias0: SIMD8<Float>, _ bias1: SIMD8<Float>, row: Int, column: Int
) {
    let alpha = epilogue.alpha(row: row)
    var low = bias0.addingProduct(low0, alpha)
    var high = bias1.addingProduct(high0, alpha)
    let raw = UnsafeMutableRawPointer(c)
    let added = epilogue.addend(row: row, column: column, own: c)
    if width == 16 {
        if let added {
            let base = UnsafeRawPointer(added)
            low += base.loadUnaligned(as: SIMD8<Float>.self)
            high += base.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        }
        raw.storeBytes(of: low, as: SIMD8<Float>.self)
        raw.storeBytes(of: high, toByteOffset: 32, as: SIMD8<Float>.self)
    } else {
        for j in 0..<width {
            let value = j < 8 ? low[j] : high[j &- 8]
            c[j] = added.map { $0[j] + value } ?? value
        }
    }
}

@inline(__always)
private func partialLoad(_ p: UnsafePointer<Float>, count: Int) -> SIMD8<Float> {
    var v = SIMD8<Float>()
    for j in 0..<max(0, min(8, count)) { v[j] = p[j] }
    return v
}

/// The last, partial panel of an operand that is not padded (values of a head narrower than a
/// multiple of 16): plain loops, for model shapes off the fast path.
private func unpaddedTail(
    _ c: UnsafeMutablePointer<Float>, ldc: Int, _ a: UnsafePointer<Float>, lda: Int, transposedA: Bool,
    _ b: UnsafePointer<Float>, ldb: Int, m: Int, k: Int, width: Int, column: Int, _ epilogue: Epilogue, bias: UnsafePointer<Float>?
) {
    let rowStep = transposedA ? 1 : lda, depthStep = transposedA ? lda : 1
    for r in 0..<m {
        for j in 0..<width {
            var sum: Float = 0
            for i in 0..<k { sum += a[r &* rowStep &+ i &* depthStep] * b[i &* ldb &+ j] }
            let value = epilogue.alpha(row: r) * sum + (bias?[j] ?? 0)
            let out = c + (r &* ldc &+ j)
            out.pointee = epilogue.addend(row: r, column: column &+ j, own: out).map { $0.pointee + value } ?? value
        }
    }
}

/// Packs the rows `first..<first + count` of a row-major [rows, ldm] matrix, columns
/// `column..<column + depth`, as the transposed operand Bᵀ in zero-padded panels: the B of
/// `a · mᵀ` (attention scores of queries against keys). `into` holds ceil(count / 16) · 16 · depth floats.
func packTransposed(
    _ matrix: UnsafePointer<Float>, ldm: Int, rows count: Int, depth: Int,
    into packed: UnsafeMutablePointer<Float>
) -> Panels {
    let panels = (count &+ 15) / 16
    for p in 0..<panels {
        let panel = packed + p &* 16 &* depth
        let first = p &* 16
        let width = min(16, count &- first)
        var j = 0
        // Blocks of 8 rows x 8 columns transposed in registers, 3x fewer instructions than
        // element by element; what is left (depth or rows not a multiple of 8) element by element.
        while j &+ 8 <= width {
            var i = 0
            while i &+ 8 <= depth {
                transpose8x8(matrix + ((first &+ j) &* ldm &+ i), ldm: ldm, into: panel + (i &* 16 &+ j), ldo: 16)
                i &+= 8
            }
            for row in j..<(j &+ 8) {
                let source = matrix + (first &+ row) &* ldm
                for d in i..<depth { panel[d &* 16 &+ row] = source[d] }
            }
            j &+= 8
        }
        while j < width {
            let source = matrix + (first &+ j) &* ldm
            for i in 0..<depth { panel[i &* 16 &+ j] = source[i] }
            j &+= 1
        }
        if width < 16 {
            for i in 0..<depth {
                for j in width..<16 { panel[i &* 16 &+ j] = 0 }
            }
        }
    }
    return Panels(base: packed, panelStride: 16 &* depth, ldb: 16, columns: count, padded: true)
}

/// out[c * ldo + r] = a[r * ldm + c] for r, c < 8: an 8 x 8 block transposed in AVX2 registers
/// (unpack within 128-bit lanes, shuffle pairs, swap lane halves; LLVM turns the lane-picking
/// initializers into vunpck/vshufps/vperm2f128).
@inline(__always)
func transpose8x8(_ a: UnsafePointer<Float>, ldm: Int, into out: UnsafeMutablePointer<Float>, ldo: Int) {
    let raw = UnsafeRawPointer(a)
    @inline(__always) func row(_ r: Int) -> SIMD8<Float> { raw.loadUnaligned(fromByteOffset: r &* ldm &* 4, as: SIMD8<Float>.self) }
    @inline(__always) func low(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { SIMD8(x[0], y[0], x[1], y[1], x[4], y[4], x[5], y[5]) }
    @inline(__always) func high(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { SIMD8(x[2], y[2], x[3], y[3], x[6], y[6], x[7], y[7]) }
    @inline(__always) func even(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { SIMD8(x[0], x[1], y[0], y[1], x[4], x[5], y[4], y[5]) }
    @inline(__always) func odd(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { SIMD8(x[2], x[3], y[2], y[3], x[6], x[7], y[6], y[7]) }
    let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5), r6 = row(6), r7 = row(7)
    let t0 = low(r0, r1), t1 = high(r0, r1), t2 = low(r2, r3), t3 = high(r2, r3)
    let t4 = low(r4, r5), t5 = high(r4, r5), t6 = low(r6, r7), t7 = high(r6, r7)
    let u0 = even(t0, t2), u1 = odd(t0, t2), u2 = even(t1, t3), u3 = odd(t1, t3)
    let u4 = even(t4, t6), u5 = odd(t4, t6), u6 = even(t5, t7), u7 = odd(t5, t7)
    let target = UnsafeMutableRawPointer(out), stride = ldo &* 4
    target.storeBytes(of: SIMD8(lowHalf: u0.lowHalf, highHalf: u4.lowHalf), as: SIMD8<Float>.self)
    target.storeBytes(of: SIMD8(lowHalf: u1.lowHalf, highHalf: u5.lowHalf), toByteOffset: stride, as: SIMD8<Float>.self)
    target.storeBytes(of: SIMD8(lowHalf: u2.lowHalf, highHalf: u6.lowHalf), toByteOffset: 2 &* stride, as: SIMD8<Float>.self)
    target.storeBytes(of: SIMD8(lowHalf: u3.lowHalf, highHalf: u7.lowHalf), toByteOffset: 3 &* stride, as: SIMD8<Float>.self)
    target.storeBytes(of: SIMD8(lowHalf: u0.highHalf, highHalf: u4.highHalf), toByteOffset: 4 &* stride, as: SIMD8<Float>.self)
    target.storeBytes(of: SIMD8(lowHalf: u1.highHalf, highHalf: u5.highHalf), toByteOffset: 5 &* stride, as: SIMD8<Float>.self)
    target.storeBytes(of: SIMD8(lowHalf: u2.highHalf, highHalf: u6.highHalf), toByteOffset: 6 &* stride, as: SIMD8<Float>.self)
    target.storeBytes(of: SIMD8(lowHalf: u3.highHalf, highHalf: u7.highHalf), toByteOffset: 7 &* stride, as: SIMD8<Float>.self)
}

/// Copies the row-major [rows, columns] matrix (row stride `ldm`) into zero-padded panels of 16
/// columns: the B of `a · m` (attention values). Reading values in place with their row stride
/// (1536 floats for poyo_1.3M's q/k/v rows) maps every row to the same two L1 sets; packed, a
/// panel's rows are contiguous. `into` holds ceil(columns / 16) · 16 · rows floats.
func packRows(
    _ matrix: UnsafePointer<Float>, ldm: Int, rows: Int, columns: Int,
    into packed: UnsafeMutablePointer<Float>
) -> Panels {
    let panels = (columns &+ 15) / 16
    for p in 0..<panels {
        let panel = packed + p &* 16 &* rows
        let first = p &* 16
        let width = min(16, columns &- first)
        for r in 0..<rows {
            let source = matrix + (r &* ldm &+ first)
            let target = panel + r &* 16
            if width == 16 {
                let raw = UnsafeRawPointer(source)
                UnsafeMutableRawPointer(target).storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(target).storeBytes(
                    of: raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self), toByteOffset: 32, as: SIMD8<Float>.self)
            } else {
                for j in 0..<16 { target[j] = j < width ? source[j] : 0 }
            }
        }
    }
    return Panels(base: packed, panelStride: 16 &* rows, ldb: 16, columns: columns, padded: true)
}

/// Floats `packTransposed` needs for `rows` rows of `depth` columns.
func packedCount(rows: Int, depth: Int) -> Int { (rows &+ 15) / 16 &* 16 &* depth }
