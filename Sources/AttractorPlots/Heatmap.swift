import Foundation

/// A heat map of a rows × columns array of values with a colour bar, rendered as a standalone SVG.
///
/// ```swift
/// var map = Heatmap(title: "W_KQ", values: [[1, 0], [0, 1]])
/// map.rowLabels = ["1", "2"]
/// try map.write(to: URL(fileURLWithPath: "w.svg"))
/// ```
///
/// Colour scales: ``ColourScale/diverging`` (blue – white – red, symmetric about 0: for weights and
/// differences) and ``ColourScale/sequential`` (white to dark blue: for non-negative values such as
/// probabilities or counts). The range is the data's unless ``range`` fixes it; values outside it
/// take the end colours. Cells are square; labels are optional and XML-escaped; the output depends
/// only on the data.
public struct Heatmap: Sendable, Equatable {
  /// How values map to colours.
  public enum ColourScale: String, Sendable, Equatable, Codable {
    /// Blue (negative) – white (0) – red (positive), the range symmetric about 0.
    case diverging
    /// White (low) to dark blue (high).
    case sequential
  }

  /// The title above the map.
  public var title: String
  /// The values, one inner array per row (all rows the same length).
  public var values: [[Double]]
  /// Labels of the rows (left), or `nil`.
  public var rowLabels: [String]? = nil
  /// Labels of the columns (top), or `nil`.
  public var columnLabels: [String]? = nil
  /// The colour scale.
  public var colourScale: ColourScale = .diverging
  /// A fixed value range (for a diverging scale, −m…m is used with m the larger end's magnitude).
  public var range: ClosedRange<Double>? = nil
  /// The colour bar's caption.
  public var valueLabel: String = ""

  /// A heat map of `values` with `title`.
  public init(title: String, values: [[Double]]) {
    self.title = title
    self.values = values
  }

  /// The SVG text, with square cells of `cellSize` points.
  public func svg(cellSize: Double = 24) throws(PlotError) -> String {
    try validate()
    let rows = values.count, columns = values[0].count
    // Text widths are estimated (about 0.6 of the font size per character), so that long row
    // labels, titles and value labels are not cut off.
    let longestRowLabel = rowLabels?.map(\.count).max() ?? 0
    let left = rowLabels == nil ? 20.0 : max(60.0, Double(longestRowLabel) * 7.2 + 12)
    let top = 50.0 + (columnLabels == nil ? 0 : 18)
    let barHeight = max(Double(rows) * cellSize, 100)
    let barX = left + Double(columns) * cellSize + 20
    let width = max(
      left + Double(columns) * cellSize + 110, barX + Double(valueLabel.count) * 7.2 + 10,
      Double(title.count) * 9 + 40)
    let height = top + barHeight + 30
    let (lo, hi) = limits()
    func f(_ x: Double) -> String { String(format: "%.2f", x) }
    var out = [
      ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(f(width))" height="\##(f(height))" viewBox="0 0 \##(f(width)) \##(f(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">"##,
      ##"<rect width="100%" height="100%" fill="white"/>"##,
      ##"<text x="\##(f(width / 2))" y="24" text-anchor="middle" font-size="15">\##(escape(title))</text>"##,
    ]
    for i in 0..<rows {
      for j in 0..<columns {
        let x = left + Double(j) * cellSize, y = top + Double(i) * cellSize
        out.append(
          ##"<rect x="\##(f(x))" y="\##(f(y))" width="\##(f(cellSize))" height="\##(f(cellSize))" fill="\##(colour(values[i][j], lo, hi))"><title>[\##(i),\##(j)] \##(String(format: "%.4g", values[i][j]))</title></rect>"##
        )
      }
    }
    out.append(
      ##"<rect x="\##(f(left))" y="\##(f(top))" width="\##(f(Double(columns) * cellSize))" height="\##(f(Double(rows) * cellSize))" fill="none" stroke="#444"/>"##
    )
    if let rowLabels {
      for (i, label) in rowLabels.enumerated() where i < rows {
        let y = top + (Double(i) + 0.5) * cellSize + 4
        out.append(##"<text x="\##(f(left - 6))" y="\##(f(y))" text-anchor="end">\##(escape(label))</text>"##)
      }
    }
    if let columnLabels {
      for (j, label) in columnLabels.enumerated() where j < columns {
        let x = left + (Double(j) + 0.5) * cellSize
        out.append(##"<text x="\##(f(x))" y="\##(f(top - 6))" text-anchor="middle">\##(escape(label))</text>"##)
      }
    }
    // Colour bar: 20 steps from hi (top) to lo (bottom).
    let steps = 20
    for s in 0..<steps {
      let v = hi - (hi - lo) * (Double(s) + 0.5) / Double(steps)
      let y = top + barHeight * Double(s) / Double(steps)
      out.append(
        ##"<rect x="\##(f(barX))" y="\##(f(y))" width="14" height="\##(f(barHeight / Double(steps) + 0.5))" fill="\##(colour(v, lo, hi))"/>"##
      )
    }
    out.append(
      ##"<rect x="\##(f(barX))" y="\##(f(top))" width="14" height="\##(f(barHeight))" fill="none" stroke="#444"/>"##)
    for (v, y) in [(hi, top), ((hi + lo) / 2, top + barHeight / 2), (lo, top + barHeight)] {
      out.append(##"<text x="\##(f(barX + 18))" y="\##(f(y + 4))">\##(String(format: "%.3g", v))</text>"##)
    }
    if !valueLabel.isEmpty {
      out.append(
        ##"<text x="\##(f(barX))" y="\##(f(top - 8))">\##(escape(valueLabel))</text>"##)
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  /// Writes the SVG to `url` atomically.
  public func write(to url: URL, cellSize: Double = 24) throws(PlotError) {
    let text = try svg(cellSize: cellSize)
    do {
      try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
      throw .writeFailed(path: url.path, reason: error.localizedDescription)
    }
  }

  func validate() throws(PlotError) {
    guard let first = values.first, !first.isEmpty else { throw .noData }
    for (i, row) in values.enumerated() {
      guard row.count == first.count else { throw .invalidShape(row: i, count: row.count, expected: first.count) }
      if let j = row.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(series: "row \(i)", index: j) }
    }
    if let range {
      guard range.lowerBound.isFinite, range.upperBound.isFinite, range.lowerBound < range.upperBound
      else { throw .invalidRange(axis: "value") }
    }
  }

  func limits() -> (Double, Double) {
    var lo = range?.lowerBound ?? values.joined().min()!
    var hi = range?.upperBound ?? values.joined().max()!
    if colourScale == .diverging {
      let m = max(abs(lo), abs(hi), 1e-300)
      (lo, hi) = (-m, m)
    } else if hi <= lo {
      hi = lo + 1
    }
    return (lo, hi)
  }

  /// The colour of `v` on the scale from `lo` to `hi` (clamped), as #rrggbb.
  func colour(_ v: Double, _ lo: Double, _ hi: Double) -> String {
    let t = min(max((v - lo) / (hi - lo), 0), 1)
    let rgb: (Double, Double, Double)
    switch colourScale {
    case .diverging:
      // blue (33, 102, 172) – white – red (178, 24, 43)
      if t < 0.5 {
        let s = t / 0.5
        rgb = (33 + (255 - 33) * s, 102 + (255 - 102) * s, 172 + (255 - 172) * s)
      } else {
        let s = (t - 0.5) / 0.5
        rgb = (255 + (178 - 255) * s, 255 + (24 - 255) * s, 255 + (43 - 255) * s)
      }
    case .sequential:
      rgb = (255 + (8 - 255) * t, 255 + (48 - 255) * t, 255 + (107 - 255) * t)
    }
    return String(format: "#%02x%02x%02x", Int(rgb.0.rounded()), Int(rgb.1.rounded()), Int(rgb.2.rounded()))
  }
}
