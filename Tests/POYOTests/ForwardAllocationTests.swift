import CAllocationCounter
import POYO
import Testing

/// Issue 8: "the forward pass allocates nothing". Once a model has seen its largest window, a
/// forward pass makes no heap allocation on the calling thread (every thread count runs the same
/// code in its regions; the caller runs its share of each), smaller windows and a cached start/end
/// state included. Counted by the interposed allocator of the test binary (`CAllocationCounter`).
@Suite struct ForwardAllocationTests {
    @Test(arguments: [1, 2])
    func steadyStateForwardAllocatesNothing(threads: Int) throws {
        let model = try POYOModel(path: Fixtures.model("poyo_1p3m"), threads: threads)
        let window = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyo_1p3m")))
        var fewer = window
        fewer.inputUnitIndex.removeLast(700)
        fewer.inputTimestamps.removeLast(700)
        fewer.inputTokenType.removeLast(700)
        var output = ModelOutput(specs: model.description.readouts)
        for _ in 0..<2 {
            try model.forward(window, into: &output)
            try model.forward(fewer, into: &output)
        }
        let before = poyo_allocations()
        poyo_count_allocations(1)
        for _ in 0..<3 {
            try model.forward(fewer, into: &output)
            try model.forward(window, into: &output)
        }
        poyo_count_allocations(0)
        #expect(poyo_allocations() - before == 0, "heap allocations in 6 steady-state forward passes")
        #expect(!output.readouts[0].values.isEmpty)
    }

    /// The counter counts: a fresh array does allocate (so the test above can fail).
    @Test func theCounterSeesAnAllocation() {
        let before = poyo_allocations()
        poyo_count_allocations(1)
        let array = [Int](repeating: 7, count: 1000 + Int(before % 2))
        poyo_count_allocations(0)
        #expect(array.count > 999)
        #expect(poyo_allocations() - before >= 1)
    }
}
