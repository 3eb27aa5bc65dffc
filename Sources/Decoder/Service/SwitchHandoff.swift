import Foundation
import POYO
import Synchronization

/// A model and session binding loaded and warmed up off the scheduler thread (SIGHUP), with the
/// configuration and model identity they come from.
struct ConfigurationSwitch {
    let model: POYOModel
    let binding: SessionBinding
    let identity: ModelIdentity
    let configuration: DecoderConfiguration
}

/// Carries a switch from the thread that loaded it to the ingest thread, which applies it to its
/// unit map at a point of the message stream (and records it there in the capture log), then to
/// the scheduler, which swaps it in when it reaches that point in the ring (between ticks).
/// So every spike before the switch is decoded with the old unit map and every one after with the
/// new, and a replay of the capture log switches at the same message.
/// (A lock, not `Mutex`: the model is not `Sendable`; each switch is used by one thread at a time.)
final class SwitchHandoff: @unchecked Sendable {
    private let lock = NSLock()
    private var offered: ConfigurationSwitch?
    private var inRing: [ConfigurationSwitch] = []
    /// Read by the ingest thread after every message: a relaxed load, no lock.
    private let hasOffer = Atomic<Bool>(false)

    /// Loading thread: a switch for the ingest to apply (replacing one not applied yet).
    func offer(_ change: ConfigurationSwitch) {
        lock.lock()
        offered = change
        hasOffer.store(true, ordering: .releasing)
        lock.unlock()
    }

    /// Ingest thread: the switch to apply now, if any; it is then queued for the scheduler.
    func takeOffer() -> ConfigurationSwitch? {
        guard hasOffer.load(ordering: .acquiring) else { return nil }
        lock.lock()
        defer { lock.unlock() }
        hasOffer.store(false, ordering: .relaxed)
        guard let change = offered else { return nil }
        offered = nil
        inRing.append(change)
        return change
    }

    /// Scheduler thread, at a `configurationSwitched` ring entry: the switch it marks.
    func takeForScheduler() -> ConfigurationSwitch? {
        lock.lock()
        defer { lock.unlock() }
        return inRing.isEmpty ? nil : inRing.removeFirst()
    }
}
