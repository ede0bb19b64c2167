import AttractorCore
import AttractorExperiments
import Foundation

/// Where the patterns of a study come from.
///
/// ```
/// gaussian:  K patterns with independent N(0, σ²) entries in dimension d, drawn per seed
/// npy:       the rows of a 2-D .npy file (the same for every seed); standardize: optional;
///            stream: memory-map the (float) file and run the cells over it in chunks, never
///            loading it (modern Hopfield models only; no standardize)
/// mnist:     K training images chosen per seed from the IDX file in `directory`, pixels / 255;
///            standardize (default): each image centred on its own mean and scaled to unit RMS
/// ait-priors: the M upscaled priors U = γ W_u + 1 b_u (M × E) of the AiT model folder `folder`
///            (the global workspace's stored patterns), as trained, the same for every seed
/// standardize: x ← (x − mean(x)) / rms(x − mean(x))   (norm √d, the scale of N(0, 1) entries)
/// ```
///
/// Unit-variance entries are the scale attention assumes (logits q·k/√d of order 1), so the
/// attention model and the modern network's β mean the same on all three sources.
public struct StudyDataset: Sendable, Equatable, Codable {
  public enum Kind: String, Sendable, Codable, CaseIterable {
    case gaussian, npy, mnist
    case aitPriors = "ait-priors"
  }

  public var kind: Kind
  /// Label in tables (default: a description of the source).
  public var label: String
  /// K (gaussian, mnist).
  public var count: Int?
  /// d (gaussian).
  public var dimension: Int?
  /// σ (gaussian).
  public var standardDeviation: Double?
  /// The .npy file (npy).
  public var path: String?
  /// The folder holding `train-images-idx3-ubyte` (mnist).
  public var directory: String?
  /// Centre each pattern and scale it to unit RMS (npy, mnist).
  public var standardize: Bool?
  /// Stream the file (npy): `true`, or `nil` (absent from the spec and its hash) for a file loaded
  /// into memory.
  public var stream: Bool?
  /// The AiT model folder (ait-priors; `nil`, absent from the spec and its hash, otherwise).
  public var folder: String?

  public init(
    kind: Kind, label: String, count: Int? = nil, dimension: Int? = nil, standardDeviation: Double? = nil,
    path: String? = nil, directory: String? = nil, standardize: Bool? = nil, stream: Bool? = nil,
    folder: String? = nil
  ) {
    self.stream = stream
    self.folder = folder
    self.kind = kind
    self.label = label
    self.count = count
    self.dimension = dimension
    self.standardDeviation = standardDeviation
    self.path = path
    self.directory = directory
    self.standardize = standardize
  }
}

/// One corruption kind and the levels it is applied at.
public struct StudyCorruption: Sendable, Equatable, Codable {
  public var kind: Corruption.Kind
  /// Levels in the order given (σ for noise, fraction for mask and flip, α for overlap).
  public var levels: [Double]

  public init(kind: Corruption.Kind, levels: [Double]) {
    self.kind = kind
    self.levels = levels
  }
}

/// The floating-point precision the models of a study run in (`"precision"` in a study file).
///
/// Patterns, targets and corrupted queries are drawn in double precision whatever the precision,
/// so both precisions see the same inputs; with `float` they are rounded to `Float` once, the model
/// is built from the rounded patterns and every update, energy and accuracy is computed in `Float`.
/// ±1 models compute integer fields and overlaps, exact in both precisions, so their accuracies,
/// steps and regimes are the same in both; real-valued models differ by rounding (Docs/Studies.md,
/// "Precision", gives the measured differences on the built-in study). A factory that has no
/// single-precision model (``SinglePrecisionStudyModelFactory``) runs in double precision in a
/// `float` study, and its cells say so (``StudyCellResult/precision``).
public enum StudyPrecision: String, Sendable, Codable, Equatable, CaseIterable {
  /// Single precision (`Float`): the default.
  case float
  /// Double precision (`Double`).
  case double
}

/// One model of a study: the factory's name, a label, and its validated parameters.
public struct StudyModelEntry: Sendable, Equatable, Codable {
  /// ``StudyModelFactory/name``.
  public var model: String
  /// Label in tables and legends (unique within the study).
  public var label: String
  public var parameters: StudyParameterValues

  public init(model: String, label: String, parameters: StudyParameterValues) {
    self.model = model
    self.label = label
    self.parameters = parameters
  }
}

/// A comparative study: models × datasets × corruptions × levels × seeds, each run for the
/// largest number of steps with measurements at every T in ``steps``.
///
/// A study file is this structure in JSON (see Docs/Studies.md):
///
/// ```json
/// {
///   "name": "my study", "queries": 128, "steps": [1, 5, 10], "seeds": [0, 1, 2],
///   "models": [{"model": "modern", "beta": 0.25}, {"model": "classical"}],
///   "datasets": [{"kind": "gaussian", "count": 32, "dimension": 64}],
///   "corruptions": [{"kind": "noise", "levels": [0.5, 1]}]
/// }
/// ```
public struct StudySpec: Sendable, Equatable, Codable {
  public var name: String
  /// Queries per cell B.
  public var queries: Int
  /// The T at which everything is measured (ascending, ≥ 1); a cell runs max(T) steps.
  public var steps: [Int]
  /// One repetition per seed (patterns where random, targets, corruptions, random projections).
  public var seeds: [UInt64]
  /// A step ‖q_t − q_{t−1}‖ ≤ tolerance has converged (the state then stops).
  public var tolerance: Double
  /// The precision the models run in (``StudyPrecision/float`` unless the file says otherwise).
  public var precision: StudyPrecision
  public var models: [StudyModelEntry]
  public var datasets: [StudyDataset]
  public var corruptions: [StudyCorruption]

  public init(
    name: String, queries: Int, steps: [Int], seeds: [UInt64], tolerance: Double = 1e-6, models: [StudyModelEntry],
    datasets: [StudyDataset], corruptions: [StudyCorruption], precision: StudyPrecision = .float
  ) {
    self.name = name
    self.queries = queries
    self.steps = steps
    self.seeds = seeds
    self.tolerance = tolerance
    self.precision = precision
    self.models = models
    self.datasets = datasets
    self.corruptions = corruptions
  }

  enum CodingKeys: String, CodingKey {
    case name, queries, steps, seeds, tolerance, precision, models, datasets, corruptions
  }

  /// Decodes a spec; a `study.json` written before the precision existed ran in double precision.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    name = try c.decode(String.self, forKey: .name)
    queries = try c.decode(Int.self, forKey: .queries)
    steps = try c.decode([Int].self, forKey: .steps)
    seeds = try c.decode([UInt64].self, forKey: .seeds)
    tolerance = try c.decode(Double.self, forKey: .tolerance)
    precision = try c.decodeIfPresent(StudyPrecision.self, forKey: .precision) ?? .double
    models = try c.decode([StudyModelEntry].self, forKey: .models)
    datasets = try c.decode([StudyDataset].self, forKey: .datasets)
    corruptions = try c.decode([StudyCorruption].self, forKey: .corruptions)
  }

  /// The keys a study file may have at the top level.
  public static let topLevelKeys = [
    "name", "queries", "steps", "seeds", "tolerance", "precision", "models", "datasets", "corruptions",
  ]

  /// Largest queries per cell, steps, and patterns accepted (to refuse absurd files early).
  static let maxQueries = 1 << 20
  static let maxSteps = 100_000
  static let maxCount = 1 << 24
  static let maxDimension = 1 << 20
  /// Largest noise σ and Gaussian pattern σ accepted: values stay far from overflow (their squares
  /// and dot products in d ≤ 2²⁰ stay finite even in single precision).
  public static let maxNoiseLevel = 1e6
  /// Largest number of values of one matrix of a cell (2³¹, 16 GiB in double precision).
  static let maxElements = 1 << 31

  /// The loads K/d of the built-in study: K = 4, 8, …, 512 patterns in d = 64, from 1/16 (well
  /// below the classical limit ≈ 0.138) to 8 (far past it, near the x³ memory's formula limit of
  /// ≈ 2.6 and below the exponential ones).
  public static let standardPatternCounts = [4, 8, 16, 32, 64, 128, 256, 512]

  /// The built-in study of `attractor compare`: a load sweep of Gaussian patterns (N(0, 1)
  /// entries) in d = 64, K = 4 … 512 (``standardPatternCounts``); classical, modern β = 1/8 and
  /// 1/2, dense x³ and exp, trained attention, pseudo-likelihood; noise, mask and overlap at three
  /// levels; T = 1, 5, 10; three seeds; 128 queries per cell; single precision where a model has a
  /// Float path (attention and pseudo-likelihood run in double). The report shows recall against K/d
  /// with each model's capacity formula
  /// and the full corruption tables at K = 32.
  ///
  /// The attention row is a trained model (`"projections": "trained"`: one layer, one head, its
  /// projections trained on each draw's own patterns, see ``IterativeAttentionFactory``): untrained
  /// identity attention with logits q·k/√d is the modern update with β = 1/√d = 1/8, so it would
  /// duplicate "modern β=0.125". The pseudo-likelihood network stores each draw's patterns by its
  /// local rule (4 tokens of 16).
  public static let standard: StudySpec = {
    func entry(_ factory: any StudyModelFactory.Type, _ values: [String: StudyValue]) -> StudyModelEntry {
      var filled: [String: StudyValue] = [:]
      for p in factory.parameters { filled[p.name] = values[p.name] ?? p.defaultValue }
      let made = try! factory.init(parameters: StudyParameterValues(filled))
      return StudyModelEntry(model: factory.name, label: made.label, parameters: StudyParameterValues(filled))
    }
    return StudySpec(
      name: "default: recall against load", queries: 128, steps: [1, 5, 10], seeds: [0, 1, 2], tolerance: 1e-6,
      models: [
        entry(ClassicalHopfieldFactory.self, [:]),
        entry(ModernHopfieldFactory.self, ["beta": .number(0.125)]),
        entry(ModernHopfieldFactory.self, ["beta": .number(0.5)]),
        entry(DensePolynomialFactory.self, ["degree": .number(3)]),
        entry(DenseExponentialFactory.self, ["beta": .number(1)]),
        entry(IterativeAttentionFactory.self, ["projections": .string("trained")]),
        entry(PseudoLikelihoodFactory.self, [:]),
      ],
      datasets: standardPatternCounts.map {
        StudyDataset(kind: .gaussian, label: "gaussian K=\($0) d=64", count: $0, dimension: 64, standardDeviation: 1)
      },
      corruptions: [
        StudyCorruption(kind: .noise, levels: [0.5, 1, 1.5]),
        StudyCorruption(kind: .mask, levels: [0.25, 0.5, 0.75]),
        StudyCorruption(kind: .overlap, levels: [0.9, 0.7, 0.55]),
      ])
  }()

  /// The spec as a study file (pretty JSON, sorted keys; parameters inline as in a hand-written file).
  public func studyFileJSON() -> String {
    var root: [String: StudyValue] = [
      "name": .string(name), "queries": .number(Double(queries)), "steps": .array(steps.map { .number(Double($0)) }),
      "seeds": .array(seeds.map { .number(Double($0)) }), "tolerance": .number(tolerance),
      "precision": .string(precision.rawValue),
    ]
    root["models"] = .array(
      models.map { m in
        var o = m.parameters.values
        o["model"] = .string(m.model)
        o["label"] = .string(m.label)
        return .object(o)
      })
    root["datasets"] = .array(
      datasets.map { d in
        var o: [String: StudyValue] = ["kind": .string(d.kind.rawValue), "label": .string(d.label)]
        if let c = d.count { o["count"] = .number(Double(c)) }
        if let c = d.dimension { o["dimension"] = .number(Double(c)) }
        if let c = d.standardDeviation { o["standardDeviation"] = .number(c) }
        if let c = d.path { o["path"] = .string(c) }
        if let c = d.directory { o["directory"] = .string(c) }
        if let c = d.standardize { o["standardize"] = .boolean(c) }
        if let c = d.stream { o["stream"] = .boolean(c) }
        if let c = d.folder { o["folder"] = .string(c) }
        return .object(o)
      })
    root["corruptions"] = .array(
      corruptions.map { .object(["kind": .string($0.kind.rawValue), "levels": .array($0.levels.map { .number($0) })]) })
    return String(decoding: canonicalJSON(StudyValue.object(root), pretty: true), as: UTF8.self) + "\n"
  }
}

/// JSON with sorted keys (pretty or compact), the encoding used for hashes and report files.
func canonicalJSON<T: Encodable>(_ value: T, pretty: Bool = false) -> Data {
  // Encoding plain value types cannot fail.
  (try? JSONCoding.encode(value, pretty: pretty)) ?? Data()
}
