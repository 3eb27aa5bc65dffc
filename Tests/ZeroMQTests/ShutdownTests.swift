import Foundation
import Synchronization
import Testing
import ZeroMQ

/// How the daemon stops its socket threads: `ZMQContext.shutdown()` from another thread makes a
/// blocked receive throw `ETERM`; the owning thread closes its socket and returns.
@Suite struct ShutdownTests {
    @Test func shutdownWakesAThreadBlockedInReceive() throws {
        let context = try ZMQContext()
        let outcome = Mutex<String>("not finished")
        let bound = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { finished.signal() }
            do {
                // The socket is made, used and closed on this thread only.
                let socket = try ZMQSocket(context, type: .subscriber)
                try socket.subscribe()
                try socket.bind("inproc://shutdown-test")
                bound.signal()
                var message = ZMQMultipartMessage()
                _ = try socket.receive(into: &message)  // no timeout: only shutdown ends this
                outcome.withLock { $0 = "received a message" }
            } catch let error as ZMQError {
                outcome.withLock { $0 = error.isTerminated ? "terminated" : "\(error)" }
            } catch {
                outcome.withLock { $0 = "\(error)" }
            }
        }
        thread.start()
        #expect(bound.wait(timeout: .now() + 30) == .success)
        context.shutdown()
        // Generous: a broken shutdown fails here instead of hanging the test run.
        #expect(finished.wait(timeout: .now() + 30) == .success)
        #expect(outcome.withLock { $0 } == "terminated")
    }
}
