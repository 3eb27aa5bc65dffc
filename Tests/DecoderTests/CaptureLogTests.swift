@testable import Decoder
import Foundation
import Testing

@Suite struct CaptureLogTests {
    let records: [CaptureRecord] = [
        .session(configuration: "model: m.safetensors\nsession: s\n", model: ModelIdentity(path: "m.safetensors", size: 123, crc32: 0xDEAD_BEEF), monotonicNS: 1),
        .received(frames: [Array("spikes".utf8), [1, 2, 3], []], monotonicNS: 2),
        .published(frames: [Array("output/cursor_velocity_2d".utf8), Array(repeating: 7, count: 1000)], monotonicNS: 3),
    ]

    private func written(_ name: String) throws -> String {
        let path = Fixtures.temporaryPath(name)
        try? FileManager.default.removeItem(atPath: path)
        let log = try CaptureLog(path: path, flushInterval: .milliseconds(1))
        for record in records { log.append(record) }
        log.close()
        return path
    }

    @Test func recordsReadBackInOrder() throws {
        let reader = try CaptureReader(path: try written("roundtrip.cap"))
        #expect(reader.records == records)
        #expect(reader.trailingBytes == 0)
        #expect(reader.end == .complete && reader.endDescription == nil)
    }

    @Test func appendingToAnExistingLogKeepsOneMagic() throws {
        let path = try written("append.cap")
        let again = try CaptureLog(path: path)
        again.append(records[1])
        again.close()
        #expect(try CaptureReader(path: path).records == records + [records[1]])
    }

    /// A log cut anywhere (a kill -9 during a write) reads back up to its last complete record.
    @Test func aTruncatedLogReadsUpToTheLastCompleteRecord() throws {
        let path = try written("cut.cap")
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        var complete: [Int] = []
        // Where each record ends: a cut there leaves a complete log, anywhere else a partial record.
        var boundaries = [8]
        for record in records { boundaries.append(boundaries.last! + CaptureCodec.encode(record).count) }
        for cut in stride(from: 8, through: full.count, by: 1) {
            let truncated = Fixtures.temporaryPath("cut-part.cap")
            try full.prefix(cut).write(to: URL(fileURLWithPath: truncated))
            let reader = try CaptureReader(path: truncated)
            #expect(reader.records == Array(records.prefix(reader.records.count)))
            complete.append(reader.records.count)
            if cut == full.count { #expect(reader.trailingBytes == 0) }
            let start = boundaries[reader.records.count]
            #expect(reader.fileBytes == cut && reader.trailingBytes == cut - start)
            if boundaries.contains(cut) {
                #expect(reader.end == .complete && reader.endDescription == nil)
            } else {
                #expect(reader.end == .insideRecord(offset: start))
                #expect(reader.endDescription?.hasPrefix("ends inside a record at byte \(start) (its last \(cut - start) of \(cut) bytes") == true)
            }
        }
        #expect(complete.first == 0 && complete.last == records.count)
        #expect(complete == complete.sorted())
    }

    @Test func aDamagedRecordEndsTheReadableLog() throws {
        let path = try written("damaged.cap")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 10] ^= 0xFF  // inside the last record
        try bytes.write(to: URL(fileURLWithPath: path))
        let reader = try CaptureReader(path: path)
        #expect(reader.records == Array(records.prefix(2)))
        #expect(reader.trailingBytes > 0)
        let offset = bytes.count - reader.trailingBytes
        #expect(reader.end == .damagedRecord(offset: offset))
        #expect(reader.endDescription?.hasPrefix("has a damaged record at byte \(offset)") == true)
    }

    /// A log cut before its first session record is complete cannot be replayed, and says why.
    @Test func aLogCutInsideItsFirstRecordIsRefusedWithWhere() throws {
        let path = try written("first.cap")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(20).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try CaptureReplay(path: path)
        } throws: { error in
            "\(error)".contains("ends inside a record at byte 8") && "\(error)".contains("before any complete session record")
        }
    }

    @Test func aForeignFileIsRefused() throws {
        let path = Fixtures.temporaryPath("foreign.cap")
        try Data("hello world".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ConfigurationError.self) { try CaptureReader(path: path) }
    }

    @Test func aWriterThatFallsBehindDropsAndCountsRecordsInsteadOfGrowing() throws {
        let path = Fixtures.temporaryPath("bounded.cap")
        try? FileManager.default.removeItem(atPath: path)
        // The writer never gets to run before close: only what fits in 2500 bytes is kept.
        let log = try CaptureLog(path: path, flushInterval: .seconds(60), maxPendingBytes: 2_500)
        for _ in 0..<5 { log.append(records[2]) }  // about 1040 bytes each
        #expect(log.droppedRecords == 3)
        log.close()
        #expect(try CaptureReader(path: path).records == [records[2], records[2]])
    }
}
