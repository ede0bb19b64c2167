import ArgumentParser
import Attractors
import Foundation

// Where queries come from (`recall`).

/// Where queries come from: `--queries FILE.npy` (+ `--targets FILE.npy`), or `--query-count`
/// random targets corrupted by `--corruption` at `--level`.
struct QueryOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Queries: a 2-D .npy array, one query per row, with d columns.", valueName: "file.npy"))
  var queries: String?

  @Option(
    help: ArgumentHelp(
      "With --queries: a 1-D integer .npy array of the pattern each query should retrieve (rows of the patterns, from 0). Without it accuracy is not reported.",
      valueName: "file.npy"))
  var targets: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Number B of queries made from random targets (default: see the command's description).", valueName: "B"))
  var queryCount: Int?

  @Option(
    help: ArgumentHelp(
      "How queries are corrupted: noise, mask, overlap, flip or none (default noise; flip with --model classical).",
      valueName: "kind"))
  var corruption: Corruption.Kind?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Corruption level: σ for noise (default 0.1), fraction for mask (0.3) and flip (0.1), α for overlap (0.7).",
      valueName: "x"))
  var level: Double?

  func validate() throws {
    if queries != nil {
      if queryCount != nil {
        throw ValidationError("--queries and --query-count are mutually exclusive: the file sets the number of queries")
      }
      if corruption != nil {
        throw ValidationError(
          "--queries and --corruption are mutually exclusive: queries from a file are used as given")
      }
      if level != nil {
        throw ValidationError("--queries and --level are mutually exclusive: queries from a file are used as given")
      }
    } else if targets != nil {
      throw ValidationError("--targets needs --queries: generated queries know their own targets")
    }
    if let queryCount, queryCount < 1 { throw ValidationError("--query-count must be at least 1, got \(queryCount)") }
  }

  /// Refuses a `--level` outside the range of `kind` (the corruption in force).
  func validateLevel(for kind: Corruption.Kind) throws {
    guard let level else { return }
    do { try Corruption(kind: kind, level: level).validate() } catch {
      throw ValidationError("--level for \(kind.rawValue) is \(kind.levelMeaning), got \(Format.compact(level))")
    }
  }
}
