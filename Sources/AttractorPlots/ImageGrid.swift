import Foundation

/// A grid of small grey-scale images (rows × columns of h × w tiles with values in [0, 1]), enlarged
/// by an integer factor so that a person can read it, with row and column labels.
///
/// ```swift
/// var grid = ImageGrid(tileHeight: 20, tileWidth: 20, tiles: [[cue, t1, target]])
/// grid.columnLabels = ["cue", "t = 1", "target"]
/// let big = try grid.composed()                  // `scale` × larger: width, height, pixels (row-major)
/// let small = try grid.composed(scale: 1)
/// let svg = try grid.svg(png: GrayscalePNG.encode(width: small.width, height: small.height, pixels: small.pixels),
///                        pngScale: 1)           // the PNG embedded (base64), drawn `scale` × larger, labelled
/// ```
///
/// Composition: every source pixel becomes a `scale` × `scale` block (nearest neighbour, so pixels
/// stay sharp), tiles are separated by `gap` source pixels of the background grey. The SVG draws the
/// embedded PNG at `scale` × its source size inside a margin holding the labels; an embedded PNG
/// composed at a smaller scale is enlarged by the viewer with `image-rendering` set to
/// nearest-neighbour (`optimizeSpeed`, `pixelated`), which keeps the SVG small (the PNG encoder of
/// AttractorIO writes uncompressed blocks). This type only needs the PNG's bytes.
public struct ImageGrid: Sendable, Equatable {
  /// Height and width of one tile in source pixels.
  public var tileHeight: Int
  public var tileWidth: Int
  /// The tiles, one inner array per grid row, each tile `tileHeight · tileWidth` values (row-major,
  /// 0 = black, 1 = white; values outside [0, 1] are clamped).
  public var tiles: [[[Double]]]
  /// Integer enlargement factor (≥ 1).
  public var scale: Int = 4
  /// Source pixels between tiles.
  public var gap: Int = 2
  /// Grey of the gaps.
  public var background: Double = 0.15
  /// The title above the grid (empty: none).
  public var title: String = ""
  /// Labels of the grid rows (left) and columns (top), or `nil`.
  public var rowLabels: [String]? = nil
  public var columnLabels: [String]? = nil

  public init(tileHeight: Int, tileWidth: Int, tiles: [[[Double]]]) {
    self.tileHeight = tileHeight
    self.tileWidth = tileWidth
    self.tiles = tiles
  }

  /// Grid rows and columns (columns of the longest row).
  public var rows: Int { tiles.count }
  public var columns: Int { tiles.map(\.count).max() ?? 0 }

  /// Checks sizes: at least one tile, every tile h·w finite values, scale ≥ 1, gap ≥ 0.
  public func validate() throws(PlotError) {
    guard tileHeight >= 1, tileWidth >= 1, rows >= 1, columns >= 1 else { throw .noData }
    guard scale >= 1, gap >= 0, scale <= 64, gap <= 1_000 else { throw .invalidRange(axis: "scale or gap") }
    for (r, row) in tiles.enumerated() {
      for (c, tile) in row.enumerated() {
        guard tile.count == tileHeight * tileWidth else {
          throw .invalidShape(row: r, count: tile.count, expected: tileHeight * tileWidth)
        }
        if let k = tile.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(series: "tile [\(r), \(c)]", index: k) }
      }
    }
  }

  /// The image enlarged by `scale` (default: the grid's ``scale``): width, height and row-major grey
  /// values in [0, 1].
  public func composed(scale: Int? = nil) throws(PlotError) -> (width: Int, height: Int, pixels: [Double]) {
    try validate()
    let scale = scale ?? self.scale
    guard scale >= 1, scale <= 64 else { throw .invalidRange(axis: "scale") }
    let cellW = (tileWidth + gap) * scale, cellH = (tileHeight + gap) * scale
    let width = columns * cellW - gap * scale, height = rows * cellH - gap * scale
    var pixels = [Double](repeating: background, count: width * height)
    for (r, row) in tiles.enumerated() {
      for (c, tile) in row.enumerated() {
        for y in 0..<tileHeight {
          for x in 0..<tileWidth {
            let v = min(max(tile[y * tileWidth + x], 0), 1)
            let y0 = r * cellH + y * scale, x0 = c * cellW + x * scale
            for dy in 0..<scale {
              let base = (y0 + dy) * width + x0
              for dx in 0..<scale { pixels[base + dx] = v }
            }
          }
        }
      }
    }
    return (width, height, pixels)
  }

  /// An SVG that shows `png` (the PNG of ``composed(scale:)`` at `pngScale`) enlarged to the grid's
  /// ``scale``, with the title and labels.
  public func svg(png: Data, pngScale: Int = 1) throws(PlotError) -> String {
    try validate()
    guard pngScale >= 1, pngScale <= scale, scale % pngScale == 0 else { throw .invalidRange(axis: "pngScale") }
    let cellW0 = (tileWidth + gap) * scale, cellH0 = (tileHeight + gap) * scale
    let image = (width: columns * cellW0 - gap * scale, height: rows * cellH0 - gap * scale)
    // Margins from the label lengths (about 7.5 points per character at 13 points, 9 at 15).
    let longestRowLabel = rowLabels?.map(\.count).max() ?? 0
    let left = rowLabels == nil ? 10.0 : 18 + 7.5 * Double(longestRowLabel)
    let top = (title.isEmpty ? 10.0 : 34.0) + (columnLabels == nil ? 0 : 20)
    let width = max(left + Double(image.width) + 10, 20 + 9 * Double(title.count))
    let height = top + Double(image.height) + 10
    let cellW = Double((tileWidth + gap) * scale), cellH = Double((tileHeight + gap) * scale)
    func f(_ x: Double) -> String { String(format: "%.1f", x) }
    var out = [
      ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(f(width))" height="\##(f(height))" viewBox="0 0 \##(f(width)) \##(f(height))" font-family="Helvetica, Arial, sans-serif" font-size="13">"##,
      ##"<rect width="100%" height="100%" fill="white"/>"##,
    ]
    if !title.isEmpty {
      out.append(
        ##"<text x="\##(f(width / 2))" y="22" text-anchor="middle" font-size="15" font-weight="bold">\##(escape(title))</text>"##
      )
    }
    if let columnLabels {
      for (j, label) in columnLabels.enumerated() where j < columns {
        let x = left + Double(j) * cellW + Double(tileWidth * scale) / 2
        out.append(##"<text x="\##(f(x))" y="\##(f(top - 6))" text-anchor="middle">\##(escape(label))</text>"##)
      }
    }
    if let rowLabels {
      for (i, label) in rowLabels.enumerated() where i < rows {
        let y = top + Double(i) * cellH + Double(tileHeight * scale) / 2 + 4
        out.append(##"<text x="\##(f(left - 8))" y="\##(f(y))" text-anchor="end">\##(escape(label))</text>"##)
      }
    }
    out.append(
      ##"<image x="\##(f(left))" y="\##(f(top))" width="\##(image.width)" height="\##(image.height)" preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering:pixelated" href="data:image/png;base64,\##(png.base64EncodedString())"/>"##
    )
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }
}
