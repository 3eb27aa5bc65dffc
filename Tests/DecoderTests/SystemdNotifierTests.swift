#if canImport(Glibc)
import Glibc
#endif
import Decoder
import Foundation
import Testing

/// The notify protocol against a fake NOTIFY_SOCKET: a datagram socket this test binds.
@Suite struct SystemdNotifierTests {
    private func receive(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    private func bindDatagramSocket(path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        #expect(result == 0, "bind \(path): \(String(cString: strerror(errno)))")
        return fd
    }

    @Test(arguments: ["path", "abstract"])
    func readyWatchdogAndStoppingArrive(kind: String) throws {
        let path = kind == "path" ? Fixtures.temporaryPath("notify-\(UInt32.random(in: 0...UInt32.max)).sock") : "@poyo-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let server = bindDatagramSocket(path: path)
        defer { close(server); if kind == "path" { unlink(path) } }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"])
        #expect(notifier.isActive)
        #expect(notifier.watchdogInterval == .seconds(1))
        notifier.ready(status: "serving demo")
        #expect(receive(server) == "READY=1\nSTATUS=serving demo")
        notifier.watchdog()
        #expect(receive(server) == "WATCHDOG=1")
        notifier.stopping()
        #expect(receive(server) == "STOPPING=1")
    }

    @Test func withoutSystemdNothingHappens() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isActive)
        #expect(notifier.watchdogInterval == nil)
        #expect(notifier.notify("READY=1") == false)
    }

    @Test func aWatchdogForAnotherProcessIsIgnored() {
        let notifier = SystemdNotifier(environment: ["WATCHDOG_USEC": "100", "WATCHDOG_PID": "1"])
        #expect(notifier.watchdogInterval == nil)
    }
}
