#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The systemd notify protocol (sd_notify(3)) without libsystemd: one datagram per state
/// change to the AF_UNIX socket named by $NOTIFY_SOCKET ("@name" is an abstract socket).
/// Without $NOTIFY_SOCKET (not under systemd) every call does nothing.
public final class SystemdNotifier: @unchecked Sendable {
    private let fd: Int32
    private var address = sockaddr_un()
    private let addressLength: socklen_t
    /// Half of $WATCHDOG_USEC: how often `watchdog()` should be called; nil when no watchdog is set.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init)
        let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        watchdogInterval = (usec != nil && pidMatches) ? .microseconds(Int64(usec! / 2)) : nil
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty, path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            fd = -1
            addressLength = 0
            return
        }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
    }

    deinit { if fd >= 0 { close(fd) } }

    public var isActive: Bool { fd >= 0 }

    /// Sends `state` (newline-separated assignments such as "READY=1\nSTATUS=serving").
    /// Returns false when not under systemd or the send failed (never fatal).
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard fd >= 0 else { return false }
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, addressLength) }
            }
        }
        return sent == bytes.count
    }

    public func ready(status: String) { notify("READY=1\nSTATUS=\(status)") }
    public func watchdog() { notify("WATCHDOG=1") }
    public func stopping() { notify("STOPPING=1") }
    public func reloading() { notify("RELOADING=1") }
    public func status(_ text: String) { notify("STATUS=\(text)") }
}
