import Foundation
import Testing

@testable import POYO

/// poyo-rt's matrix product against a float64 reference, on every row remainder (1-6), full,
/// partial, padded and in-place panels, rows packed and read in place, K in one and several
/// chunks, and each epilogue.
@Suite struct PanelGEMMTests {
    struct Shape: CustomStringConvertible, Sendable {
        let m: Int, n: Int, k: Int
        var description: String { "\(m)x\(n)x\(k)" }
    }
    static let shapes = [
        Shape(m: 1, n: 16, k: 1), Shape(m: 5, n: 3, k: 7), Shape(m: 6, n: 16, k: 64), Shape(m: 7, n: 33, k: 9),
        Shape(m: 13, n: 64, k: 130), Shape(m: 128, n: 48, k: 32), Shape(m: 2, n: 90, k: 5),
        // K past one chunk (256), with rows packed (more than 4 panels) and read in place.
        Shape(m: 13, n: 96, k: 600), Shape(m: 7, n: 48, k: 300),
        // Remainders joined with the last full tile (8 -> 4 + 4, 9 -> 5 + 4), rows packed (10 panels) and in place.
        Shape(m: 8, n: 16, k: 3), Shape(m: 9, n: 160, k: 40), Shape(m: 15, n: 20, k: 17),
    ]

    /// Row tiles cover 0..<m exactly, 1 to 6 rows each, with no tile of 1 or 2 rows after a full
    /// one (too few accumulators to cover the FMA latency).
    @Test func rowTilesCoverEveryRowWithoutNarrowTails() {
        for m in 1...40 {
            var row = 0, tiles: [Int] = []
            while row < m {
                let rows = tileRows(at: row, of: m)
                #expect((1...6).contains(rows), "m \(m) at \(row): \(rows) rows")
                tiles.append(rows)
                row += rows
            }
            #expect(row == m, "m \(m): tiles \(tiles)")
            if m > 6 { #expect(tiles.allSatisfy { $0 >= 3 }, "m \(m): tiles \(tiles)") }
        }
    }

    /// A row of C has the same bits whatever tile computes it: each row computed alone (m = 1)
    /// equals that row of the whole product, for weights packed (rows packed, 10 panels), B read
    /// in place and A transposed. (Thread counts split rows differently and must agree bit for bit.)
    @Test(arguments: [7, 8, 9, 13, 128])
    func rowsHaveTheSameBitsInEveryTile(m: Int) {
        var generator = SplitMix64(state: UInt64(m))
        let n = 160, k = 40, lda = k + 1, ldb = n + 3
        let a = uniform(m * lda, &generator), transposed = uniform(k * (m + 2), &generator)
        let weight = uniform(n * k, &generator), b = uniform(k * ldb, &generator)
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: packedCount(rows: n, depth: k))
        let inPlaceB = UnsafeMutablePointer<Float>.allocate(capacity: b.count)
        defer { packed.deallocate(); inPlaceB.deallocate() }
        inPlaceB.initialize(from: b, count: b.count)
        let panels = packTransposed(weight, ldm: k, rows: n, depth: k, into: packed)
        let inPlace = Panels(inPlaceB, ldb: ldb, columns: n)
        for (name, operand, transposedA) in [("packed", panels, false), ("in place", inPlace, false), ("transposed A", inPlace, true)] {
            var whole = [Float](repeating: 0, count: m * n), single = [Float](repeating: 0, count: n)
            let source = transposedA ? transposed : a, ld = transposedA ? m + 2 : lda
            source.withUnsafeBufferPointer { source in
                panelGEMM(&whole, ldc: n, source.baseAddress!, lda: ld, operand, m: m, k: k, transposedA: transposedA)
                for r in 0..<m {
                    panelGEMM(&single, ldc: n, source.baseAddress! + (transposedA ? r : r * lda), lda: ld, operand, m: 1, k: k, transposedA: transposedA)
                    #expect(Array(whole[(r * n)..<((r + 1) * n)]) == single, "\(name), m \(m), row \(r)")
                }
            }
        }
    }

    @Test(arguments: shapes)
    func packedWeightsMatchAReference(shape: Shape) {
        var generator = SplitMix64(state: UInt64(shape.m * 1000 + shape.n * 10 + shape.k))
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let lda = k + 3, ldc = n + 5
        let a = uniform(m * lda, &generator)
        let weight = uniform(n * k, &generator)  // torch layout [n, k]
        let bias = uniform(n, &generator)
        let start = uniform(m * ldc, &generator)
        var packed = [Float](repeating: .nan, count: packedCount(rows: n, depth: k))
        for (alpha, useBias, accumulate) in [(Float(1), false, false), (0.125, true, false), (1, true, true), (0.5, false, true)] {
            var c = start
            packed.withUnsafeMutableBufferPointer { packed in
                let panels = packTransposed(weight, ldm: k, rows: n, depth: k, into: packed.baseAddress!)
                bias.withUnsafeBufferPointer { bias in
                    panelGEMM(&c, ldc: ldc, a, lda: lda, panels, m: m, k: k, Epilogue(alpha: alpha, bias: useBias ? bias.baseAddress : nil, accumulate: accumulate))
                }
            }
            for r in 0..<m {
                for j in 0..<ldc {
                    guard j < n else {
                        #expect(c[r * ldc + j] == start[r * ldc + j], "column \(j) outside the product was written")
                        continue
                    }
                    var sum = 0.0
                    for i in 0..<k { sum += Double(a[r * lda + i]) * Double(weight[j * k + i]) }
                    let expected = Double(alpha) * sum + (useBias ? Double(bias[j]) : 0) + (accumulate ? Double(start[r * ldc + j]) : 0)
                    #expect(abs(Double(c[r * ldc + j]) - expected) < 1e-4 * max(1, Double(k).squareRoot()), "\(shape) [\(r), \(j)]")
                }
            }
        }
    }

    /// The B operand read in place from a row-major [k, n] matrix (attention values), with a
    /// row stride wider than n and a partial last panel computed without reading past it.
    @Test(arguments: shapes)
    func inPlaceOperandMatchesAReference(shape: Shape) {
        var generator = SplitMix64(state: UInt64(shape.k * 7 + shape.n))
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let ldb = n + 2
        let a = uniform(m * k, &generator)
        let b = uniform(k * ldb, &generator)
        var c = [Float](repeating: 0, count: m * n)
        b.withUnsafeBufferPointer { b in
            panelGEMM(&c, ldc: n, a, lda: k, Panels(b.baseAddress!, ldb: ldb, columns: n), m: m, k: k)
        }
        for r in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for i in 0..<k { sum += Double(a[r * k + i]) * Double(b[i * ldb + j]) }
                #expect(abs(Double(c[r * n + j]) - sum) < 1e-4 * max(1, Double(k).squareRoot()), "\(shape) [\(r), \(j)]")
            }
        }
    }

    /// The A operand stored transposed ([k, m], row stride wider than m) and read in place, with
    /// an accumulating store, on full and partial panels (the encoder's weights times values).
    @Test(arguments: shapes)
    func transposedOperandMatchesAReference(shape: Shape) {
        var generator = SplitMix64(state: UInt64(shape.m * 31 + shape.k * 3 + shape.n))
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let lda = m + 3, ldb = n + 1
        let a = uniform(k * lda, &generator)
        let b = uniform(k * ldb, &generator)
        let start = uniform(m * n, &generator)
        var c = start
        b.withUnsafeBufferPointer { b in
            panelGEMM(&c, ldc: n, a, lda: lda, Panels(b.baseAddress!, ldb: ldb, columns: n), m: m, k: k, Epilogue(alpha: 0.5, accumulate: true), transposedA: true)
        }
        for r in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for i in 0..<k { sum += Double(a[i * lda + r]) * Double(b[i * ldb + j]) }
                let expected = 0.5 * sum + Double(start[r * n + j])
                #expect(abs(Double(c[r * n + j]) - expected) < 1e-4 * max(1, Double(k).squareRoot()), "\(shape) [\(r), \(j)]")
            }
        }
    }
}

extension PanelGEMMTests {
    /// The epilogue's per-row parts: a gathered row added under each row of C (the encoder's slot
    /// scores) and a per-row scale (softmax normalization), against a float64 reference, with B
    /// read in place (a partial last panel computed apart) and packed (zero-padded); rows of C
    /// past m and columns past n untouched.
    @Test(arguments: shapes)
    func gatheredRowsAndRowScales(shape: Shape) {
        var generator = SplitMix64(state: UInt64(shape.m * 17 + shape.n * 5 + shape.k))
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let ldc = n + 3, sourceRows = 5, sourceStride = n + 7
        let a = uniform(m * k, &generator)
        let b = uniform(k * n, &generator)
        let source = uniform(sourceRows * sourceStride, &generator)
        let index = (0..<m).map { _ in Int32.random(in: 0..<Int32(sourceRows), using: &generator) }
        let scales = uniform(m, &generator)
        let start = uniform((m + 1) * ldc, &generator)
        let transposedB = (0..<(n * k)).map { b[($0 % k) * n + $0 / k] }  // [n, k]
        var packedB = [Float](repeating: .nan, count: packedCount(rows: n, depth: k))
        let packedPanels = packedB.withUnsafeMutableBufferPointer { packTransposed(transposedB, ldm: k, rows: n, depth: k, into: $0.baseAddress!) }
        for (gathered, packed) in [(false, false), (true, false), (false, true), (true, true)] {
            var c = start
            source.withUnsafeBufferPointer { source in
                index.withUnsafeBufferPointer { index in
                    scales.withUnsafeBufferPointer { scales in
                        b.withUnsafeBufferPointer { b in
                            let epilogue = gathered
                                ? Epilogue(alpha: 0.25, gathered: GatheredRows(base: source.baseAddress!, index: index.baseAddress!, stride: sourceStride))
                                : Epilogue(rowScale: scales.baseAddress!)
                            packedB.withUnsafeBufferPointer { packedB in
                                let panels = packed
                                    ? Panels(base: packedB.baseAddress!, panelStride: packedPanels.panelStride, ldb: 16, columns: n, padded: true)
                                    : Panels(b.baseAddress!, ldb: n, columns: n)
                                panelGEMM(&c, ldc: ldc, a, lda: k, panels, m: m, k: k, epilogue)
                            }
                        }
                    }
                }
            }
            for r in 0...m {
                for j in 0..<ldc {
                    guard r < m, j < n else {
                        #expect(c[r * ldc + j] == start[r * ldc + j], "[\(r), \(j)] outside the product was written")
                        continue
                    }
                    var sum = 0.0
                    for i in 0..<k { sum += Double(a[r * k + i]) * Double(b[i * n + j]) }
                    let expected = gathered
                        ? 0.25 * sum + Double(source[Int(index[r]) * sourceStride + j])
                        : Double(scales[r]) * sum
                    #expect(abs(Double(c[r * ldc + j]) - expected) < 1e-4 * max(1, Double(k).squareRoot()), "\(shape) [\(r), \(j)] gathered \(gathered) packed \(packed)")
                }
            }
        }
    }

    /// packTransposed copies exactly (8 x 8 register blocks, and element by element where rows or
    /// depth are not a multiple of 8), from a matrix wider than the packed depth, zero padding
    /// the last panel.
    @Test(arguments: [(16, 64), (33, 9), (8, 8), (7, 15), (40, 24), (130, 17)])
    func packTransposedIsAnExactTranspose(rows: Int, depth: Int) {
        var generator = SplitMix64(state: UInt64(rows * 100 + depth))
        let ldm = depth + 5
        let matrix = uniform(rows * ldm, &generator)
        var packed = [Float](repeating: .nan, count: packedCount(rows: rows, depth: depth))
        let panels = packed.withUnsafeMutableBufferPointer { packTransposed(matrix, ldm: ldm, rows: rows, depth: depth, into: $0.baseAddress!) }
        #expect(panels.columns == rows && panels.padded)
        for p in 0..<((rows + 15) / 16) {
            for i in 0..<depth {
                for j in 0..<16 {
                    let row = p * 16 + j
                    let value = packed[p * 16 * depth + i * 16 + j]
                    #expect(value == (row < rows ? matrix[row * ldm + i] : 0), "panel \(p) [\(i), \(j)]")
                }
            }
        }
    }
}

/// `count` floats uniform in [-1, 1) from `generator`: a test operand.
private func uniform(_ count: Int, _ generator: inout SplitMix64) -> [Float] {
    (0..<count).map { _ in Float.random(in: -1..<1, using: &generator) }
}
