import Decoder
import Foundation
import Testing

@Suite struct SpikeRingTests {
    @Test func entriesComeOutInOrder() {
        let ring = SpikeRing(capacity: 8)
        var dropped: UInt64 = 0
        #expect(ring.pop(dropped: &dropped) == nil)
        ring.push(.spike(time: 5, unit: 3))
        ring.push(.watermark(time: 9, receivedAt: 123_456_789))
        ring.push(.spike(time: -1, unit: Int32.max))
        ring.push(.sourceStarted(tickRate: 30_000))
        ring.push(.configurationSwitched)
        #expect(ring.pop(dropped: &dropped) == .spike(time: 5, unit: 3))
        #expect(ring.pop(dropped: &dropped) == .watermark(time: 9, receivedAt: 123_456_789))
        #expect(ring.pop(dropped: &dropped) == .spike(time: -1, unit: Int32.max))
        #expect(ring.pop(dropped: &dropped) == .sourceStarted(tickRate: 30_000))
        #expect(ring.pop(dropped: &dropped) == .configurationSwitched)
        #expect(ring.pop(dropped: &dropped) == nil)
        #expect(dropped == 0)
    }

    @Test func overflowDropsTheOldestAndCountsThem() {
        let ring = SpikeRing(capacity: 6)  // rounded up to 8
        #expect(ring.capacity == 8)
        for t in 0..<20 { ring.push(.spike(time: Int64(t), unit: 0)) }
        var dropped: UInt64 = 0
        var times: [Int64] = []
        while let entry = ring.pop(dropped: &dropped) {
            if case .spike(let time, _) = entry { times.append(time) }
        }
        #expect(times == Array(12..<20))
        #expect(dropped == 12)
    }

    /// A producer thread pushing faster than a slow consumer reads: every entry is either read
    /// intact, in order, or counted as dropped.
    @Test func concurrentProducerNeverTearsEntries() async {
        let ring = SpikeRing(capacity: 1024)
        let total = 2_000_000
        let producer = Thread {
            for t in 0..<total { ring.push(.spike(time: Int64(t), unit: Int32(truncatingIfNeeded: t &* 7))) }
            ring.push(.watermark(time: Int64(total), receivedAt: 1))
        }
        producer.start()
        var dropped: UInt64 = 0
        var read = 0
        var last: Int64 = -1
        var finished = false
        while !finished {
            guard let entry = ring.pop(dropped: &dropped) else { continue }
            switch entry {
            case .spike(let time, let unit):
                #expect(time > last)
                #expect(unit == Int32(truncatingIfNeeded: Int(time) &* 7))
                last = time
                read += 1
                if read % 1000 == 0 { usleep(1) }  // a slow consumer, so the ring overflows
            case .watermark(let time, _):
                #expect(time == Int64(total))
                finished = true
            case .sourceStarted, .configurationSwitched:
                Issue.record("only spikes and a watermark were pushed")
            }
        }
        #expect(read > 0)
        #expect(UInt64(read) + dropped == UInt64(total))
    }
}
