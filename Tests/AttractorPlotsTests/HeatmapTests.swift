import Foundation
import Testing
@testable import AttractorPlots

@Suite("Heat map")
struct HeatmapTests {
  @Test("one cell per value, labels escaped, values written, NaN grey")
  func svg() throws {
    var map = Heatmap(title: "k <90>", rowLabel: "layer", columnLabel: "head", values: [[1, 2, 3], [4, .nan, 6]])
    map.rowNames = ["a&b", "c"]
    let svg = try map.svg()
    #expect(svg.contains("k &lt;90&gt;"))
    #expect(svg.contains("a&amp;b"))
    #expect(svg.components(separatedBy: "stroke-width=\"0.5\"").count - 1 == 6)
    #expect(svg.contains("#d0d0d0"))
    #expect(svg.contains(">6.00<"))
    #expect(Heatmap.color(0) == "#440154" && Heatmap.color(1) == "#fde725")
  }

  @Test("ragged rows and empty grids are errors")
  func errors() {
    #expect(throws: PlotError.raggedGrid(row: 1, count: 1, expected: 2)) {
      _ = try Heatmap(title: "", rowLabel: "", columnLabel: "", values: [[1, 2], [3]]).svg()
    }
    #expect(throws: PlotError.noData) { _ = try Heatmap(title: "", rowLabel: "", columnLabel: "", values: []).svg() }
  }
}
