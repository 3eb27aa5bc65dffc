import Decoder
import Foundation
import Testing

/// `realtime_priority`, `busy_poll` and `model_cpu` as an integer or a list: read, printed,
/// refused when out of range or together, fixed at start, and the start-up probe of SCHED_FIFO.
@Suite struct RealtimeConfigurationTests {
    @Test func anIntegerModelCPUPinsTheSchedulerThreadAlone() throws {
        let configuration = try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nthreads: 2\nmodel_cpu: 3\n")
        try configuration.validate()
        #expect(configuration.modelCPU == [3])
        #expect(configuration.schedulerCPU == 3)
        #expect(configuration.modelThreadCPUs.isEmpty)
        let printed = try configuration.yaml()
        #expect(printed.contains("model_cpu: 3\n"), "\(printed)")
        #expect(!printed.contains("realtime_priority"), "\(printed)")
        #expect(try DecoderConfiguration.parse(yaml: printed) == configuration)
    }

    @Test(arguments: [
        (2, [0, 1], [0, 1]),
        (3, [0, 1, 2], [0, 1, 2]),
        (4, [0, 1, 2], [0, 1, 2, 1]),
        (3, [5, 7], [5, 7, 7]),
    ])
    func aModelCPUListPutsTheWorkersOnTheOtherCPUs(threads: Int, cpus: [Int], expected: [Int]) throws {
        let list = cpus.map(String.init).joined(separator: ", ")
        let configuration = try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nthreads: \(threads)\nmodel_cpu: [\(list)]\n")
        try configuration.validate()
        #expect(configuration.modelCPU == cpus)
        #expect(configuration.schedulerCPU == cpus[0])
        // POYOModel(cpus:) puts thread i on element i % count: the scheduler thread on cpus[0],
        // worker i on cpus[1 + (i - 1) % (count - 1)].
        #expect(configuration.modelThreadCPUs == expected)
        let printed = try configuration.yaml()
        #expect(printed.contains("model_cpu:\n" + cpus.map { "- \($0)\n" }.joined()), "\(printed)")
        #expect(try DecoderConfiguration.parse(yaml: printed) == configuration)
    }

    @Test func realtimePriorityIsReadAndPrinted() throws {
        let configuration = try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nrealtime_priority: 10\n")
        try configuration.validate()
        #expect(configuration.realtimePriority == 10)
        let printed = try configuration.yaml()
        #expect(printed.contains("realtime_priority: 10\n"), "\(printed)")
        #expect(try DecoderConfiguration.parse(yaml: printed) == configuration)
        #expect(try DecoderConfiguration.parse(yaml: "model: m\nsession: s\n").realtimePriority == nil)
    }

    @Test func busyPollIsReadPrintedAndFixedAtStart() throws {
        let configuration = try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nthreads: 2\nbusy_poll: true\n")
        try configuration.validate()
        #expect(configuration.busyPoll)
        let printed = try configuration.yaml()
        #expect(printed.contains("busy_poll: true\n"), "\(printed)")
        #expect(try DecoderConfiguration.parse(yaml: printed) == configuration)
        let plain = try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nthreads: 2\n")
        #expect(!plain.busyPoll)
        #expect(configuration.fixedFieldsDiffering(from: plain) == ["busy_poll"])
    }

    @Test func encodeAheadIsOnByDefaultReadPrintedAndFixedAtStart() throws {
        let plain = try DecoderConfiguration.parse(yaml: "model: m\nsession: s\n")
        #expect(plain.encodeAhead)
        let off = try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nencode_ahead: false\n")
        try off.validate()
        #expect(!off.encodeAhead)
        let printed = try off.yaml()
        #expect(printed.contains("encode_ahead: false\n"), "\(printed)")
        #expect(try DecoderConfiguration.parse(yaml: printed) == off)
        #expect(off.fixedFieldsDiffering(from: plain) == ["encode_ahead"])
        let error = #expect(throws: ConfigurationError.self) { try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nencode_ahead: sometimes\n") }
        #expect(error?.description.contains("field 'encode_ahead'") == true, "\(String(describing: error))")
    }

    @Test(arguments: [
        ("busy_poll: yes please\n", "field 'busy_poll'"),
        ("busy_pol: true\n", "unknown field 'busy_pol': did you mean 'busy_poll'?"),
        ("busy_poll: [true]\n", "field 'busy_poll': expected a single value (found a list)"),
        // Spinning SCHED_FIFO threads would starve libzmq's I/O thread and the rig on their CPUs.
        ("busy_poll: true\nrealtime_priority: 10\n", "busy_poll with realtime_priority 10: model threads spinning under SCHED_FIFO would starve"),
        ("realtime_priority: 0\n", "realtime_priority is 0: it must be 1 to 99"),
        ("realtime_priority: 100\n", "realtime_priority is 100: it must be 1 to 99"),
        ("realtime_priority: -5\n", "realtime_priority is -5: it must be 1 to 99"),
        ("realtime_priority: high\n", "field 'realtime_priority': expected an integer (found 'high')"),
        ("realtime_priorty: 10\n", "unknown field 'realtime_priorty': did you mean 'realtime_priority'?"),
        ("model_cpus: [0, 1]\n", "unknown field 'model_cpus': did you mean 'model_cpu'?"),
        ("model_cpu: -1\n", "model_cpu is -1: CPUs are numbered from 0"),
        ("model_cpu: [0, -1]\n", "model_cpu is [0, -1]: CPUs are numbered from 0"),
        ("model_cpu: []\n", "model_cpu is []: give a CPU number, or a list of them"),
        ("model_cpu: [0, one]\n", "field 'model_cpu': expected a CPU number or a list of them"),
        ("model_cpu: {a: 1}\n", "field 'model_cpu': expected a CPU number or a list of them"),
        ("ingest_cpu: -2\n", "ingest_cpu is -2: CPUs are numbered from 0"),
    ])
    func badValuesAreRefusedByName(yaml: String, message: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try DecoderConfiguration.parse(yaml: "model: m\nsession: s\n" + yaml).validate()
        }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "no error")")
    }

    /// A range error names its field, and `location(of:inYAML:)` finds that field's value in the
    /// file (`poyo serve --config` then says where: "F: line L, column C: ...").
    @Test func aRangeErrorNamesItsFieldAndTheFileSaysWhere() throws {
        let text = "model: m\nsession: s\nthreads: 2\nspikes:\n  address: \"tcp://127.0.0.1:5\"\nrealtime_priority: 120\n"
        let error = #expect(throws: ConfigurationError.self) { try DecoderConfiguration.parse(yaml: text).validate() }
        #expect(error?.field == "realtime_priority")
        #expect(DecoderConfiguration.location(of: "realtime_priority", inYAML: text) == "line 6, column 20")
        #expect(DecoderConfiguration.location(of: "spikes.address", inYAML: text) == "line 5, column 12")
        #expect(DecoderConfiguration.location(of: "hop", inYAML: text) == nil, "a field the file does not give")
        #expect(DecoderConfiguration.location(of: "hop", inYAML: "hop: [") == nil, "a file that does not parse")
        let spikes = #expect(throws: ConfigurationError.self) {
            try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nspikes: {address: \"tcp://x:y\"}\n").validate()
        }
        #expect(spikes?.field == "spikes.address")
    }

    @Test func bothAreFixedAtStart() throws {
        let running = try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nmodel_cpu: 0\n")
        let next = try DecoderConfiguration.parse(yaml: "model: m2\nsession: s2\nmodel_cpu: [0, 1]\nrealtime_priority: 10\n")
        #expect(next.fixedFieldsDiffering(from: running) == ["model_cpu", "realtime_priority"])
        #expect(running.fixedFieldsDiffering(from: running).isEmpty)
    }

    @Test func theRefusalNamesTheFieldTheValueTheReasonAndTheFixes() {
        let message = RealtimeScheduling.refusal(priority: 20, error: EPERM).description
        for part in ["realtime_priority is 20", "Operation not permitted", "root", "CAP_SYS_NICE", "AmbientCapabilities=CAP_SYS_NICE", "LimitRTPRIO=20"] {
            #expect(message.contains(part), "\(part) not in \(message)")
        }
    }

    /// Root (CI) is granted SCHED_FIFO, an unprivileged user without RLIMIT_RTPRIO is refused:
    /// either way the calling thread keeps its own policy.
    @Test func theProbeLeavesTheCallingThreadAsItWas() {
        let before = RealtimeScheduling.currentThread()
        do {
            try RealtimeScheduling.probe(priority: 1)
        } catch {
            #expect(error.description.contains("realtime_priority is 1: the OS refuses SCHED_FIFO"), "\(error)")
        }
        let after = RealtimeScheduling.currentThread()
        #expect(after.policy == before.policy && after.priority == before.priority)
    }
}
