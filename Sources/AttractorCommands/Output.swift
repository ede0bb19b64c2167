import Foundation

/// An error that ends a command with a message for the user and exit status 1.
///
/// ArgumentParser prints `Error: ` followed by ``description``.
public struct CommandFailure: Error, CustomStringConvertible, Equatable {
  /// What went wrong and, where possible, what to do about it.
  public let message: String

  public init(_ message: String) { self.message = message }

  public var description: String { message }
}

/// Writes a line to standard error (notes and warnings, kept off stdout so `--json` stays clean).
func printToStandardError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Fixed-width numeric formatting for tables.
enum Format {
  static func fixed(_ x: Double?, decimals: Int, width: Int) -> String {
    guard let x else { return pad("—", width) }
    return pad(String(format: "%.\(decimals)f", x), width)
  }

  static func general(_ x: Double?, significant: Int, width: Int) -> String {
    guard let x else { return pad("—", width) }
    return pad(String(format: "%.\(significant)g", x), width)
  }

  static func scientific(_ x: Double?, decimals: Int, width: Int) -> String {
    guard let x else { return pad("—", width) }
    return pad(String(format: "%.\(decimals)e", x), width)
  }

  /// Right-aligns `s` in `width` characters (counting characters, not bytes).
  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
  }

  /// A number as short as it can be printed without losing it (`8`, not `8.0`).
  static func compact(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
    return "\(x)"
  }
}
