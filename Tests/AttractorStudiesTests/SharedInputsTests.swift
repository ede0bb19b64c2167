import AttractorLinearAlgebra
import Foundation
import Testing

@testable import AttractorStudies

@Suite("study inputs")
struct SharedInputsTests {
  @Test("levels of one corruption share their draws: nested masks, scaled noise, same targets")
  func nestedLevels() throws {
    let study = try smallStudy()  // noise 0.5, 1.0; mask 0.25, 0.5
    let noiseLow = try study.inputs(dataset: 0, seed: 1, corruption: 0, level: 0, patterns: nil)
    let noiseHigh = try study.inputs(dataset: 0, seed: 1, corruption: 0, level: 1, patterns: nil)
    let maskLow = try study.inputs(dataset: 0, seed: 1, corruption: 1, level: 0, patterns: nil)
    let maskHigh = try study.inputs(dataset: 0, seed: 1, corruption: 1, level: 1, patterns: nil)
    #expect(noiseLow.patterns == maskHigh.patterns && noiseLow.targets == maskHigh.targets)
    // σ = 1 noise is the σ = 0.5 noise doubled.
    let x = noiseLow.patterns.rows(at: noiseLow.targets)
    let doubled = x + 2 * (noiseLow.queries - x)
    #expect(doubled.maxAbsDifference(noiseHigh.queries) < 1e-12)
    // Every coordinate masked at 25 % is masked at 50 %; twice as many are masked.
    var low = 0, high = 0
    for r in 0..<x.rows {
      for j in 0..<x.columns {
        if maskLow.queries[r, j] == 0 {
          low += 1
          #expect(maskHigh.queries[r, j] == 0)
        }
        if maskHigh.queries[r, j] == 0 { high += 1 }
      }
    }
    #expect(low == 4 * x.rows && high == 8 * x.rows)  // round(0.25·16), round(0.5·16) per query
    // Another seed draws other patterns.
    let other = try study.inputs(dataset: 0, seed: 0, corruption: 0, level: 0, patterns: nil)
    #expect(other.patterns != noiseLow.patterns)
  }
}
