import Foundation

/// A heat map: a rows × columns grid of values drawn as coloured cells, with row and column labels,
/// a colour bar and optional text in each cell, rendered as a standalone SVG.
///
/// ```swift
/// var map = Heatmap(title: "median k₉₀", rowLabel: "layer", columnLabel: "head",
///                   values: [[1, 2, 3], [4, 5, 6]])
/// map.rowNames = ["0", "1"]
/// try map.write(to: URL(fileURLWithPath: "k.svg"))
/// ```
///
/// Colours run along the perceptually uniform viridis scale (dark blue-violet for the lowest value,
/// yellow for the highest), readable with colour-vision deficiencies and in grey scale. The range
/// is ``range`` when set, else the minimum and maximum of the finite values; a NaN cell is drawn
/// grey (no value). Text is XML-escaped; the output depends only on the data.
public struct Heatmap: Sendable, Equatable {
  public var title: String
  /// What the rows are (drawn at the left).
  public var rowLabel: String
  /// What the columns are (drawn below).
  public var columnLabel: String
  /// `values[r][c]`; every row must have the same length.
  public var values: [[Double]]
  /// Names of the rows (default 0, 1, …).
  public var rowNames: [String]?
  /// Names of the columns (default 0, 1, …).
  public var columnNames: [String]?
  /// Text written in each cell (same shape as `values`), or nil for the values themselves
  /// (three significant digits) when ``showsValues``.
  public var cellText: [[String]]?
  /// Whether to write the values in the cells when ``cellText`` is nil. Default true.
  public var showsValues: Bool = true
  /// Fixed colour range, or nil for the range of the data.
  public var range: ClosedRange<Double>?
  /// Caption of the colour bar.
  public var colorLabel: String = ""

  public init(title: String, rowLabel: String, columnLabel: String, values: [[Double]]) {
    self.title = title
    self.rowLabel = rowLabel
    self.columnLabel = columnLabel
    self.values = values
  }

  /// The viridis colour of `t` ∈ [0, 1] (piecewise-linear through 9 samples of the scale).
  public static func color(_ t: Double) -> String {
    let stops: [(Double, Double, Double)] = [
      (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141), (39, 173, 129), (92, 200, 99),
      (170, 220, 50), (253, 231, 37),
    ]
    let x = min(max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
    let i = min(Int(x), stops.count - 2)
    let w = x - Double(i)
    func mix(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * w).rounded()) }
    let (a, b) = (stops[i], stops[i + 1])
    return String(format: "#%02x%02x%02x", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
  }

  func validate() throws(PlotError) {
    guard let first = values.first, !first.isEmpty else { throw .noData }
    for (r, row) in values.enumerated() where row.count != first.count {
      throw .raggedGrid(row: r, count: row.count, expected: first.count)
    }
    if let range, !(range.lowerBound.isFinite && range.upperBound.isFinite) { throw .invalidRange(axis: "colour") }
    if !values.joined().contains(where: { $0.isFinite }) && range == nil { throw .noData }
  }

  /// The SVG text; `cellSize` is the side of a cell in pixels.
  public func svg(cellSize: Double = 36) throws(PlotError) -> String {
    try validate()
    let rows = values.count
    let columns = values[0].count
    let rowNames = self.rowNames ?? (0..<rows).map(String.init)
    let columnNames = self.columnNames ?? (0..<columns).map(String.init)
    let finite = values.joined().filter { $0.isFinite }
    let lo = range?.lowerBound ?? finite.min() ?? 0
    let hi = range?.upperBound ?? finite.max() ?? 1
    let span = hi > lo ? hi - lo : 1
    let longestRowName = Double(rowNames.map(\.count).max() ?? 1)
    let longestColumnName = Double(columnNames.map(\.count).max() ?? 1)
    let rotateColumns = longestColumnName * 7 > cellSize
    let left = 40 + longestRowName * 7
    let top = 40.0
    let bottom = 50 + (rotateColumns ? longestColumnName * 6 : 0)
    let gridW = Double(columns) * cellSize
    let gridH = Double(rows) * cellSize
    let width = left + gridW + 110
    let height = top + gridH + bottom
    var s = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" \
      viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(f(left + gridW / 2))" y="24" font-size="15" text-anchor="middle">\(escape(title))</text>

      """
    let fontSize = min(11, cellSize / 3.2)
    for r in 0..<rows {
      let y = top + Double(r) * cellSize
      s +=
        "<text x=\"\(f(left - 6))\" y=\"\(f(y + cellSize / 2 + 4))\" font-size=\"11\" text-anchor=\"end\">\(escape(rowNames[r]))</text>\n"
      for c in 0..<columns {
        let x = left + Double(c) * cellSize
        let v = values[r][c]
        let t = (v - lo) / span
        let fill = v.isFinite ? Self.color(t) : "#d0d0d0"
        s +=
          "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cellSize))\" height=\"\(f(cellSize))\" fill=\"\(fill)\" stroke=\"white\" stroke-width=\"0.5\"/>\n"
        let text = cellText?[r][c] ?? (showsValues && v.isFinite ? Self.format(v) : "")
        if !text.isEmpty {
          let ink = v.isFinite && t > 0.6 ? "black" : "white"
          s +=
            "<text x=\"\(f(x + cellSize / 2))\" y=\"\(f(y + cellSize / 2 + fontSize / 3))\" font-size=\"\(f(fontSize))\" text-anchor=\"middle\" fill=\"\(v.isFinite ? ink : "black")\">\(escape(text))</text>\n"
        }
      }
    }
    for c in 0..<columns {
      let x = left + Double(c) * cellSize + cellSize / 2
      let y = top + gridH + 14
      if rotateColumns {
        s +=
          "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-60 \(f(x)) \(f(y)))\">\(escape(columnNames[c]))</text>\n"
      } else {
        s +=
          "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"11\" text-anchor=\"middle\">\(escape(columnNames[c]))</text>\n"
      }
    }
    s +=
      "<text x=\"\(f(left + gridW / 2))\" y=\"\(f(height - 10))\" font-size=\"12\" text-anchor=\"middle\">\(escape(columnLabel))</text>\n"
    s +=
      "<text x=\"14\" y=\"\(f(top + gridH / 2))\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + gridH / 2)))\">\(escape(rowLabel))</text>\n"
    // Colour bar.
    let barX = left + gridW + 24
    let steps = 40
    let barH = max(gridH, 120)
    for i in 0..<steps {
      let t = 1 - Double(i) / Double(steps - 1)
      s +=
        "<rect x=\"\(f(barX))\" y=\"\(f(top + Double(i) * barH / Double(steps)))\" width=\"14\" height=\"\(f(barH / Double(steps) + 0.5))\" fill=\"\(Self.color(t))\"/>\n"
    }
    s += "<text x=\"\(f(barX + 18))\" y=\"\(f(top + 9))\" font-size=\"10\">\(escape(Self.format(hi)))</text>\n"
    s += "<text x=\"\(f(barX + 18))\" y=\"\(f(top + barH))\" font-size=\"10\">\(escape(Self.format(lo)))</text>\n"
    if !colorLabel.isEmpty {
      let cy = top + barH / 2
      s +=
        "<text x=\"\(f(barX + 40))\" y=\"\(f(cy))\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(90 \(f(barX + 40)) \(f(cy)))\">\(escape(colorLabel))</text>\n"
    }
    s += "</svg>\n"
    return s
  }

  /// Writes the SVG to `url` atomically (a temporary file renamed into place).
  public func write(to url: URL, cellSize: Double = 36) throws(PlotError) {
    let text = try svg(cellSize: cellSize)
    do {
      try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
      throw .writeFailed(path: url.path, reason: error.localizedDescription)
    }
  }

  /// Three significant digits, no exponent for 0.001 ≤ |v| < 10⁵.
  static func format(_ v: Double) -> String {
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 100 { return String(Int(v.rounded())) }
    if a >= 10 { return String(format: "%.1f", v) }
    if a >= 1 { return String(format: "%.2f", v) }
    if a >= 0.001 { return String(format: "%.3f", v) }
    return String(format: "%.1e", v)
  }
}
