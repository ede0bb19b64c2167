import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// How ``IterativeAttentionFactory`` trains its projections on a study's own patterns
/// (`"projections": "trained"`).
///
/// ```
/// start:   identity projections (one step = the modern Hopfield update with β = 1/(τ√d_h))
/// pairs:   every epoch, max(K, 256) targets drawn uniformly from the K stored patterns, each cue
///          corrupted by one of: Gaussian noise σ = 1, masking of half the coordinates, overlap α = 0.7
///          with another stored pattern (a third each; the middle levels of the built-in study)
/// loss:    ½‖f(q) − ξ_target‖² after one application of the stack (the seed-000 objective)
/// trainer: IterativeAttentionTrainer, AdamW η = 3·10⁻³, no weight decay, minibatch 64,
///          `epochs` epochs with early stopping (patience 5) on a fixed validation draw of 256 pairs
/// ```
///
/// Everything is seeded by the cell's model seed, so a cell's model is reproducible; the cells of one
/// (dataset, seed) share their patterns and seed, so a trained model is kept in a small cache
/// (`TrainedAttentionCache`) and reused by the other corruptions and levels of the same draw
/// instead of being trained again. With one stored pattern the overlap corruption is skipped.
enum TrainedAttention {
  static let corruptions: [Corruption] = [.gaussianNoise(sigma: 1), .mask(fraction: 0.5), .overlap(alpha: 0.7)]
  static let minimumPairs = 256
  static let validationPairs = 256
  static let learningRate = 3e-3
  static let batchSize = 64
  static let patience = 5

  /// Corrupted cues of `count` random targets, a third of them per corruption.
  static func pairs(
    patterns: Matrix<Double>, count: Int, rng: inout SeededGenerator
  ) throws(ModelError) -> (queries: Matrix<Double>, targets: Matrix<Double>) {
    let usable = patterns.rows >= 2 ? corruptions : corruptions.filter { if case .overlap = $0 { false } else { true } }
    var queries = Matrix<Double>(rows: count, columns: patterns.columns)
    var targets = Matrix<Double>(rows: count, columns: patterns.columns)
    let all = Corruption.randomTargets(count: count, patternCount: patterns.rows, using: &rng)
    var row = 0
    for (k, corruption) in usable.enumerated() {
      let end = count * (k + 1) / usable.count
      guard end > row else { continue }
      let chosen = Array(all[row..<end])
      let made: CorruptedQueries<Double>
      do { made = try corruption.queries(from: patterns, targets: chosen, using: &rng) } catch {
        throw .invalidParameter(name: "patterns", value: "\(error)", requirement: "patterns a corruption accepts")
      }
      for (i, target) in chosen.enumerated() {
        for j in 0..<patterns.columns {
          queries[row + i, j] = made.queries[i, j]
          targets[row + i, j] = patterns[target, j]
        }
      }
      row = end
    }
    return (queries, targets)
  }

  /// The identity stack trained on `patterns` as described above.
  static func train(
    _ start: IterativeAttention<Double>, patterns: Matrix<Double>, epochs: Int, seed: UInt64
  ) throws(ModelError) -> IterativeAttention<Double> {
    let root = SeededGenerator(seed: seed)
    var validationRNG = root.derived(1)
    let validation = try pairs(patterns: patterns, count: validationPairs, rng: &validationRNG)
    var pairRNG = root.derived(2)
    let count = max(patterns.rows, minimumPairs)
    var trainerRNG = root.derived(3)
    let trainer = IterativeAttentionTrainer(
      epochs: epochs, batchSize: batchSize, patience: patience, learningRate: learningRate, weightDecay: 0,
      seed: trainerRNG.next())
    return try trainer.train(
      start,
      trainingPairs: { (_: Int) throws(ModelError) in try pairs(patterns: patterns, count: count, rng: &pairRNG) },
      validation: validation
    ).model
  }
}

/// The last few trained attention models, keyed by the training seed and a fingerprint of the
/// patterns (FNV-1a of their bytes) and the settings: the cells of one (dataset, seed) differ only in
/// their corruption and share the trained model. Thread-safe; holds at most `capacity` models.
final class TrainedAttentionCache: @unchecked Sendable {
  static let shared = TrainedAttentionCache()
  private let lock = NSLock()
  private var entries: [(key: [UInt64], model: IterativeAttention<Double>)] = []
  let capacity = 8

  func model(
    key: [UInt64], make: () throws -> IterativeAttention<Double>
  ) rethrows -> IterativeAttention<Double> {
    lock.lock()
    if let hit = entries.first(where: { $0.key == key }) {
      lock.unlock()
      return hit.model
    }
    lock.unlock()
    let made = try make()
    lock.lock()
    if !entries.contains(where: { $0.key == key }) {
      entries.append((key, made))
      if entries.count > capacity { entries.removeFirst() }
    }
    lock.unlock()
    return made
  }

  static func key(patterns: Matrix<Double>, seed: UInt64, settings: [UInt64]) -> [UInt64] {
    let hash = patterns.withUnsafeBufferPointer { Fingerprint.fnv1a(UnsafeRawBufferPointer($0)) }
    return [seed, hash, UInt64(patterns.rows), UInt64(patterns.columns)] + settings
  }
}
