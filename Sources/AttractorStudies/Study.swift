import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import Foundation

/// The data behind a ``StudyDataset``, loaded once when the study is checked.
public enum DatasetSource: Sendable {
  case gaussian(count: Int, dimension: Int, standardDeviation: Double)
  case npy(matrix: Matrix<Double>, standardize: Bool)
  /// MNIST training images (60,000 × 784, raw pixels 0…255 as doubles).
  case mnist(images: Matrix<Double>, count: Int, standardize: Bool)
  /// The rows of a memory-mapped `.npy` file, streamed in chunks (never loaded).
  case streamed(StreamedPatternFile)

  /// K.
  public var patternCount: Int {
    switch self {
    case .gaussian(let count, _, _): count
    case .npy(let m, _): m.rows
    case .mnist(_, let count, _): count
    case .streamed(let file): file.rows
    }
  }

  /// d.
  public var dimension: Int {
    switch self {
    case .gaussian(_, let d, _): d
    case .npy(let m, _): m.columns
    case .mnist(let images, _, _): images.columns
    case .streamed(let file): file.columns
    }
  }

  /// A fingerprint of file contents (0 for generated data), so a changed file changes the spec hash.
  var fingerprint: UInt64 {
    switch self {
    case .gaussian: return 0
    case .npy(let m, _), .mnist(let m, _, _):
      return m.withUnsafeBufferPointer { p in Fingerprint.fnv1a(UnsafeRawBufferPointer(p)) }
    case .streamed(let file):
      return file.fingerprint
    }
  }

  /// The stored patterns for the seed generator `generator` (K × d, real); 0 × d for a streamed
  /// file (its cells read it in chunks: ``Study/streamedInputs(_:dataset:seed:corruption:level:)``).
  func patterns(using generator: inout SeededGenerator) -> Matrix<Double> {
    switch self {
    case .streamed(let file):
      return Matrix(rows: 0, columns: file.columns)
    case .gaussian(let count, let dimension, let sd):
      return generator.gaussianMatrix(rows: count, columns: dimension, standardDeviation: sd)
    case .npy(let m, let standardize):
      return standardize ? Self.standardized(m) : m
    case .mnist(let images, let count, let standardize):
      // A seeded choice of `count` distinct training images (partial Fisher–Yates).
      var order = Array(0..<images.rows)
      for s in 0..<count {
        let j = s + Int(generator.next(upperBound: UInt64(images.rows - s)))
        order.swapAt(s, j)
      }
      var chosen = images.rows(at: Array(order[0..<count]))
      chosen.withUnsafeMutableBufferPointer { p in
        for k in p.indices { p[k] /= 255 }
      }
      return standardize ? Self.standardized(chosen) : Self.centred(chosen)
    }
  }

  /// Each row minus its mean.
  static func centred(_ m: Matrix<Double>) -> Matrix<Double> {
    var out = m
    let d = m.columns
    out.withUnsafeMutableBufferPointer { p in
      for r in 0..<m.rows {
        var mean = 0.0
        for j in 0..<d { mean += p[r * d + j] }
        mean /= Double(d)
        for j in 0..<d { p[r * d + j] -= mean }
      }
    }
    return out
  }

  /// Each row centred and scaled to unit RMS (a constant row stays 0).
  static func standardized(_ m: Matrix<Double>) -> Matrix<Double> {
    var out = centred(m)
    let d = m.columns
    out.withUnsafeMutableBufferPointer { p in
      for r in 0..<m.rows {
        var squares = 0.0
        for j in 0..<d { squares += p[r * d + j] * p[r * d + j] }
        let rms = (squares / Double(d)).squareRoot()
        if rms > 0 { for j in 0..<d { p[r * d + j] /= rms } }
      }
    }
    return out
  }

  /// A 2-D, finite, non-empty .npy file as doubles, with a readable error otherwise.
  static func readNumPy(_ url: URL) throws(DatasetError) -> Matrix<Double> {
    guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(path: url.path, hint: "") }
    let tensor: Tensor
    do { tensor = try NumPyFile.read(from: url) } catch { throw .badFile(path: url.path, reason: "\(error)") }
    guard tensor.rank == 2 else {
      throw .badFile(path: url.path, reason: "an array of shape \(tensor.shape); patterns must be 2-D, one per row")
    }
    let m: Matrix<Double>
    do { m = try tensor.matrix(as: Double.self) } catch { throw .badFile(path: url.path, reason: "\(error)") }
    guard m.rows >= 1 && m.columns >= 1 else {
      throw .badFile(path: url.path, reason: "a \(m.rows) × \(m.columns) array; it needs at least one pattern")
    }
    guard m.isFinite else { throw .badFile(path: url.path, reason: "it contains NaN or infinity") }
    return m
  }
}

/// One unit of work: a model on a dataset with one corruption at one level for one seed. All T
/// of the study are measured in the one run of max(T) steps.
///
/// Cells are numbered in a fixed order (dataset, seed, corruption, level, model; the last varies
/// fastest), so the number of a cell never depends on sharding or on how far a run got.
public struct StudyCell: Sendable, Equatable, Hashable, Codable {
  public var index: Int
  public var dataset: Int
  /// Position in ``StudySpec/seeds``.
  public var seed: Int
  public var corruption: Int
  public var level: Int
  public var model: Int
}

/// Part `index` (1-based) of `count`: the cells whose number is ≡ index − 1 (mod count).
public struct StudyShard: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
  public var index: Int
  public var count: Int

  public init(index: Int, count: Int) throws(StudyRunError) {
    guard count >= 1 else { throw .invalidShard("the shard count n in i/n must be at least 1, got \(count)") }
    guard index >= 1 && index <= count else {
      throw .invalidShard("the shard index i in i/n must be from 1 to n = \(count), got \(index)")
    }
    self.index = index
    self.count = count
  }

  /// Parses `i/n`.
  public init(parsing text: String) throws(StudyRunError) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
      throw .invalidShard("a shard is written i/n with whole numbers 1 ≤ i ≤ n (such as 2/8), got \"\(text)\"")
    }
    try self.init(index: i, count: n)
  }

  /// Whether cell number `cell` belongs to this shard.
  public func contains(_ cell: Int) -> Bool { cell % count == index - 1 }

  public var description: String { "\(index)/\(count)" }
}

/// A checked study ready to run: the spec, one factory per model, the loaded data.
public struct Study: Sendable {
  public let spec: StudySpec
  public let factories: [any StudyModelFactory]
  public let sources: [DatasetSource]

  public init(spec: StudySpec, factories: [any StudyModelFactory], sources: [DatasetSource]) {
    self.spec = spec
    self.factories = factories
    self.sources = sources
  }

  /// The built-in study (``StudySpec/standard``) with the standard models.
  public static var standard: Study {
    // The standard spec is valid by construction; re-validating its study file keeps one path.
    let tree = try! JSONDecoder().decode(StudyValue.self, from: Data(StudySpec.standard.studyFileJSON().utf8))
    return try! StudySpec.validate(tree)
  }

  /// Every cell, in number order.
  public var cells: [StudyCell] { Self.cells(of: spec) }

  /// Every cell of `spec`, in number order.
  static func cells(of spec: StudySpec) -> [StudyCell] {
    var out: [StudyCell] = []
    for d in spec.datasets.indices {
      for s in spec.seeds.indices {
        for c in spec.corruptions.indices {
          for l in spec.corruptions[c].levels.indices {
            for m in spec.models.indices {
              out.append(StudyCell(index: out.count, dataset: d, seed: s, corruption: c, level: l, model: m))
            }
          }
        }
      }
    }
    return out
  }

  /// Fingerprint of the spec and of the data files: equal hashes mean the same cells with the same
  /// inputs (a partial or shard file is only used with a study of the same hash).
  public var specHash: String {
    var bytes = [UInt8](canonicalJSON(spec))
    for source in sources {
      withUnsafeBytes(of: source.fingerprint.littleEndian) { bytes += $0 }
    }
    return Fingerprint.hex(Fingerprint.fnv1a(bytes))
  }
}
