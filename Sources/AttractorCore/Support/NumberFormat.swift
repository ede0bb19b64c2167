import Foundation

/// The one number formatter of the project's tables: fixed, general and scientific notation,
/// right-aligned in a column, with `—` for a missing value.
///
/// `fixed(0.5, decimals: 3, width: 8)` is `"   0.500"`; without a width the number is not padded.
public enum NumberFormat {
  /// `x` with `decimals` digits after the point (`%.<decimals>f`), right-aligned in `width`.
  public static func fixed(_ x: Double?, decimals: Int, width: Int = 0) -> String {
    guard let x else { return pad("—", width) }
    return pad(String(format: "%.\(decimals)f", x), width)
  }

  /// `x` with `significant` significant digits (`%.<significant>g`), right-aligned in `width`.
  public static func general(_ x: Double?, significant: Int, width: Int = 0) -> String {
    guard let x else { return pad("—", width) }
    return pad(String(format: "%.\(significant)g", x), width)
  }

  /// `x` in scientific notation with `decimals` digits (`%.<decimals>e`), right-aligned in `width`.
  public static func scientific(_ x: Double?, decimals: Int, width: Int = 0) -> String {
    guard let x else { return pad("—", width) }
    return pad(String(format: "%.\(decimals)e", x), width)
  }

  /// Right-aligns `s` in `width` characters (counting characters, not bytes).
  public static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
  }

  /// Left-aligns `s` in `width` characters (counting characters, not bytes).
  public static func padRight(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
  }

  /// A number as short as it can be printed without losing it (`8`, not `8.0`).
  public static func compact(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
    return "\(x)"
  }
}
