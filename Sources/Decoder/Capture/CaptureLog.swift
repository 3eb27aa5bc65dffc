#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Synchronization

/// Appends capture records to a file without blocking the threads that produce them: records
/// are encoded into a shared buffer under a lock, and a writer thread hands the buffer to
/// write(2) every `flushInterval`. Each record carries its length and CRC, so after a kill -9
/// the file reads back up to its last complete record (`CaptureReader`).
///
/// The buffer is bounded (`maxPendingBytes`): when the disk cannot keep up, records that would
/// overflow it are not written and are counted (`droppedRecords`, the daemon's `capture_dropped`);
/// the daemon's memory does not grow with a slow disk.
public final class CaptureLog: @unchecked Sendable {
    /// The default bound of bytes waiting for the writer: 64 MiB (about 85 maximum-size batches,
    /// or a minute of a 200-unit rig's 1 ms batches).
    public static let defaultMaxPendingBytes = 64 << 20
    public let path: String
    private let fd: Int32
    private let pending = Mutex<[UInt8]>([])
    private let stopping = Atomic<Bool>(false)
    private let writtenBytes = Atomic<UInt64>(0)
    private let failures = Atomic<UInt64>(0)
    private let dropped = Atomic<UInt64>(0)
    private var writer: Thread?
    /// Ends the writer's wait early at close.
    private let wake = DispatchSemaphore(value: 0)
    private let flushInterval: Duration
    public let maxPendingBytes: Int

    public init(path: String, flushInterval: Duration = .milliseconds(20), maxPendingBytes: Int = CaptureLog.defaultMaxPendingBytes) throws(ConfigurationError) {
        self.path = path
        self.flushInterval = flushInterval
        self.maxPendingBytes = maxPendingBytes
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ConfigurationError("capture log \(path): cannot open: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_size == 0 {
            pending.withLock { $0.append(contentsOf: CaptureCodec.fileMagic) }
        }
        let thread = Thread { [unowned self] in self.runWriter() }
        thread.name = "poyo-capture"
        writer = thread
        thread.start()
    }

    deinit { Glibc.close(fd) }

    /// Bytes handed to the file so far, and write failures (counted, never fatal).
    public var bytesWritten: UInt64 { writtenBytes.load(ordering: .relaxed) }
    public var writeFailures: UInt64 { failures.load(ordering: .relaxed) }
    /// Records not written because `maxPendingBytes` were already waiting for the disk.
    public var droppedRecords: UInt64 { dropped.load(ordering: .relaxed) }

    public func append(_ record: CaptureRecord) {
        let bytes = CaptureCodec.encode(record)
        let kept = pending.withLock { pending -> Bool in
            guard pending.count + bytes.count <= maxPendingBytes else { return false }
            pending.append(contentsOf: bytes)
            return true
        }
        if !kept { dropped.add(1, ordering: .relaxed) }
    }

    /// Writes what is pending, fsyncs, and stops the writer thread (graceful stop).
    public func close() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
        while writer?.isFinished == false { usleep(1000) }
        flush()
        fsync(fd)
    }

    private func runWriter() {
        nameCurrentThread("poyo-capture")
        let seconds = Double(flushInterval.components.attoseconds) / 1e18 + Double(flushInterval.components.seconds)
        while !stopping.load(ordering: .acquiring) {
            _ = wake.wait(timeout: .now() + seconds)
            flush()
        }
    }

    private func flush() {
        let bytes = pending.withLock { pending -> [UInt8] in
            let taken = pending
            pending.removeAll(keepingCapacity: true)
            return taken
        }
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failures.add(1, ordering: .relaxed)
                    return
                }
                offset += n
            }
            writtenBytes.add(UInt64(buffer.count), ordering: .relaxed)
        }
    }
}

/// Reads a capture log: every complete record in order, and whether the file ended with an
/// incomplete or damaged record (what a kill -9 mid-write leaves).
public struct CaptureReader {
    /// How the readable part of a log ends.
    public enum End: Equatable, Sendable {
        /// At the end of the file, after a complete record (a cleanly closed log, or one cut between records).
        case complete
        /// The file ends inside the record that starts at byte `offset` (a kill -9 during a write).
        case insideRecord(offset: Int)
        /// The record at byte `offset` is damaged (its CRC does not match, its length is impossible,
        /// or its contents do not decode); nothing from there on is read.
        case damagedRecord(offset: Int)
    }

    public let records: [CaptureRecord]
    /// Bytes after the last complete record (0 for a cleanly closed log).
    public let trailingBytes: Int
    /// The file's size in bytes.
    public let fileBytes: Int
    public let end: End

    public init(path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("capture log \(path): cannot read")
        }
        let bytes = [UInt8](data)
        guard bytes.starts(with: CaptureCodec.fileMagic) else {
            throw ConfigurationError("capture log \(path): not a poyo-rt capture log (no PYRTCAP1 magic)")
        }
        var records: [CaptureRecord] = []
        var offset = CaptureCodec.fileMagic.count
        var end = End.complete
        while offset < bytes.count {
            guard bytes.count - offset >= CaptureCodec.recordHeaderSize else {
                end = .insideRecord(offset: offset)
                break
            }
            var header = ByteReader(bytes: bytes[offset..<(offset + CaptureCodec.recordHeaderSize)])
            let length = Int(header.u32()!), crc = header.u32()!
            let bodyStart = offset + CaptureCodec.recordHeaderSize
            guard length <= CaptureCodec.maxBodySize else {
                end = .damagedRecord(offset: offset)
                break
            }
            guard bytes.count - bodyStart >= length else {
                end = .insideRecord(offset: offset)
                break
            }
            let body = bytes[bodyStart..<(bodyStart + length)]
            guard body.withUnsafeBytes({ CRC32.checksum($0) }) == crc, let record = CaptureCodec.decodeBody(body) else {
                end = .damagedRecord(offset: offset)
                break
            }
            records.append(record)
            offset = bodyStart + length
        }
        self.records = records
        self.end = end
        fileBytes = bytes.count
        trailingBytes = bytes.count - offset
    }

    /// Where and why the readable part ends early ("ends inside a record at byte N (...)"); nil
    /// for a complete log.
    public var endDescription: String? {
        switch end {
        case .complete:
            return nil
        case .insideRecord(let offset):
            return "ends inside a record at byte \(offset) (its last \(trailingBytes) of \(fileBytes) bytes are a partial record, as a kill during a write leaves)"
        case .damagedRecord(let offset):
            return "has a damaged record at byte \(offset) (its CRC or contents do not check; the last \(trailingBytes) of \(fileBytes) bytes are not read)"
        }
    }
}
