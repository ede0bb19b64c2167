import Foundation
import Testing
import Attractors

// The lines between the markers are the README's Swift example after its `import` line; the test
// below checks that the README still shows exactly them.
func readmeExample() throws -> (energies: [Float], eigenvalues: [Float], bound: Float) {
  // snippet.start readme
  var rng = SeededGenerator(seed: 0)
  let patterns: Matrix<Float> = rng.gaussianMatrix(rows: 100, columns: 64, standardDeviation: 0.125)
  let memory = try ModernHopfield(patterns: patterns, beta: 8)
  let cues = patterns + rng.gaussianMatrix(rows: 100, columns: 64, standardDeviation: 0.05)
  let result = try SynchronousDynamics(maxSteps: 10).run(memory, from: cues)
  print(result.trajectories[0].energies!)  // E(x₀) … E(x_T), never increasing
  let j = memory.jacobian(at: result.finalStates.row(0))
  print(try j.symmetricEigendecomposition().eigenvalues)  // stability of the fixed point
  // snippet.end readme
  return (
    result.trajectories[0].energies!, try j.symmetricEigendecomposition().eigenvalues,
    memory.beta * memory.maxPatternNorm * memory.maxPatternNorm
  )
}

@Suite("README example")
struct ReadmeExampleTests {
  @Test("runs: energies never increase and the Jacobian's eigenvalues lie in [0, βM²]")
  func runs() throws {
    let (energies, eigenvalues, bound) = try readmeExample()
    #expect(energies.count >= 2)
    for t in 1..<energies.count { #expect(energies[t] <= energies[t - 1] + 1e-5) }
    #expect(eigenvalues.allSatisfy { $0 >= -1e-5 && $0 <= bound * (1 + 1e-5) })
  }

  @Test("the README shows exactly this code")
  func readmeMatchesCode() throws {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let source = try String(contentsOf: here, encoding: .utf8)
    let start = try #require(source.range(of: "// snippet.start readme\n"))
    let end = try #require(source.range(of: "// snippet.end readme\n"))
    // The code is indented one level inside the function; the README shows it at top level.
    let snippet = source[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.hasPrefix("  ") ? String($0.dropFirst(2)) : String($0) }.joined(separator: "\n")
    #expect(readme.contains("```swift\nimport Attractors\n\n" + snippet + "```"))
  }
}
