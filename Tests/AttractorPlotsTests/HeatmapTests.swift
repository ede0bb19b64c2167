import AttractorPlots
import Foundation
import Testing

@Suite("Heatmap")
struct HeatmapTests {
  @Test("One cell per value, coloured on a symmetric diverging scale; labels escaped")
  func cells() throws {
    var map = Heatmap(title: "W <KQ>", values: [[1, 0, -1], [0.5, 0, 0]])
    map.rowLabels = ["a", "b&c"]
    map.columnLabels = ["1", "2", "3"]
    let svg = try map.svg()
    #expect(svg.components(separatedBy: "<title>[").count - 1 == 6)
    #expect(svg.contains("W &lt;KQ&gt;") && svg.contains("b&amp;c"))
    // +1 → the red end, −1 → the blue end, 0 → white.
    #expect(svg.contains(##"fill="#b2182b"><title>[0,0]"##))
    #expect(svg.contains(##"fill="#2166ac"><title>[0,2]"##))
    #expect(svg.contains(##"fill="#ffffff"><title>[0,1]"##))
  }

  @Test("Sequential scale runs from white (min) to dark blue (max)")
  func sequential() throws {
    var map = Heatmap(title: "p", values: [[0, 2]])
    map.colourScale = .sequential
    let svg = try map.svg()
    #expect(svg.contains(##"fill="#ffffff"><title>[0,0]"##) && svg.contains(##"fill="#08306b"><title>[0,1]"##))
  }

  @Test("Empty, ragged or non-finite input and bad ranges are refused")
  func badInput() {
    #expect(throws: PlotError.noData) { try Heatmap(title: "", values: []).svg() }
    #expect(throws: PlotError.invalidShape(row: 1, count: 1, expected: 2)) {
      try Heatmap(title: "", values: [[1, 2], [3]]).svg()
    }
    #expect(throws: PlotError.nonFinite(series: "row 0", index: 1)) {
      try Heatmap(title: "", values: [[1, .nan]]).svg()
    }
    var map = Heatmap(title: "", values: [[1]])
    map.range = 2...2
    #expect(throws: PlotError.invalidRange(axis: "value")) { try map.svg() }
  }
}
