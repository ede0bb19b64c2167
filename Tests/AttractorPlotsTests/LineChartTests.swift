import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif
import Testing
@testable import AttractorPlots

@Suite("SVG line charts")
struct LineChartTests {
  func sample() -> LineChart {
    var chart = LineChart(title: "Recall <vs> noise & β", xLabel: "noise σ", yLabel: "accuracy")
    chart.series = [
      Series(
        name: "modern",
        points: [
          DataPoint(x: 0.1, y: 0.98, error: 0.01), DataPoint(x: 0.5, y: 0.7, error: 0.03), DataPoint(x: 0.3, y: 0.9),
        ]),
      Series(name: "classical", points: [DataPoint(x: 0.1, y: 0.9), DataPoint(x: 0.5, y: 0.2)], dashed: true),
    ]
    chart.yRange = 0...1
    chart.markers = [VerticalMarker(x: 0.25, label: "σ*")]
    return chart
  }

  @Test("well-formed XML with title, labels, legend, one polyline per series and error bars")
  func structure() throws {
    let svg = try sample().svg()
    let document = try XMLDocument(xmlString: svg)
    let root = try #require(document.rootElement())
    #expect(root.name == "svg")
    #expect(svg.contains("Recall &lt;vs&gt; noise &amp; β"))
    #expect(
      svg.contains(">noise σ<") && svg.contains(">accuracy<") && svg.contains(">modern<") && svg.contains(">classical<")
    )
    #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
    #expect(svg.contains(#"stroke-dasharray="6 4""#))
    // Two error bars, each a vertical line plus two caps.
    let modernColour = LineChart.palette[0]
    #expect(svg.components(separatedBy: #"stroke="\#(modernColour)"/>"#).count - 1 == 6)
    #expect(svg.contains(">σ*<"))
  }

  @Test("points map into the plot area in order; y = 0 and y = 1 land on the frame")
  func geometry() throws {
    let svg = try sample().svg(width: 760, height: 460)
    // Plot frame: left 72, top 40, height 460 − 40 − 58 = 362.
    let polyline = try #require(svg.split(separator: "\n").first { $0.hasPrefix("<polyline") })
    let coordinates = polyline.split(separator: "\"")[1].split(separator: " ").map { pair in
      pair.split(separator: ",").map { Double($0)! }
    }
    #expect(coordinates.count == 3)
    #expect(coordinates.map { $0[0] } == coordinates.map { $0[0] }.sorted())  // sorted by x
    for c in coordinates { #expect(c[1] >= 40 && c[1] <= 402) }
    #expect(svg.contains(#"<text x="64" y="406" text-anchor="end">0</text>"#))  // tick 0 at the bottom
    #expect(svg.contains(#"<text x="64" y="44" text-anchor="end">1</text>"#))  // tick 1 at the top
  }

  @Test("an inset keeps points at the ends of a fixed range off the frame; ticks move with the data")
  func inset() throws {
    var chart = sample()
    chart.insetFraction = 0.05
    let svg = try chart.svg(width: 760, height: 460)
    // Plot height 362, inset 18.1 px: y = 1 at 40 + 18.1, y = 0 at 402 − 18.1.
    #expect(svg.contains(#"<text x="64" y="62.1" text-anchor="end">1</text>"#))
    #expect(svg.contains(#"<text x="64" y="387.9" text-anchor="end">0</text>"#))
    let polyline = try #require(svg.split(separator: "\n").first { $0.hasPrefix("<polyline") })
    let ys = polyline.split(separator: "\"")[1].split(separator: " ").map { Double($0.split(separator: ",")[1])! }
    for y in ys { #expect(y > 58 && y < 384) }
    #expect(Axis(scale: .linear, range: 0...1, length: 100, inset: 10).position(1) == 90)
    #expect(Axis(scale: .logarithmic, range: 1...100, length: 100, inset: 10).position(1) == 10)
  }

  @Test("a long series name widens the legend (up to 40 % of the width) instead of running off the edge")
  func longLegend() throws {
    var chart = sample()
    chart.series[1].name = "modern Hopfield network, β = 1/4"  // 32 characters: 24 + 7·32 + 20 = 268 px
    let svg = try chart.svg(width: 760, height: 460)
    // Plot width 760 − 72 − (16 + 268) = 404; legend text starts at 72 + 404 + 14 + 28 = 518.
    #expect(svg.contains(#"<text x="518" y="74">modern Hopfield network, β = 1/4</text>"#))
    #expect(518 + 7 * 32 <= 760)
  }

  @Test("nice ticks: 1, 2, 5 × 10ᵏ on linear axes, decades on logarithmic ones")
  func ticks() {
    #expect(Axis(scale: .linear, range: 0...1, length: 100).ticks == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
    #expect(Axis.niceStep(0.17) == 0.2 && Axis.niceStep(3) == 5 && Axis.niceStep(7) == 10 && Axis.niceStep(1) == 1)
    let log = Axis(scale: .logarithmic, range: 3...2000, length: 100)
    #expect(log.ticks == [2, 10, 100, 1000, 2000])  // ends on 1-2-5 values, decades between
    #expect(abs(log.position(2) - 0) < 1e-9 && abs(log.position(2000) - 100) < 1e-9)
    #expect(abs(log.position(200) - 200.0 / 3) < 1e-9)  // two of three decades
    #expect(Axis(scale: .logarithmic, range: 0.3...4, length: 100).ticks == [0.2, 0.5, 1, 2, 5])
    #expect(Axis(scale: .linear, range: 5...5, length: 10).ticks.count >= 2)  // a flat series still gets an axis
  }

  @Test("bad data is refused with typed errors")
  func errors() {
    var chart = LineChart(title: "t", xLabel: "x", yLabel: "y")
    #expect(throws: PlotError.noData) { try chart.svg() }
    chart.series = [Series(name: "s", points: [DataPoint(x: 1, y: .nan)])]
    #expect(throws: PlotError.nonFinite(series: "s", index: 0)) { try chart.svg() }
    chart.series = [Series(name: "s", points: [DataPoint(x: 1, y: 1), DataPoint(x: 0, y: 2)])]
    chart.xScale = .logarithmic
    #expect(throws: PlotError.nonPositiveOnLogarithmicAxis(series: "s", index: 1, value: 0)) { try chart.svg() }
    chart.xScale = .linear
    chart.yRange = 1...1
    #expect(throws: PlotError.invalidRange(axis: "y")) { try chart.svg() }
  }

  @Test("write is atomic and leaves only the file")
  func write() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("plots-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("chart.svg")
    try sample().write(to: url)
    #expect(try String(contentsOf: url, encoding: .utf8) == (try sample().svg()))
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["chart.svg"])
  }
}

@Test("log-axis tick labels keep their first significant digit (0.01 is not printed as 0.0)")
func logTickLabels() throws {
  var chart = LineChart(
    title: "t", xLabel: "x", yLabel: "y",
    series: [Series(name: "s", points: [DataPoint(x: 1, y: 0.02), DataPoint(x: 2, y: 30)])])
  chart.yScale = .logarithmic
  let svg = try chart.svg()
  #expect(svg.contains(">0.1<") && svg.contains(">10<"))
  #expect(!svg.contains(">0.0<"))
}
