import Foundation

/// How an axis maps data to position.
public enum AxisScale: Sendable, Equatable {
  /// Equal distances for equal differences.
  case linear
  /// Equal distances for equal ratios (base 10); every value on the axis must be positive.
  case logarithmic
}

/// One point of a ``Series``: a value and an optional symmetric error bar (± `error`).
public struct DataPoint: Sendable, Equatable, Codable {
  public var x: Double
  public var y: Double
  /// Half-length of the vertical error bar (for example a standard error), or `nil` for none.
  public var error: Double?

  public init(x: Double, y: Double, error: Double? = nil) {
    self.x = x
    self.y = y
    self.error = error
  }
}

/// A named line of a ``LineChart``.
public struct Series: Sendable, Equatable {
  public var name: String
  public var points: [DataPoint]
  /// Draw the line dashed (for reference curves such as a theoretical prediction).
  public var dashed: Bool
  /// Draw a marker at each point.
  public var showsMarkers: Bool

  public init(name: String, points: [DataPoint], dashed: Bool = false, showsMarkers: Bool = true) {
    self.name = name
    self.points = points
    self.dashed = dashed
    self.showsMarkers = showsMarkers
  }
}

/// A vertical reference line at `x` with a label (for example a critical β).
public struct VerticalMarker: Sendable, Equatable {
  public var x: Double
  public var label: String
  /// Line of the label below the top of the plot (0 = first), so that nearby markers' labels do
  /// not overlap.
  public var labelRow: Int = 0

  public init(x: Double, label: String) {
    self.x = x
    self.label = label
  }

  /// A marker whose label sits on line `labelRow` below the top of the plot.
  public init(x: Double, label: String, labelRow: Int) {
    self.x = x
    self.label = label
    self.labelRow = labelRow
  }
}

/// Errors raised when a chart cannot be drawn from its data.
public enum PlotError: Error, Equatable, Sendable, CustomStringConvertible {
  /// No series has a point.
  case noData
  /// A coordinate or error bar is NaN or infinite.
  case nonFinite(series: String, index: Int)
  /// A value on a logarithmic axis is zero or negative.
  case nonPositiveOnLogarithmicAxis(series: String, index: Int, value: Double)
  /// A fixed axis range is empty, not finite, or not positive on a logarithmic axis.
  case invalidRange(axis: String)
  /// The file could not be written.
  case writeFailed(path: String, reason: String)
  /// A heat map's row has another length than the first row.
  case invalidShape(row: Int, count: Int, expected: Int)

  public var description: String {
    switch self {
    case .noData: return "the chart has no data points"
    case .nonFinite(let series, let index): return "series '\(series)' has a NaN or infinite value at point \(index)"
    case .nonPositiveOnLogarithmicAxis(let series, let index, let value):
      return "series '\(series)' has \(value) at point \(index) on a logarithmic axis; values must be positive"
    case .invalidRange(let axis): return "the fixed \(axis) range is empty, not finite, or not positive on a log axis"
    case .writeFailed(let path, let reason): return "could not write \(path): \(reason)"
    case .invalidShape(let row, let count, let expected):
      return "heat-map row \(row) has \(count) values; every row must have \(expected) like the first"
    }
  }
}

/// A line chart with axes, ticks, grid, legend and error bars, rendered as a standalone SVG.
///
/// ```swift
/// var chart = LineChart(title: "Recall", xLabel: "noise σ", yLabel: "accuracy")
/// chart.series = [Series(name: "modern", points: [DataPoint(x: 0.1, y: 0.98, error: 0.01)])]
/// chart.yRange = 0...1
/// try chart.write(to: URL(fileURLWithPath: "recall.svg"))
/// ```
///
/// Ticks fall on 1, 2, 5 × 10ᵏ (linear) or on decades (logarithmic); colours are the Okabe–Ito
/// palette, readable with colour-vision deficiencies, and dashed series stay distinguishable in
/// grey scale. Text is XML-escaped. The output depends only on the data, so it can be compared in
/// tests and diffed in a repository.
public struct LineChart: Sendable, Equatable {
  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var xScale: AxisScale = .linear
  public var yScale: AxisScale = .linear
  /// Fixed x range; `nil` fits the data.
  public var xRange: ClosedRange<Double>? = nil
  /// Fixed y range; `nil` fits the data (error bars included).
  public var yRange: ClosedRange<Double>? = nil
  public var series: [Series] = []
  public var markers: [VerticalMarker] = []
  /// Space between the axis range and the frame on each side, as a fraction of the plot's width
  /// and height (0: the range touches the frame). A small inset keeps points at the ends of a
  /// fixed range, such as an accuracy of exactly 1, and their error bars visible.
  public var insetFraction: Double = 0

  public init(title: String, xLabel: String, yLabel: String, series: [Series] = []) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
  }

  /// Okabe–Ito colours, in order of use.
  public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

  /// The chart as an SVG document of the given size in pixels.
  public func svg(width: Double = 760, height: Double = 460) throws(PlotError) -> String {
    try validate()
    // Up to 220 px, or 40 % of a wider chart, so that long series names fit beside the plot.
    let legendWidth =
      series.isEmpty ? 0 : min(max(220, 0.4 * width), 24 + 7 * Double(series.map(\.name.count).max() ?? 0) + 20)
    let left = 72.0, right = 16 + legendWidth, top = 40.0, bottom = 58.0
    let plotWidth = max(40, width - left - right), plotHeight = max(40, height - top - bottom)
    let inset = min(max(insetFraction, 0), 0.25)
    let xAxis = Axis(
      scale: xScale, range: xRange ?? dataRange(\.x, includeErrors: false), length: plotWidth, inset: inset * plotWidth)
    let yAxis = Axis(
      scale: yScale, range: yRange ?? dataRange(\.y, includeErrors: true), length: plotHeight, inset: inset * plotHeight
    )
    func px(_ x: Double) -> Double { left + xAxis.position(x) }
    func py(_ y: Double) -> Double { top + plotHeight - yAxis.position(y) }

    var out: [String] = []
    out.append(
      ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(f(width))" height="\##(f(height))" viewBox="0 0 \##(f(width)) \##(f(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">"##
    )
    out.append(##"<rect width="100%" height="100%" fill="white"/>"##)
    // The title is centred over the plot, moved right or shrunk when it would leave the figure (about 0.6 em
    // per character of bold Helvetica).
    let titleSize = min(15, (width - 16) / max(1, 0.6 * Double(title.count)))
    let titleHalf = 0.3 * titleSize * Double(title.count)
    let titleX = min(max(left + plotWidth / 2, 8 + titleHalf), width - 8 - titleHalf)
    out.append(
      ##"<text x="\##(f(titleX))" y="22" text-anchor="middle" font-size="\##(f(titleSize))" font-weight="bold">\##(escape(title))</text>"##
    )
    // Grid and ticks.
    for t in xAxis.ticks {
      let x = px(t)
      out.append(
        ##"<line x1="\##(f(x))" y1="\##(f(top))" x2="\##(f(x))" y2="\##(f(top + plotHeight))" stroke="#e6e6e6"/>"##)
      out.append(
        ##"<line x1="\##(f(x))" y1="\##(f(top + plotHeight))" x2="\##(f(x))" y2="\##(f(top + plotHeight + 5))" stroke="black"/>"##
      )
      out.append(
        ##"<text x="\##(f(x))" y="\##(f(top + plotHeight + 18))" text-anchor="middle">\##(escape(xAxis.label(t)))</text>"##
      )
    }
    for t in yAxis.ticks {
      let y = py(t)
      out.append(
        ##"<line x1="\##(f(left))" y1="\##(f(y))" x2="\##(f(left + plotWidth))" y2="\##(f(y))" stroke="#e6e6e6"/>"##)
      out.append(##"<line x1="\##(f(left - 5))" y1="\##(f(y))" x2="\##(f(left))" y2="\##(f(y))" stroke="black"/>"##)
      out.append(
        ##"<text x="\##(f(left - 8))" y="\##(f(y + 4))" text-anchor="end">\##(escape(yAxis.label(t)))</text>"##)
    }
    out.append(
      ##"<rect x="\##(f(left))" y="\##(f(top))" width="\##(f(plotWidth))" height="\##(f(plotHeight))" fill="none" stroke="black"/>"##
    )
    out.append(
      ##"<text x="\##(f(left + plotWidth / 2))" y="\##(f(height - 14))" text-anchor="middle">\##(escape(xLabel))</text>"##
    )
    out.append(
      ##"<text transform="translate(18 \##(f(top + plotHeight / 2))) rotate(-90)" text-anchor="middle">\##(escape(yLabel))</text>"##
    )
    // Markers.
    for m in markers where xAxis.contains(m.x) {
      let x = px(m.x)
      out.append(
        ##"<line x1="\##(f(x))" y1="\##(f(top))" x2="\##(f(x))" y2="\##(f(top + plotHeight))" stroke="#555555" stroke-dasharray="2 3"/>"##
      )
      out.append(
        ##"<text x="\##(f(x + 4))" y="\##(f(top + 14 + 14 * Double(m.labelRow)))" fill="#555555">\##(escape(m.label))</text>"##
      )
    }
    // Series, clipped to the plot area.
    out.append(
      ##"<clipPath id="plot-area"><rect x="\##(f(left))" y="\##(f(top))" width="\##(f(plotWidth))" height="\##(f(plotHeight))"/></clipPath>"##
    )
    out.append(##"<g clip-path="url(#plot-area)">"##)
    for (k, s) in series.enumerated() {
      let colour = Self.palette[k % Self.palette.count]
      let points = s.points.sorted { $0.x < $1.x }
      if points.count > 1 {
        let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
        let dash = s.dashed ? ##" stroke-dasharray="6 4""## : ""
        out.append(##"<polyline points="\##(path)" fill="none" stroke="\##(colour)" stroke-width="2"\##(dash)/>"##)
      }
      for p in points {
        if let e = p.error, e > 0 {
          let lo = yScale == .logarithmic ? max(p.y - e, p.y / 1e6) : p.y - e
          let x = px(p.x)
          out.append(
            ##"<line x1="\##(f(x))" y1="\##(f(py(lo)))" x2="\##(f(x))" y2="\##(f(py(p.y + e)))" stroke="\##(colour)"/>"##
          )
          for yy in [lo, p.y + e] {
            out.append(
              ##"<line x1="\##(f(x - 4))" y1="\##(f(py(yy)))" x2="\##(f(x + 4))" y2="\##(f(py(yy)))" stroke="\##(colour)"/>"##
            )
          }
        }
        if s.showsMarkers || points.count == 1 {
          out.append(##"<circle cx="\##(f(px(p.x)))" cy="\##(f(py(p.y)))" r="3" fill="\##(colour)"/>"##)
        }
      }
    }
    out.append("</g>")
    // Legend, right of the plot area.
    for (k, s) in series.enumerated() {
      let colour = Self.palette[k % Self.palette.count]
      let x = left + plotWidth + 14, y = top + 10 + Double(k) * 20
      let dash = s.dashed ? ##" stroke-dasharray="6 4""## : ""
      out.append(
        ##"<line x1="\##(f(x))" y1="\##(f(y))" x2="\##(f(x + 22))" y2="\##(f(y))" stroke="\##(colour)" stroke-width="2"\##(dash)/>"##
      )
      out.append(##"<text x="\##(f(x + 28))" y="\##(f(y + 4))">\##(escape(s.name))</text>"##)
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  /// Writes the SVG to `url` atomically (a temporary file renamed into place).
  public func write(to url: URL, width: Double = 760, height: Double = 460) throws(PlotError) {
    let text = try svg(width: width, height: height)
    do {
      try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
      throw .writeFailed(path: url.path, reason: error.localizedDescription)
    }
  }

  func validate() throws(PlotError) {
    guard series.contains(where: { !$0.points.isEmpty }) else { throw .noData }
    for s in series {
      for (i, p) in s.points.enumerated() {
        guard p.x.isFinite, p.y.isFinite, p.error?.isFinite ?? true else { throw .nonFinite(series: s.name, index: i) }
        if xScale == .logarithmic && p.x <= 0 {
          throw .nonPositiveOnLogarithmicAxis(series: s.name, index: i, value: p.x)
        }
        if yScale == .logarithmic && p.y <= 0 {
          throw .nonPositiveOnLogarithmicAxis(series: s.name, index: i, value: p.y)
        }
      }
    }
    for (range, scale, name) in [(xRange, xScale, "x"), (yRange, yScale, "y")] {
      guard let range else { continue }
      guard range.lowerBound.isFinite, range.upperBound.isFinite, range.lowerBound < range.upperBound,
        scale == .linear || range.lowerBound > 0
      else { throw .invalidRange(axis: name) }
    }
  }

  func dataRange(_ key: KeyPath<DataPoint, Double>, includeErrors: Bool) -> ClosedRange<Double> {
    var lo = Double.infinity, hi = -Double.infinity
    for s in series {
      for p in s.points {
        let v = p[keyPath: key]
        let e = includeErrors ? (p.error ?? 0) : 0
        lo = min(lo, v - e)
        hi = max(hi, v + e)
        if includeErrors && yScale == .logarithmic { lo = min(lo, v) }
      }
    }
    if includeErrors && yScale == .logarithmic {
      lo = series.flatMap(\.points).map(\.y).min() ?? lo
    }
    return lo...hi
  }
}

/// Maps data values to pixel offsets along one axis and chooses its ticks.
struct Axis {
  let scale: AxisScale
  let low: Double
  let high: Double
  let length: Double
  let ticks: [Double]
  let step: Double
  /// Pixels left free at each end.
  let inset: Double

  init(scale: AxisScale, range: ClosedRange<Double>, length: Double, inset: Double = 0) {
    self.scale = scale
    self.length = length
    self.inset = inset
    var lo = range.lowerBound, hi = range.upperBound
    switch scale {
    case .linear:
      if lo == hi {
        let pad = lo == 0 ? 1 : abs(lo) * 0.1
        lo -= pad
        hi += pad
      }
      let step = Axis.niceStep((hi - lo) / 6)
      self.step = step
      let first = (lo / step).rounded(.down) * step
      let last = (hi / step).rounded(.up) * step
      low = first
      high = last
      var t: [Double] = []
      var k = 0
      while true {
        let v = first + Double(k) * step
        if v > last + step * 1e-9 { break }
        t.append(abs(v) < step * 1e-9 ? 0 : v)
        k += 1
      }
      ticks = t
    case .logarithmic:
      if lo == hi {
        lo /= 2
        hi *= 2
      }
      // Bounds on 1, 2, 5 × 10ᵏ around the data; ticks on decades, plus 2× and 5× when the axis
      // spans at most two and a half decades, plus the bounds themselves.
      low = Axis.niceLogBound(lo, up: false)
      high = Axis.niceLogBound(hi, up: true)
      step = 1
      let minor = Foundation.log10(high / low) <= 2.5
      var t: [Double] = [low]
      for e in Int(Foundation.log10(low).rounded(.down))...Int(Foundation.log10(high).rounded(.up)) {
        let base = Foundation.pow(10, Double(e))
        for m in minor ? [1.0, 2, 5] : [1.0] {
          let v = m * base
          if v > low * (1 + 1e-12) && v < high * (1 - 1e-12) { t.append(v) }
        }
      }
      t.append(high)
      ticks = t
    }
  }

  /// The nearest 1, 2 or 5 × 10ᵏ at or beyond `value` (above it when `up`, else below).
  static func niceLogBound(_ value: Double, up: Bool) -> Double {
    let e = Foundation.log10(value).rounded(.down)
    let candidates = [1.0, 2, 5, 10].map { $0 * Foundation.pow(10, e) }
    if up { return candidates.first { $0 >= value * (1 - 1e-12) } ?? 10 * Foundation.pow(10, e) }
    return candidates.last { $0 <= value * (1 + 1e-12) } ?? Foundation.pow(10, e)
  }

  /// 1, 2 or 5 × 10ᵏ, the smallest at least `raw`.
  static func niceStep(_ raw: Double) -> Double {
    guard raw > 0, raw.isFinite else { return 1 }
    let magnitude = Foundation.pow(10, Foundation.log10(raw).rounded(.down))
    for m in [1.0, 2, 5, 10] where m * magnitude >= raw * (1 - 1e-12) { return m * magnitude }
    return 10 * magnitude
  }

  func position(_ v: Double) -> Double {
    let span = length - 2 * inset
    switch scale {
    case .linear: return inset + (v - low) / (high - low) * span
    case .logarithmic:
      let lv = Foundation.log10(max(v, low / 1e12))
      return inset + (lv - Foundation.log10(low)) / (Foundation.log10(high) - Foundation.log10(low)) * span
    }
  }

  func contains(_ v: Double) -> Bool { v >= low && v <= high }

  func label(_ v: Double) -> String {
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e5 || a < 1e-3 {
      let e = Int(Foundation.log10(a).rounded(.down))
      let m = v / Foundation.pow(10, Double(e))
      let mantissa = abs(m - m.rounded()) < 1e-9 ? String(Int(m.rounded())) : String(format: "%.1f", m)
      return mantissa == "1" ? "1e\(e)" : "\(mantissa)e\(e)"
    }
    if scale == .logarithmic || abs(v - v.rounded()) < 1e-9 * max(1, a) {
      if abs(v - v.rounded()) < 1e-9 * max(1, a) { return String(Int(v.rounded())) }
    }
    if scale == .logarithmic {
      // Enough decimals to show the value's first significant digit (0.01, 0.5, 20).
      let digits = max(0, min(6, -Int(Foundation.log10(a).rounded(.down))))
      return String(format: "%.\(digits)f", v)
    }
    let digits = max(0, min(6, -Int(Foundation.log10(step).rounded(.down))))
    return String(format: "%.\(digits)f", v)
  }
}

@inline(__always) func f(_ v: Double) -> String {
  let r = (v * 100).rounded() / 100
  return r == r.rounded() ? String(Int(r)) : String(r)
}

func escape(_ s: String) -> String {
  var out = ""
  for c in s {
    switch c {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&apos;"
    default: out.append(c)
    }
  }
  return out
}
