import ArgumentParser
import Attractors
import Foundation

// Values of options parsed in one place: typed lists, β ranges, file prefixes, and the library
// enums whose raw values are the names on the command line.

// MARK: - Typed lists

/// A comma-separated list typed as `Element` (`--dimension 64,256`, `--count 10,100,1000`), parsed
/// in one place: empty items, unparsable items and duplicates are refused with the item named.
struct ArgumentList<Element: LosslessStringConvertible & Hashable & Sendable>: ExpressibleByArgument, Sendable {
  var values: [Element]

  init(_ values: [Element]) { self.values = values }

  init?(argument: String) {
    let items = argument.split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    var values: [Element] = []
    var seen: Set<Element> = []
    for item in items {
      guard !item.isEmpty, let value = Element(item), seen.insert(value).inserted else { return nil }
      values.append(value)
    }
    guard !values.isEmpty else { return nil }
    self.values = values
  }

  var defaultValueDescription: String { values.map { "\($0)" }.joined(separator: ",") }
}

typealias IntList = ArgumentList<Int>
typealias DoubleList = ArgumentList<Double>
typealias SeedList = ArgumentList<UInt64>

/// `--beta-range lo:hi:count`: `count` log-spaced values of β from `lo` to `hi`, parsed once.
struct BetaRange: ExpressibleByArgument, Sendable, Equatable {
  var lower: Double
  var upper: Double
  var count: Int

  init(lower: Double, upper: Double, count: Int) {
    self.lower = lower
    self.upper = upper
    self.count = count
  }

  init?(argument: String) {
    let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 3, let lo = Double(parts[0]), let hi = Double(parts[1]), let n = Int(parts[2]) else {
      return nil
    }
    self.init(lower: lo, upper: hi, count: n)
  }

  var defaultValueDescription: String { "\(Format.compact(lower)):\(Format.compact(upper)):\(count)" }

  /// Refuses a range that is not 0 < lo < hi (finite) with 2 … 200 values.
  func validate() throws {
    guard lower.isFinite, upper.isFinite, lower > 0, upper > lower else {
      throw ValidationError("--beta-range needs 0 < lo < hi (finite), got \(defaultValueDescription)")
    }
    guard (2...200).contains(count) else {
      throw ValidationError("--beta-range count must be between 2 and 200, got \(count)")
    }
  }
}

/// Refuses a `--file-prefix` that is not a plain file name.
func validateFilePrefix(_ prefix: String) throws {
  if prefix.isEmpty || prefix.contains("/") || prefix.hasPrefix(".") {
    throw ValidationError("--file-prefix must be a plain file name (no '/', not starting with '.'), got '\(prefix)'")
  }
}

// Library enums used as option values (their raw values are the names on the command line).
extension Corruption.Kind: ExpressibleByArgument {}
extension RecallModel: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension GlobalAverageRule: ExpressibleByArgument {}
extension CapacityModelFamily: ExpressibleByArgument, LosslessStringConvertible {
  public init?(_ description: String) { self.init(rawValue: description) }
  public var description: String { rawValue }
}
