import Foundation
import POYO
import Testing

/// `poyo bench --stages`: the clock charges every stage of each pass while enabled, and nothing
/// while disabled.
@Suite struct ForwardStageClockTests {
    @Test func everyStageIsChargedOnlyWhileEnabled() throws {
        let model = try POYOModel(path: Fixtures.model("poyo_1p3m"))
        let window = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyo_1p3m")))
        _ = try model.forward(window)
        #expect(model.stageClock.passes == 0 && model.stageClock.nanoseconds.allSatisfy { $0 == 0 })
        model.stageClock.enabled = true
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<2 { _ = try model.forward(window) }
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        #expect(model.stageClock.passes == 2)
        for stage in ForwardStage.allCases { #expect(model.stageClock.nanoseconds[stage.rawValue] > 0, "\(stage.name)") }
        #expect(model.stageClock.nanoseconds.reduce(0, +) <= elapsed)
    }
}
