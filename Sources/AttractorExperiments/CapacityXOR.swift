import AttractorCore
import AttractorLinearAlgebra
import AttractorModels

/// The XOR experiment of Krotov & Hopfield: N = 3 units (x, y, z), K = 4 memories, one per row of
/// the truth table, and the question whether one update of z with x and y held computes XOR.
///
/// ```
/// memories (±1, +1 = true):  (x, y, z) with z = −x·y:  (−,−,−), (−,+,+), (+,−,+), (+,+,−)
/// z ← Sign Σ_μ ξ^μ_z D(ξ^μ_x x + ξ^μ_y y),   D(a) = F(a + 1) − F(a − 1)
/// ```
///
/// The decision does not depend on z's current value, except on a tie (a zero sum keeps z). The
/// memory solves XOR when, for all four inputs and both initial values of z, z ends at −x·y.
/// Expected (paper): polynomial n = 1, 2 and even n cannot (every sum is 0); odd n ≥ 3 gives
/// z = Sign[−xy]; rectified polynomials solve it for n ≥ 2.
public enum XORExperiment {
  /// The four memories, rows (x, y, z).
  public static let memories = Matrix<Double>(rowArrays: [[-1, -1, -1], [-1, 1, 1], [1, -1, 1], [1, 1, -1]])

  /// One input row of the truth table.
  public struct Row: Sendable, Equatable, Codable {
    public var x: Int
    public var y: Int
    /// XOR in ±1: −x·y.
    public var expected: Int
    /// Σ_μ ξ^μ_z D(ξ^μ_x x + ξ^μ_y y) (its sign is the decision; 0 keeps z).
    public var decisionSum: Double
    /// z after one update from z = +1 and from z = −1.
    public var zFromPlus: Int
    public var zFromMinus: Int
    /// Correct from both initial values of z.
    public var correct: Bool
  }

  /// The truth table under one interaction.
  public struct Result: Sendable, Equatable, Codable {
    public var interaction: String
    public var rows: [Row]
    public var solved: Bool { rows.allSatisfy(\.correct) }
  }

  /// Runs the four inputs through one update of z with `interaction`.
  public static func run<F: InteractionFunction>(interaction: F) throws(ModelError) -> Result {
    let memory = try DenseAssociativeMemory(patterns: memories, interaction: interaction)
    var rows: [Row] = []
    var workspace = memory.makeWorkspace(batchSize: 1)
    for (x, y) in [(-1, -1), (-1, 1), (1, -1), (1, 1)] {
      var sum = 0.0
      for mu in 0..<4 {
        let a = Int(memories[mu, 0]) * x + Int(memories[mu, 1]) * y
        sum += memories[mu, 2] * interaction.difference(at: a)
      }
      var results: [Int] = []
      for z0 in [1, -1] {
        var state = Matrix<Double>(rows: 1, columns: 3, elements: [Double(x), Double(y), Double(z0)])
        memory.prepareCoordinateUpdates(of: state, workspace: &workspace)
        memory.updateCoordinate(2, of: &state, workspace: &workspace)
        results.append(Int(state[0, 2]))
      }
      let expected = -x * y
      rows.append(
        Row(
          x: x, y: y, expected: expected, decisionSum: sum, zFromPlus: results[0], zFromMinus: results[1],
          correct: results[0] == expected && results[1] == expected))
    }
    return Result(interaction: interaction.description, rows: rows)
  }
}
