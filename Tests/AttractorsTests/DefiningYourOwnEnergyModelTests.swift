import Foundation
import Testing
import Attractors

// The code between the `snippet` markers is the article
// Sources/Attractors/Attractors.docc/DefiningYourOwnEnergyModel.md, verbatim: the test below
// checks that the article still shows exactly this code, and the other tests run it.

// snippet.start energy
/// A Gaussian-kernel memory: E(x) = −β⁻¹ log Σ_μ exp(−β ‖x − ξ_μ‖² / 2).
/// Its gradient is x − Σ_μ w_μ ξ_μ with w = softmax(−β ‖x − ξ_μ‖² / 2).
struct GaussianKernelMemory: EnergyFunction {
  let patterns: Matrix<Double>  // N × d, one stored pattern per row
  let beta: Double
  var dimension: Int { patterns.columns }

  func logits(_ x: Matrix<Double>, row r: Int) -> [Double] {
    (0..<patterns.rows).map { -beta * Double.pow(x.rowDistance(r, to: patterns, row: $0), 2) / 2 }
  }

  func energy(_ x: Matrix<Double>, into energies: inout [Double], workspace: inout Void) {
    for r in 0..<x.rows { energies[r] = -logSumExp(logits(x, row: r)) / beta }
  }

  func gradient(_ x: Matrix<Double>, into gradient: inout Matrix<Double>, workspace: inout Void) {
    for r in 0..<x.rows {
      let w = softmax(logits(x, row: r))
      for j in 0..<dimension {
        gradient[r, j] = x[r, j] - (0..<patterns.rows).reduce(0) { $0 + w[$1] * patterns[$1, j] }
      }
    }
  }
}
// snippet.end energy

// snippet.start usage
func recallWithGaussianKernel() throws -> DynamicsResult<Double> {
  var rng = SeededGenerator(seed: 1)
  let patterns: Matrix<Double> = rng.gaussianMatrix(rows: 10, columns: 16)
  let memory = GaussianKernelMemory(patterns: patterns, beta: 2)
  let noise: Matrix<Double> = rng.gaussianMatrix(rows: 10, columns: 16, standardDeviation: 0.3)
  // Gradient descent with step 1 is x ← Σ_μ w_μ ξ_μ: the mean-shift iteration.
  let rule = GradientDescent(memory, stepSize: 1)
  return try SynchronousDynamics(maxSteps: 50, tolerance: 1e-9).run(rule, from: patterns + noise)
}
// snippet.end usage

@Suite("Article: Defining your own energy model")
struct DefiningYourOwnEnergyModelTests {
  @Test("the example recalls every pattern, the energy never increases, and it converges")
  func runsAsDescribed() throws {
    let result = try recallWithGaussianKernel()
    var rng = SeededGenerator(seed: 1)
    let patterns: Matrix<Double> = rng.gaussianMatrix(rows: 10, columns: 16)
    #expect(result.allConverged)
    for (r, trajectory) in result.trajectories.enumerated() {
      let energies = try #require(trajectory.energies)
      for t in 1..<energies.count { #expect(energies[t] <= energies[t - 1] + 1e-12) }
      // Nearest stored pattern of the end state is the one the cue came from.
      let distances = (0..<10).map { result.finalStates.rowDistance(r, to: patterns, row: $0) }
      #expect(distances.firstIndex(of: distances.min()!) == r)
      #expect(distances[r] < 0.05)
    }
  }

  @Test("the example's gradient agrees with finite differences of its energy")
  func gradientIsRight() {
    var rng = SeededGenerator(seed: 2)
    let memory = GaussianKernelMemory(patterns: rng.gaussianMatrix(rows: 5, columns: 4), beta: 1.5)
    let x: [Double] = [0.2, -0.4, 1, 0.1]
    let analytic = memory.gradient(Matrix(rows: 1, columns: 4, elements: x)).elements
    let numeric = FiniteDifferences.gradient(of: memory, at: x, step: 1e-5)
    #expect(zip(analytic, numeric).allSatisfy { abs($0 - $1) < 1e-8 })
  }

  @Test("the article shows exactly the code compiled here")
  func articleMatchesCode() throws {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let article = try String(
      contentsOf: root.appendingPathComponent("Sources/Attractors/Attractors.docc/DefiningYourOwnEnergyModel.md"),
      encoding: .utf8)
    let source = try String(contentsOf: here, encoding: .utf8)
    for name in ["energy", "usage"] {
      let start = try #require(source.range(of: "// snippet.start \(name)\n"))
      let end = try #require(source.range(of: "// snippet.end \(name)\n"))
      let snippet = String(source[start.upperBound..<end.lowerBound])
      #expect(
        article.contains("```swift\n" + snippet + "```"), "the article's \(name) block differs from the tested code")
    }
  }
}
