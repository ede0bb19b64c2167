import AttractorPlots
import Foundation
import Testing

@Suite("Image grids: integer enlargement and labels")
struct ImageGridTests {
  @Test("every source pixel becomes a scale × scale block; gaps take the background; labels are escaped")
  func composition() throws {
    var grid = ImageGrid(tileHeight: 2, tileWidth: 3, tiles: [[[0, 0.5, 1, 0.25, 0.75, 2]], [[1, 1, 1, 0, 0, -1]]])
    grid.scale = 2
    grid.gap = 1
    grid.background = 0.1
    grid.rowLabels = ["a<b", "c"]
    grid.columnLabels = ["t = 1"]
    let image = try grid.composed()
    #expect(image.width == 3 * 2 && image.height == 2 * (2 + 1) * 2 - 2)
    func pixel(_ x: Int, _ y: Int) -> Double { image.pixels[y * image.width + x] }
    // Tile 0, source pixel (row 0, column 1) = 0.5 fills x 2…3, y 0…1; source 2 is clamped to 1.
    for (x, y) in [(2, 0), (3, 0), (2, 1), (3, 1)] { #expect(pixel(x, y) == 0.5) }
    #expect(pixel(5, 3) == 1 && pixel(2, 2) == 0.75)
    #expect(pixel(0, 4) == 0.1 && pixel(5, 5) == 0.1)  // the gap rows between the two grid rows
    #expect(pixel(0, 6) == 1 && pixel(5, 9) == 0)  // tile 1; −1 clamped to 0
    let small = try grid.composed(scale: 1)
    #expect(small.width == 3 && small.height == 5)
    let svg = try grid.svg(png: Data([1, 2, 3]), pngScale: 1)
    #expect(svg.contains("a&lt;b") && svg.contains(">t = 1<") && svg.contains("base64,AQID"))
    #expect(svg.contains(#"width="6" height="10""#))  // drawn at the grid's scale
  }

  @Test("bad grids are refused with a typed error")
  func badInput() {
    #expect(throws: PlotError.self) { try ImageGrid(tileHeight: 2, tileWidth: 2, tiles: []).composed() }
    #expect(throws: PlotError.self) { try ImageGrid(tileHeight: 2, tileWidth: 2, tiles: [[[0, 1, 0]]]).composed() }
    #expect(throws: PlotError.self) { try ImageGrid(tileHeight: 1, tileWidth: 1, tiles: [[[Double.nan]]]).composed() }
    var grid = ImageGrid(tileHeight: 1, tileWidth: 1, tiles: [[[0]]])
    grid.scale = 0
    #expect(throws: PlotError.self) { try grid.composed() }
    grid.scale = 4
    #expect(throws: PlotError.self) { try grid.svg(png: Data(), pngScale: 3) }
  }
}
