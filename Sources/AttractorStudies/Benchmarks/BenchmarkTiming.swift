import AttractorCore
import AttractorLinearAlgebra
import Foundation

/// Wall times of timed repetitions of one piece of work, after one untimed warm-up run.
///
/// Every benchmark of the tool (`attractor bench …`) times with this type: the warm-up absorbs page
/// faults and the start of OpenBLAS's threads, the timed runs use the continuous (monotonic) clock,
/// and the reported statistic is the median (the minimum is kept beside it).
public struct BenchmarkTimes: Sendable, Codable, Equatable {
  /// Every timed run, in seconds, in the order run.
  public var seconds: [Double]

  public init(seconds: [Double]) { self.seconds = seconds }

  /// Median of ``seconds`` (the mean of the middle two for an even count; 0 when empty).
  public var median: Double { BenchmarkTimes.median(seconds) }

  /// Fastest timed run, in seconds (0 when empty).
  public var minimum: Double { seconds.min() ?? 0 }

  /// Runs `body` once untimed, then `repetitions` times timed (at least once).
  public static func measure<E: Error>(repetitions: Int, _ body: () throws(E) -> Void) throws(E) -> BenchmarkTimes {
    try body()
    var seconds: [Double] = []
    for _ in 0..<max(1, repetitions) {
      let (_, elapsed) = try measureSeconds(body)
      seconds.append(elapsed)
    }
    return BenchmarkTimes(seconds: seconds)
  }

  /// The median of `values` (the mean of the middle two for an even count; 0 when empty).
  public static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }
}

/// What every benchmark returns: a record that encodes as one JSON object (`--json`) and prints as
/// header lines and a Markdown table.
public protocol BenchmarkReport: Codable, Sendable {
  /// The header lines (what, the thread count, the statistic) and the table.
  var markdown: String { get }
  /// Timed repetitions after the warm-up.
  var repetitions: Int { get }
  /// OpenBLAS threads during the run.
  var blasThreads: Int { get }
  /// Online cores of the machine.
  var cores: Int { get }
}

extension BenchmarkReport {
  /// The machine the report was measured on (reports are printed by the process that measured them,
  /// so the kernel set is this process's).
  public var machine: BenchmarkMachine {
    BenchmarkMachine(blasThreads: blasThreads, cores: cores, blasCore: BLAS.coreName)
  }

  /// The line the report states its timing in: "OpenBLAS threads: t (kernels: k), cores: c, median of r runs
  /// after a warm-up" (`statistic` "median (min)" where the minimum is shown too).
  public func timing(statistic: String = "median") -> String {
    "\(machine.summary), \(statistic) of \(repetitions) runs after a warm-up"
  }

  /// The report's text: `title`, the timing line followed by `note`, then `table` between blank lines.
  public func text(title: String, note: String, table: BenchmarkTable) -> String {
    "\(title)\n\(timing()) \(note)\n\n\(table.markdown)\n\n"
  }
}

/// The machine a benchmark ran on: OpenBLAS threads and kernel set in force, and online cores.
public struct BenchmarkMachine: Sendable, Codable, Equatable {
  /// OpenBLAS threads during the run.
  public var blasThreads: Int
  /// Online cores of the machine.
  public var cores: Int
  /// The kernel set OpenBLAS used (``BLAS/coreName``, e.g. "SkylakeX"); `nil` in records written
  /// before it was recorded.
  public var blasCore: String?

  public init(blasThreads: Int, cores: Int, blasCore: String? = nil) {
    self.blasThreads = blasThreads
    self.cores = cores
    self.blasCore = blasCore
  }

  /// The current process: `BLAS.threadCount`, `BLAS.coreName` and the active processor count.
  public static var current: BenchmarkMachine {
    BenchmarkMachine(
      blasThreads: BLAS.threadCount, cores: ProcessInfo.processInfo.activeProcessorCount, blasCore: BLAS.coreName)
  }

  /// "OpenBLAS threads: t (kernels: k), cores: c".
  public var summary: String {
    "OpenBLAS threads: \(blasThreads)" + (blasCore.map { " (kernels: \($0))" } ?? "") + ", cores: \(cores)"
  }
}

/// A Markdown table of benchmark figures: the first `leftColumns` columns left-aligned (names),
/// the others right-aligned (numbers).
public struct BenchmarkTable: Sendable, Equatable {
  public var header: [String]
  public var rows: [[String]]
  public var leftColumns: Int

  public init(header: [String], rows: [[String]] = [], leftColumns: Int = 0) {
    self.header = header
    self.rows = rows
    self.leftColumns = leftColumns
  }

  /// The table, one line per row, without a final newline.
  public var markdown: String { MarkdownTable(header: header, leftColumns: leftColumns, rows: rows).markdown }

  /// `x` with `digits` decimals.
  public static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

  /// `x` with `digits` significant digits.
  public static func general(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)g", x) }

  /// `x` as short as it prints without loss (`8`, not `8.0`).
  public static func compact(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
  }
}
