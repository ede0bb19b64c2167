import AttractorCore
import AttractorLinearAlgebra

/// A way of damaging a stored pattern to make a retrieval query.
///
/// ```
/// .gaussianNoise(σ):   q = ξ_target + σ g,                 g ~ N(0, I)
/// .mask(f):            q = ξ_target with round(f·d) random coordinates set to 0
/// .overlap(α):         q = α ξ_target + (1 − α) ξ_distractor,  distractor ≠ target, uniform
/// .flip(f):            q = ξ_target with round(f·d) random coordinates negated
/// .none:               q = ξ_target
/// ```
///
/// σ is absolute (per coordinate, in the units of the patterns): for patterns with entries of
/// scale s the noise-to-signal norm ratio is σ/s. `round` rounds half away from zero, and the
/// count is clamped to d. `.flip` is the natural corruption for ±1 models (the classical Hopfield
/// network); on real patterns it negates coordinates.
///
/// The corruptions of seed 000 ("Iterative attention at test time") are `.gaussianNoise`,
/// `.mask` and `.overlap`.
///
/// Encodes to JSON as `{"kind": "noise", "level": 0.3}` (`kind` is ``Kind``'s raw value; `level`
/// is absent for `.none`).
public enum Corruption: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// Additive Gaussian noise with standard deviation `sigma` per coordinate.
  case gaussianNoise(sigma: Double)
  /// A seeded random subset of round(fraction·d) coordinates set to 0.
  case mask(fraction: Double)
  /// The blend α·target + (1 − α)·distractor with a different stored pattern.
  case overlap(alpha: Double)
  /// A seeded random subset of round(fraction·d) coordinates negated.
  case flip(fraction: Double)
  /// The target itself.
  case none

  /// The kind of a corruption, without its level (names as on the command line).
  public enum Kind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case noise, mask, overlap, flip, none

    /// What `level` means for this kind and the range it must lie in.
    public var levelMeaning: String {
      switch self {
      case .noise: "a standard deviation σ, finite and ≥ 0"
      case .mask: "a fraction in [0, 1]"
      case .overlap: "a weight α in [0, 1]"
      case .flip: "a fraction in [0, 1]"
      case .none: "ignored"
      }
    }

    public var description: String { rawValue }
  }

  /// The corruption of the given kind at `level` (σ, fraction or α; ignored for `.none`).
  /// Call ``validate()`` to check the level.
  public init(kind: Kind, level: Double) {
    switch kind {
    case .noise: self = .gaussianNoise(sigma: level)
    case .mask: self = .mask(fraction: level)
    case .overlap: self = .overlap(alpha: level)
    case .flip: self = .flip(fraction: level)
    case .none: self = .none
    }
  }

  /// The kind, without the level.
  public var kind: Kind {
    switch self {
    case .gaussianNoise: .noise
    case .mask: .mask
    case .overlap: .overlap
    case .flip: .flip
    case .none: .none
    }
  }

  /// σ, the fraction or α; `nil` for `.none`.
  public var level: Double? {
    switch self {
    case .gaussianNoise(let x), .mask(let x), .overlap(let x), .flip(let x): x
    case .none: nil
    }
  }

  public var description: String {
    switch self {
    case .gaussianNoise(let sigma): "gaussian noise σ = \(sigma)"
    case .mask(let fraction): "mask fraction \(fraction)"
    case .overlap(let alpha): "overlap α = \(alpha)"
    case .flip(let fraction): "flip fraction \(fraction)"
    case .none: "none"
    }
  }

  /// Checks the level: σ finite and ≥ 0; fractions and α in [0, 1].
  public func validate() throws(CorruptionError) {
    switch self {
    case .gaussianNoise(let sigma):
      guard sigma.isFinite && sigma >= 0 else { throw .invalidLevel(kind: .noise, value: sigma) }
    case .mask(let fraction):
      guard fraction >= 0 && fraction <= 1 else { throw .invalidLevel(kind: .mask, value: fraction) }
    case .overlap(let alpha):
      guard alpha >= 0 && alpha <= 1 else { throw .invalidLevel(kind: .overlap, value: alpha) }
    case .flip(let fraction):
      guard fraction >= 0 && fraction <= 1 else { throw .invalidLevel(kind: .flip, value: fraction) }
    case .none:
      break
    }
  }

  /// Number of coordinates a `.mask` or `.flip` corruption changes in dimension `d`:
  /// round(fraction·d), clamped to 0…d. Zero for the other kinds.
  public func affectedCoordinates(dimension d: Int) -> Int {
    switch self {
    case .mask(let fraction), .flip(let fraction):
      return min(d, max(0, Int((fraction * Double(d)).rounded())))
    default:
      return 0
    }
  }

  /// Corrupted copies of the stored patterns at `targets`, one query per target, in order.
  ///
  /// One value is drawn from `generator` to seed a root stream; query k then uses the stream
  /// derived from k (``/AttractorCore/SeededGenerator/derived(_:)``). So the same generator state gives the same
  /// queries, and query k does not depend on how many queries are made.
  ///
  /// - Parameters:
  ///   - patterns: Stored patterns, one per row (N × d).
  ///   - targets: Row indices into `patterns`, each in 0..<N.
  ///   - generator: The source of randomness; one value is drawn from it.
  /// - Throws: ``CorruptionError`` for an invalid level, no patterns, a target out of range, or
  ///   `.overlap` with fewer than two patterns.
  public func queries<Scalar: LinearAlgebraScalar>(
    from patterns: Matrix<Scalar>, targets: [Int], using generator: inout SeededGenerator
  ) throws(CorruptionError) -> CorruptedQueries<Scalar> {
    try validatedTargets(targets, patterns: patterns)
    return try queries(corrupting: patterns.rows(at: targets), patterns: patterns, targets: targets, using: &generator)
  }

  /// Corrupted copies of arbitrary clean cues `bases` (one per target, B × d), each meant to
  /// retrieve stored pattern `targets[k]`: noise, masking and flips act on the cue; `.overlap(α)`
  /// blends it with a stored distractor, α·cue + (1 − α)·ξ_distractor, distractor ≠ target.
  ///
  /// With `bases = patterns.rows(at: targets)` this is ``queries(from:targets:using:)``. A
  /// different base is a cue that is already imperfect, for example the embedding of one MNIST
  /// image whose target is its class prototype. Randomness as in ``queries(from:targets:using:)``.
  ///
  /// - Throws: ``CorruptionError`` as ``queries(from:targets:using:)``, and
  ///   ``CorruptionError/baseShapeMismatch(rows:columns:expectedRows:expectedColumns:)`` when
  ///   `bases` is not B × d.
  public func queries<Scalar: LinearAlgebraScalar>(
    corrupting bases: Matrix<Scalar>, patterns: Matrix<Scalar>, targets: [Int], using generator: inout SeededGenerator
  ) throws(CorruptionError) -> CorruptedQueries<Scalar> {
    try validatedTargets(targets, patterns: patterns)
    guard bases.rows == targets.count && bases.columns == patterns.columns else {
      throw .baseShapeMismatch(
        rows: bases.rows, columns: bases.columns, expectedRows: targets.count, expectedColumns: patterns.columns)
    }
    return try corrupt(bases, patternCount: patterns.rows, targets: targets, using: &generator) { other, row in
      patterns.withUnsafeBufferPointer { p in
        for j in 0..<patterns.columns { row[j] = p[other * patterns.columns + j] }
      }
    }
  }

  /// Corrupted copies of clean cues `bases` as ``queries(corrupting:patterns:targets:using:)``
  /// makes them, for N stored patterns that are not in memory (a memory-mapped file): `pattern`
  /// writes stored pattern μ (d values) into its buffer when an `.overlap` corruption needs it as
  /// a distractor. The same generator state, bases, N and patterns give the same queries, value
  /// for value, as the in-memory call.
  ///
  /// - Throws: ``CorruptionError`` for an invalid level, N < 1, a target outside 0..<N, `.overlap`
  ///   with N < 2, or `bases` that is not B × d with d ≥ 1.
  public func queries<Scalar: LinearAlgebraScalar>(
    corrupting bases: Matrix<Scalar>, patternCount n: Int, targets: [Int], using generator: inout SeededGenerator,
    pattern: (Int, inout [Scalar]) -> Void
  ) throws(CorruptionError) -> CorruptedQueries<Scalar> {
    try validate()
    guard n >= 1 && bases.columns >= 1 else { throw .emptyPatterns(count: n, dimension: bases.columns) }
    try CorruptionError.checkTargets(targets, patternCount: n)
    if case .overlap = self, n < 2 { throw .overlapNeedsTwoPatterns(patternCount: n) }
    return try corrupt(bases, patternCount: n, targets: targets, using: &generator, pattern: pattern)
  }

  /// The corruption of `bases` (targets and N checked by the caller); `pattern` fills a
  /// distractor's row.
  private func corrupt<Scalar: LinearAlgebraScalar>(
    _ bases: Matrix<Scalar>, patternCount n: Int, targets: [Int], using generator: inout SeededGenerator,
    pattern: (Int, inout [Scalar]) -> Void
  ) throws(CorruptionError) -> CorruptedQueries<Scalar> {
    let d = bases.columns
    guard bases.rows == targets.count else {
      throw .baseShapeMismatch(
        rows: bases.rows, columns: bases.columns, expectedRows: targets.count, expectedColumns: d)
    }

    let root = SeededGenerator(seed: generator.next())
    var queries = bases
    var distractors: [Int] = []
    if case .overlap = self { distractors.reserveCapacity(targets.count) }
    var order = [Int](repeating: 0, count: d)
    var distractor = [Scalar](repeating: 0, count: isOverlapKind ? d : 0)
    let changed = affectedCoordinates(dimension: d)

    queries.withUnsafeMutableBufferPointer { q in
      for (k, target) in targets.enumerated() {
        var rng = root.derived(k)
        let base = k * d
        switch self {
        case .gaussianNoise(let sigma):
          for j in 0..<d { q[base + j] = Scalar(Double(q[base + j]) + sigma * rng.nextGaussian()) }
        case .mask, .flip:
          let isMask = if case .mask = self { true } else { false }
          Corruption.chooseSubset(count: changed, of: &order, using: &rng)
          for s in 0..<changed {
            let j = order[s]
            q[base + j] = isMask ? 0 : -q[base + j]
          }
        case .overlap(let alpha):
          var other = Int(rng.next(upperBound: UInt64(n - 1)))
          if other >= target { other += 1 }
          distractors.append(other)
          let a = Scalar(alpha)
          let b = Scalar(1 - alpha)
          pattern(other, &distractor)
          for j in 0..<d { q[base + j] = a * q[base + j] + b * distractor[j] }
        case .none:
          break
        }
      }
    }
    let isOverlap = if case .overlap = self { true } else { false }
    return CorruptedQueries(queries: queries, targets: targets, distractors: isOverlap ? distractors : nil)
  }

  private var isOverlapKind: Bool { if case .overlap = self { true } else { false } }

  private func validatedTargets<Scalar: LinearAlgebraScalar>(
    _ targets: [Int], patterns: Matrix<Scalar>
  ) throws(CorruptionError) {
    try validate()
    let n = patterns.rows
    try CorruptionError.checkPatterns(patterns)
    try CorruptionError.checkTargets(targets, patternCount: n)
    if case .overlap = self, n < 2 { throw .overlapNeedsTwoPatterns(patternCount: n) }
  }

  /// `count` targets drawn uniformly from 0..<patternCount (with replacement).
  public static func randomTargets(count: Int, patternCount: Int, using generator: inout SeededGenerator) -> [Int] {
    precondition(count >= 0 && patternCount >= 1, "randomTargets needs count ≥ 0 and patternCount ≥ 1")
    return (0..<count).map { _ in Int(generator.next(upperBound: UInt64(patternCount))) }
  }

  /// Puts a uniformly random `count`-subset of 0..<order.count in `order[0..<count]` (partial
  /// Fisher–Yates; no allocation).
  static func chooseSubset(count: Int, of order: inout [Int], using rng: inout SeededGenerator) {
    let d = order.count
    for j in 0..<d { order[j] = j }
    for s in 0..<count {
      let j = s + Int(rng.next(upperBound: UInt64(d - s)))
      order.swapAt(s, j)
    }
  }
}

extension Corruption: Codable {
  private enum CodingKeys: String, CodingKey { case kind, level }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let kind = try container.decode(Kind.self, forKey: .kind)
    if kind == .none {
      self = .none
      return
    }
    self.init(kind: kind, level: try container.decode(Double.self, forKey: .level))
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(kind, forKey: .kind)
    try container.encodeIfPresent(level, forKey: .level)
  }
}

/// Queries made by ``Corruption/queries(from:targets:using:)``.
public struct CorruptedQueries<Scalar: LinearAlgebraScalar>: Sendable, Equatable {
  /// One query per row (B × d).
  public var queries: Matrix<Scalar>
  /// The stored pattern each query was made from.
  public var targets: [Int]
  /// For `.overlap`, the other pattern blended into each query; otherwise `nil`.
  public var distractors: [Int]?

  public init(queries: Matrix<Scalar>, targets: [Int], distractors: [Int]? = nil) {
    self.queries = queries
    self.targets = targets
    self.distractors = distractors
  }
}

/// Errors raised when building corrupted queries.
public enum CorruptionError: TargetError, Equatable, Sendable, CustomStringConvertible {
  /// The level is outside the range the kind allows.
  case invalidLevel(kind: Corruption.Kind, value: Double)
  /// `.overlap` needs a distractor different from the target.
  case overlapNeedsTwoPatterns(patternCount: Int)
  /// No patterns, or patterns of dimension 0.
  case emptyPatterns(count: Int, dimension: Int)
  /// `targets[position] = value` is not a row of the patterns.
  case targetOutOfRange(position: Int, value: Int, patternCount: Int)
  /// The clean cues are not one row per target of the patterns' dimension.
  case baseShapeMismatch(rows: Int, columns: Int, expectedRows: Int, expectedColumns: Int)

  public var description: String {
    switch self {
    case .invalidLevel(let kind, let value):
      return "the level of a \(kind) corruption must be \(kind.levelMeaning), got \(value)"
    case .overlapNeedsTwoPatterns(let count):
      return
        "an overlap corruption blends the target with a different stored pattern, so it needs at least 2 patterns, got \(count)"
    case .emptyPatterns(let count, let dimension):
      return PatternMessages.empty("corruption", count: count, dimension: dimension)
    case .targetOutOfRange(let position, let value, let count):
      return PatternMessages.targetOutOfRange(position: position, value: value, patternCount: count)
    case .baseShapeMismatch(let rows, let columns, let expectedRows, let expectedColumns):
      return
        "the clean cues are \(rows) × \(columns), but one row per target of the patterns' dimension is \(expectedRows) × \(expectedColumns)"
    }
  }
}
