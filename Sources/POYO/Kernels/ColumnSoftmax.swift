/// The softmax of scores kept transposed, [keys, queries] row-major: each query's maximum and sum
/// are column operations over whole rows of keys, vectorized across queries (`attentionForward`,
/// `slotAttentionForward`).

/// maxima[c] = max over rows of x[r, c], x [rows, columns] row-major.
func columnMaxima(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into maxima: UnsafeMutablePointer<Float>) {
    let raw = UnsafeRawPointer(x)
    var c = 0
    while c &+ 16 <= columns {
        var a0 = SIMD8<Float>(repeating: -.infinity), a1 = a0, b0 = a0, b1 = a0
        var r = 0
        while r &+ 2 <= rows {
            let offset = (r &* columns &+ c) &* 4
            let x0 = raw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let x1 = raw.loadUnaligned(fromByteOffset: offset &+ 32, as: SIMD8<Float>.self)
            let y0 = raw.loadUnaligned(fromByteOffset: offset &+ columns &* 4, as: SIMD8<Float>.self)
            let y1 = raw.loadUnaligned(fromByteOffset: offset &+ columns &* 4 &+ 32, as: SIMD8<Float>.self)
            a0 = a0.replacing(with: x0, where: x0 .> a0)
            a1 = a1.replacing(with: x1, where: x1 .> a1)
            b0 = b0.replacing(with: y0, where: y0 .> b0)
            b1 = b1.replacing(with: y1, where: y1 .> b1)
            r &+= 2
        }
        if r < rows {
            let offset = (r &* columns &+ c) &* 4
            let x0 = raw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let x1 = raw.loadUnaligned(fromByteOffset: offset &+ 32, as: SIMD8<Float>.self)
            a0 = a0.replacing(with: x0, where: x0 .> a0)
            a1 = a1.replacing(with: x1, where: x1 .> a1)
        }
        a0 = a0.replacing(with: b0, where: b0 .> a0)
        a1 = a1.replacing(with: b1, where: b1 .> a1)
        UnsafeMutableRawPointer(maxima + c).storeBytes(of: a0, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(maxima + c).storeBytes(of: a1, toByteOffset: 32, as: SIMD8<Float>.self)
        c &+= 16
    }
    while c < columns {
        var best = -Float.infinity
        for r in 0..<rows { best = max(best, x[r &* columns &+ c]) }
        maxima[c] = best
        c &+= 1
    }
}

/// x[r, c] = exp(x[r, c] - maxima[c]); sums[c] += Σ_r x[r, c]; with `aggregated`,
/// aggregated[slotOfRow[r], c] += x[r, c].
func exponentiateColumns(
    _ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, maxima: UnsafePointer<Float>, sums: UnsafeMutablePointer<Float>,
    aggregated: UnsafeMutablePointer<Float>? = nil, slotOfRow: UnsafePointer<Int32>? = nil
) {
    if let aggregated, let slotOfRow {
        exponentiateStripes(x, rows: rows, columns: columns, maxima: maxima, sums: sums, aggregated: aggregated, slotOfRow: slotOfRow)
    } else {
        exponentiateStripes(x, rows: rows, columns: columns, maxima: maxima, sums: sums, aggregated: nil, slotOfRow: nil)
    }
}

/// `exponentiateColumns` with or without `aggregated`, each its own loop (inlined twice).
@inline(__always)
private func exponentiateStripes(
    _ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, maxima: UnsafePointer<Float>, sums: UnsafeMutablePointer<Float>,
    aggregated: UnsafeMutablePointer<Float>?, slotOfRow: UnsafePointer<Int32>?
) {
    let raw = UnsafeMutableRawPointer(x)
    var c = 0
    while c &+ 16 <= columns {
        let m0 = UnsafeRawPointer(maxima + c).loadUnaligned(as: SIMD8<Float>.self)
        let m1 = UnsafeRawPointer(maxima + c).loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        for r in 0..<rows {
            let offset = (r &* columns &+ c) &* 4
            let p0 = vectorExp(raw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) - m0)
            let p1 = vectorExp(raw.loadUnaligned(fromByteOffset: offset &+ 32, as: SIMD8<Float>.self) - m1)
            raw.storeBytes(of: p0, toByteOffset: offset, as: SIMD8<Float>.self)
            raw.storeBytes(of: p1, toByteOffset: offset &+ 32, as: SIMD8<Float>.self)
            s0 += p0
            s1 += p1
            if let aggregated, let slotOfRow {
                let slot = UnsafeMutableRawPointer(aggregated + (Int(slotOfRow[r]) &* columns &+ c))
                slot.storeBytes(of: slot.loadUnaligned(as: SIMD8<Float>.self) + p0, as: SIMD8<Float>.self)
                slot.storeBytes(of: slot.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) + p1, toByteOffset: 32, as: SIMD8<Float>.self)
            }
        }
        let sum = UnsafeMutableRawPointer(sums + c)
        sum.storeBytes(of: sum.loadUnaligned(as: SIMD8<Float>.self) + s0, as: SIMD8<Float>.self)
        sum.storeBytes(of: sum.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) + s1, toByteOffset: 32, as: SIMD8<Float>.self)
        c &+= 16
    }
    while c < columns {
        var sum: Float = 0
        for r in 0..<rows {
            let p = vectorExp(SIMD8(repeating: x[r &* columns &+ c] - maxima[c]))[0]
            x[r &* columns &+ c] = p
            sum += p
            if let aggregated, let slotOfRow { aggregated[Int(slotOfRow[r]) &* columns &+ c] += p }
        }
        sums[c] += sum
        c &+= 1
    }
}
