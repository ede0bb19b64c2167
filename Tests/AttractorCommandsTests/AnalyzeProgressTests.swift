import Attractors
import Testing

@Suite("attractor analyze: progress on standard error")
struct FixedPointProgressPrinterTests {
  @Test("On a terminal: a bar per stage with the count and the time left, at most ten drawings a second")
  func drawsThrottledBarWithTimeLeft() {
    var written: [String] = []
    var time = 0.0
    let printer = FixedPointProgressPrinter(isEnabled: true, write: { written.append($0) }, now: { time })
    printer.update(FixedPointProgress(stage: .dynamics, done: 0, total: 100))
    time = 2
    printer.update(FixedPointProgress(stage: .dynamics, done: 50, total: 100))
    time = 2.05
    printer.update(FixedPointProgress(stage: .dynamics, done: 60, total: 100))  // too soon: skipped
    time = 3
    printer.update(FixedPointProgress(stage: .classifying, done: 0, total: 10))
    time = 5
    printer.update(FixedPointProgress(stage: .classifying, done: 10, total: 10))
    printer.finish()
    #expect(written.count == 5, "\(written)")
    #expect(written[1].contains("1/3 dynamics 50/100 starts") && written[1].contains("~2.0 s left in the dynamics"))
    #expect(written[3].contains("3/3 classifying 10/10 points") && written[3].contains("5.0 s elapsed"))
    #expect(written.allSatisfy { $0 == "\n" || $0.hasPrefix("\r") })
    #expect(written.last == "\n")
  }

  @Test("Off the terminal (or when the command passes none under --json) nothing is written")
  func quietWhenDisabled() {
    var written: [String] = []
    let printer = FixedPointProgressPrinter(isEnabled: false, write: { written.append($0) }, now: { 0 })
    printer.update(FixedPointProgress(stage: .polishing, done: 1, total: 2))
    printer.finish()
    #expect(written.isEmpty)
  }

  @Test("The analysis reports every stage, from 0 to the total")
  func analysisReportsStages() throws {
    var seen: [FixedPointProgress] = []
    let run = FixedPointAnalysisRun(
      patterns: .random(count: 6, dimension: 4, correlation: nil), beta: 4, search: FixedPointSearch(),
      thresholds: ClassificationThresholds(), version: "test")
    _ = try run.analyze(writingTo: nil, progress: { seen.append($0) })
    for stage in FixedPointProgress.Stage.allCases {
      let updates = seen.filter { $0.stage == stage }
      #expect(updates.first?.done == 0, "\(stage)")
      #expect(updates.last.map { $0.done == $0.total } == true, "\(stage)")
    }
  }
}
