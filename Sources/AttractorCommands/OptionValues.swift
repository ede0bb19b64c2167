import ArgumentParser
import Attractors
import Foundation

// Values of options parsed in one place: typed lists, β ranges, file prefixes, and the library
// enums whose raw values are the names on the command line.

// MARK: - Typed lists

/// A comma-separated list typed as `Element` (`--dimension 64,256`, `--count 10,100,1000`), parsed
/// in one place: empty items, unparsable items and duplicates are refused with the item named and
/// what to do. Options declare it with `transform: IntList.parse` (or the list type's `parse`), so
/// ArgumentParser shows ``ListItemError``'s message after "The value '…' is invalid for '--option'".
struct ArgumentList<Element: LosslessStringConvertible & Hashable & Sendable>: ExpressibleByArgument, Sendable,
  CustomStringConvertible
{
  var values: [Element]

  init(_ values: [Element]) { self.values = values }

  init?(argument: String) {
    guard let list = try? Self.parse(argument) else { return nil }
    self = list
  }

  /// The list in `argument`, or a ``ListItemError`` naming the first empty, unparsable or repeated
  /// item (by position and text) and what to do.
  static func parse(_ argument: String) throws(ListItemError) -> ArgumentList {
    let items = argument.split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    let what = ListItemError.itemDescription(Element.self)
    if items.allSatisfy(\.isEmpty) {
      throw ListItemError("the list is empty; give one or more values separated by commas, each \(what)")
    }
    var values: [Element] = []
    var firstIndex: [Element: Int] = [:]
    for (i, item) in items.enumerated() {
      let position = "item \(i + 1) of \(items.count)"
      guard !item.isEmpty else {
        throw ListItemError(
          "\(position) is empty (two commas in a row, or a comma at either end); separate the values by single commas")
      }
      guard let value = Element(item) else {
        throw ListItemError("\(position), '\(item)', is not \(what); give each value as \(what)")
      }
      if let earlier = firstIndex[value] {
        throw ListItemError(
          "\(position), '\(item)', repeats item \(earlier + 1); give each value once")
      }
      firstIndex[value] = i
      values.append(value)
    }
    return ArgumentList(values)
  }

  var description: String { values.map { "\($0)" }.joined(separator: ",") }
  var defaultValueDescription: String { description }
}

/// Why a comma-separated list option was refused; its description is the message.
struct ListItemError: Error, CustomStringConvertible, Sendable {
  var description: String

  init(_ description: String) { self.description = description }

  /// What an item must be, in words.
  static func itemDescription(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type: "an integer"
    case is UInt64.Type: "a non-negative integer"
    case is Double.Type: "a number"
    case is CapacityModelFamily.Type:
      "one of " + CapacityModelFamily.allCases.map(\.rawValue).joined(separator: ", ")
    default: "a value"
    }
  }
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
extension ImageDataset: ExpressibleByArgument {}
extension CapacityModelFamily: ExpressibleByArgument, LosslessStringConvertible {
  public init?(_ description: String) { self.init(rawValue: description) }
  public var description: String { rawValue }
}
