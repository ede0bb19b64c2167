import AttractorAnalysis
import AttractorCore
import Foundation

/// Progress of `attractor analyze` on standard error, drawn as a study's progress is
/// (`StudyProgressPrinter`): a bar with the stage, the count, the time elapsed and the time left,
/// redrawn at most ten times a second on one line. Off when standard error is not a terminal (and
/// the command does not create one under `--json`), so logs and pipes stay clean.
///
/// The time left is the current stage's: elapsed in the stage × (total − done) / done. The
/// stages are the dynamics (starts settled), the chord Newton polish and the classification
/// (fixed points); the last two each linearise every fixed point once, so while polishing the
/// classification is counted as taking as long again.
public final class FixedPointProgressPrinter: @unchecked Sendable {
  /// Whether anything is drawn.
  public let isEnabled: Bool
  private let write: (String) -> Void
  private let now: () -> Double
  private let start: Double
  private var stage: FixedPointProgress.Stage?
  private var stageStart = 0.0
  private var lastPrint = -Double.infinity
  private var printedBar = false

  /// A printer drawing on standard error when it is a terminal.
  public convenience init() {
    let clock = ContinuousClock()
    let origin = clock.now
    self.init(
      isEnabled: isatty(STDERR_FILENO) != 0, write: { FileHandle.standardError.write(Data($0.utf8)) },
      now: { (clock.now - origin).seconds })
  }

  /// A printer writing with `write` and reading the time in seconds from `now` (tests).
  public init(isEnabled: Bool, write: @escaping (String) -> Void, now: @escaping () -> Double) {
    self.isEnabled = isEnabled
    self.write = write
    self.now = now
    self.start = now()
  }

  /// Shows `p` (or skips it when the last drawing is under 0.1 s old, unless a stage ends).
  public func update(_ p: FixedPointProgress) {
    guard isEnabled else { return }
    let t = now()
    if p.stage != stage {
      stage = p.stage
      stageStart = t
    }
    guard t - lastPrint >= 0.1 || p.done == p.total else { return }
    lastPrint = t
    let stages = FixedPointProgress.Stage.allCases
    let index = (stages.firstIndex(of: p.stage) ?? 0) + 1
    let inStage = t - stageStart
    var left: Double? = p.done > 0 ? inStage * Double(p.total - p.done) / Double(p.done) : nil
    if p.stage == .polishing, let l = left, p.done > 0 {
      left = l + inStage * Double(p.total) / Double(p.done)
    }
    let width = 24
    let filled = p.total > 0 ? min(width, width * p.done / p.total) : width
    let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    let unit = p.stage == .dynamics ? "starts" : "points"
    let leftText = left.map { "~\(Self.duration($0)) left" } ?? "~? left"
    let scope = p.stage == .dynamics ? " in the dynamics" : ""
    write(
      "\r[\(bar)] \(index)/\(stages.count) \(p.stage.rawValue) \(p.done)/\(p.total) \(unit)  "
        + "\(Self.duration(t - start)) elapsed  \(leftText)\(scope)\u{1B}[K")
    printedBar = true
  }

  /// Ends the bar's line.
  public func finish() {
    if printedBar { write("\n") }
    printedBar = false
  }

  /// "12.3 s", "2 min 05 s", "1 h 02 min".
  static func duration(_ s: Double) -> String {
    if s < 60 { return String(format: "%.1f s", s) }
    if s < 3600 { return String(format: "%d min %02d s", Int(s) / 60, Int(s) % 60) }
    return String(format: "%d h %02d min", Int(s) / 3600, (Int(s) % 3600) / 60)
  }
}
