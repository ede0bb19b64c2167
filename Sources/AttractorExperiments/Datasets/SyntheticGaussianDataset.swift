import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// Seed 000's Synthetic-Gaussian task: `count` vectors with independent N(0, 1) entries, keys =
/// values, split into training, validation and test targets.
///
/// ```
/// ξ_μ ~ N(0, I_d),  μ = 1 … count;   split of a seeded permutation: first 80 %, next 10 %, last 10 %
/// ```
///
/// Every vector is stored in the memory; the split decides which stored vectors are used as
/// targets of training, validation and test queries. So test queries ask for stored vectors that
/// training never asked for. With entries of unit variance, the noise level σ of
/// ``Corruption/gaussianNoise(sigma:)`` is the noise-to-signal ratio per coordinate.
public struct SyntheticGaussianDataset<Scalar: LinearAlgebraScalar>: Sendable {
  /// The stored vectors, one per row (count × d).
  public let patterns: Matrix<Scalar>
  /// Row indices used as targets while training (80 %).
  public let training: [Int]
  /// Row indices used for early stopping (10 %).
  public let validation: [Int]
  /// Row indices used for every reported number (the rest, about 10 %).
  public let test: [Int]

  /// Draws the dataset from `seed` (the vectors and the split use separate derived streams).
  ///
  /// - Throws: ``DatasetError/invalidParameter(name:value:requirement:)`` unless count ≥ 10 and d ≥ 1.
  public init(count: Int = 10_000, dimension: Int = 64, seed: UInt64) throws(DatasetError) {
    try DatasetError.check(count >= 10, "count", count, "at least 10")
    try DatasetError.check(dimension >= 1, "dimension", dimension, "at least 1")
    let root = SeededGenerator(seed: seed)
    var vectors = root.derived(0)
    patterns = vectors.gaussianMatrix(rows: count, columns: dimension, standardDeviation: 1)
    var splitter = root.derived(1)
    var order = [Int](repeating: 0, count: count)
    splitter.shuffle(&order)
    let trainingCount = count * 8 / 10, validationCount = count / 10
    training = Array(order[0..<trainingCount])
    validation = Array(order[trainingCount..<(trainingCount + validationCount)])
    test = Array(order[(trainingCount + validationCount)...])
  }
}

extension IterativeAttentionModelFolder {
  /// Reads an iterative-attention model folder, regenerating a Synthetic-Gaussian memory recipe
  /// with ``SyntheticGaussianDataset`` (see
  /// ``/AttractorModels/IterativeAttentionModelFolder/load(from:regeneratingMemory:)``).
  ///
  /// - Returns: the record, the model and the unpadded patterns (M × d_data).
  /// - Throws: ``/AttractorIO/ModelFolderError`` naming the file and what is wrong.
  public static func load(from folder: URL) throws(ModelFolderError) -> Loaded {
    try load(from: folder) { count, dimension, seed in
      try SyntheticGaussianDataset<Float>(count: count, dimension: dimension, seed: seed).patterns
    }
  }
}
