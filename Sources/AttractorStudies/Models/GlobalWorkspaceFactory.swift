import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// Why the trained workspace of a model folder cannot be used in a study.
public enum GlobalWorkspaceFolderError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The folder is missing or is not a readable vision-transformer model folder (the reason names
  /// the file and what is wrong).
  case unreadable(path: String, reason: String)
  /// The folder holds a plain vision transformer: it has no workspace, so no priors.
  case noWorkspace(path: String)
  /// The upscaled priors U = γ W_u + 1 b_u have NaN or infinite entries.
  case nonFinitePriors(path: String)
  /// The study's stored patterns are not the folder's upscaled priors.
  case patternsDiffer(path: String, reason: String)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason):
      "\(path) is not a readable AiT model folder (attractor train ait writes one): \(reason)"
    case .noWorkspace(let path):
      "\(path) holds a plain vision transformer (trained with --workspace none): it has no global workspace, so no priors; give an AiT folder"
    case .nonFinitePriors(let path):
      "the upscaled priors U = γ W_u + 1 b_u of \(path) have non-finite entries"
    case .patternsDiffer(let path, let reason):
      "the study's stored patterns are not the upscaled priors of \(path) (\(reason)); store them with the dataset {\"kind\": \"ait-priors\", \"folder\": \"\(path)\"}"
    }
  }
}

/// The trained global workspace of an AiT model folder (`attractor train ait`), as comparative
/// studies use it: its upscaled priors, the Hopfield network's stored patterns, and the trained
/// β and T of its retrieval.
///
/// ```
/// U = γ W_u + 1 b_u      (M × E)  the memory γ (M × D) upscaled to the token width E
/// retrieval:  ξ⁰ = x,  ξᵗ⁺¹ = softmax(β ξᵗ Uᵀ) U,  t < T      (GlobalWorkspaceLayer)
/// ```
///
/// U is computed by the layer's own ``/AttractorModels/GlobalWorkspaceLayer/hopfieldNetwork(memory:upscaled:)``
/// in `Float` (the precision the model was trained and stored in).
public struct GlobalWorkspacePriors: Sendable {
  /// The folder as given.
  public let path: String
  /// U (M × E), in the model's `Float`.
  public let upscaled: Matrix<Float>
  /// The trained β of the retrieval.
  public let beta: Double
  /// The trained number of retrieval steps T.
  public let steps: Int

  /// Reads the AiT in `path` (relative paths against the current directory).
  ///
  /// - Throws: ``GlobalWorkspaceFolderError``: not a readable model folder, a plain transformer,
  ///   non-finite priors.
  public init(folder path: String) throws(GlobalWorkspaceFolderError) {
    let url = URL(fileURLWithPath: path)
    let model: VisionTransformer<Float>
    do { model = try VisionTransformerModelFolder.load(from: url).model } catch {
      throw .unreadable(path: path, reason: "\(error)")
    }
    guard let layer = model.workspace else { throw .noWorkspace(path: path) }
    var u = Matrix<Float>(rows: layer.configuration.priorCount, columns: layer.configuration.width)
    do { _ = try layer.hopfieldNetwork(memory: layer.memory, upscaled: &u) } catch {
      throw .nonFinitePriors(path: path)
    }
    guard u.isFinite else { throw .nonFinitePriors(path: path) }
    self.path = path
    upscaled = u
    beta = layer.configuration.beta
    steps = layer.configuration.hopfieldSteps
  }

  /// U in double precision (exact: every `Float` is a `Double`).
  public var upscaledDouble: Matrix<Double> {
    Matrix(rows: upscaled.rows, columns: upscaled.columns) { i, j in Double(upscaled[i, j]) }
  }

  /// How many priors differ: rows of U are grouped when ‖u_i − u_j‖ ≤ 10⁻³ · max_m ‖u_m‖, and
  /// the groups counted (1 when the memory has collapsed onto one prior).
  public var distinctCount: Int {
    let u = upscaledDouble
    let scale = u.rowNorms().max() ?? 0
    var representatives: [Int] = []
    for i in 0..<u.rows {
      let same = representatives.contains { r in
        var squared = 0.0
        for j in 0..<u.columns { squared += (u[i, j] - u[r, j]) * (u[i, j] - u[r, j]) }
        return squared.squareRoot() <= 1e-3 * scale
      }
      if !same { representatives.append(i) }
    }
    return representatives.count
  }

  /// The largest norm max_m ‖u_m‖ (M in Ramsauer et al.: with β M² < 1 the retrieval is a
  /// contraction onto one fixed point near the mean of the priors, their Lemma A3).
  public var largestNorm: Double { upscaledDouble.rowNorms().max() ?? 0 }

  /// The study's label of the priors as a dataset: `<folder name>: M priors (n distinct), ‖u‖ ≤ x`.
  public var datasetLabel: String {
    "\((path as NSString).lastPathComponent): \(upscaled.rows) priors (\(distinctCount) distinct), "
      + "‖u‖ ≤ \(String(format: "%.3g", largestNorm))"
  }

  /// Checks that `patterns` are U: same shape and entries within 10⁻⁶ · max |U| (they are equal
  /// exactly when they come from an `ait-priors` dataset of the same folder, in either precision).
  ///
  /// - Throws: ``GlobalWorkspaceFolderError/patternsDiffer(path:reason:)``.
  public func check<Scalar: LinearAlgebraScalar>(patterns: Matrix<Scalar>) throws(GlobalWorkspaceFolderError) {
    guard patterns.rows == upscaled.rows, patterns.columns == upscaled.columns else {
      throw .patternsDiffer(
        path: path,
        reason: "they are \(patterns.rows) × \(patterns.columns), U is \(upscaled.rows) × \(upscaled.columns)")
    }
    var largest = 0.0, difference = 0.0
    for i in 0..<upscaled.rows {
      for j in 0..<upscaled.columns {
        let u = Double(upscaled[i, j])
        largest = max(largest, abs(u))
        difference = max(difference, abs(Double(patterns[i, j]) - u))
      }
    }
    guard difference <= 1e-6 * largest else {
      throw .patternsDiffer(path: path, reason: "they differ from U by up to \(difference)")
    }
  }
}

/// The global workspace's retrieval as one update of a study: T steps of the framework's
/// ``/AttractorModels/ModernHopfield`` update on the upscaled priors U, exactly as
/// ``/AttractorModels/GlobalWorkspaceLayer`` reconstructs each patch in the AiT's forward pass.
///
/// ```
/// f(ξ) = g^T(ξ),  g(ξ) = softmax(β ξ Uᵀ) U      (one study step = the layer's T Hopfield steps)
/// E(ξ) = −β⁻¹ log Σ_m exp(β u_mᵀξ) + ½ ξᵀξ + β⁻¹ log M + ½ max‖u_m‖²   (ModernHopfield's energy)
/// ```
///
/// Properties relied on: every Hopfield step is a CCCP step that does not increase E, so T of them
/// do not either (``/AttractorCore/EnergyDescending``, descending ModernHopfield's energy); the
/// separation weights are those of the first Hopfield step at the state, softmax(β ξ Uᵀ).
///
/// Reference: Y. Sun et al., "Associative Transformer", arXiv:2309.12862; H. Ramsauer et al.,
/// "Hopfield Networks is All You Need", ICLR 2021.
public struct WorkspaceRetrieval<Scalar: LinearAlgebraScalar>: UpdateRule, AssociativeMemory, EnergyDescending {
  /// The modern Hopfield network on U at the retrieval's β.
  public let network: ModernHopfield<Scalar>
  /// Hopfield steps T per update.
  public let steps: Int

  /// T steps of `network` per update.
  ///
  /// - Throws: ``/AttractorModels/ModelError`` if T < 1.
  public init(network: ModernHopfield<Scalar>, steps: Int) throws(ModelError) {
    guard steps >= 1 else {
      throw .invalidParameter(name: "steps", value: "\(steps)", requirement: "at least 1 Hopfield step")
    }
    self.network = network
    self.steps = steps
  }

  /// U, the stored patterns.
  public var patterns: Matrix<Scalar> { network.patterns }
  public var dimension: Int { network.dimension }

  /// The network's scratch and one B × E buffer for the intermediate states.
  public struct Workspace: Sendable {
    var hopfield: ModernHopfield<Scalar>.Workspace
    var intermediate: Matrix<Scalar>
  }

  public func makeWorkspace(batchSize: Int) -> Workspace {
    Workspace(
      hopfield: network.makeWorkspace(batchSize: batchSize),
      intermediate: Matrix(rows: batchSize, columns: dimension))
  }

  /// T calls of ``/AttractorModels/ModernHopfield/update(_:into:workspace:)``, alternating between
  /// `next` and the workspace's buffer so that the last one writes into `next`.
  public func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    if steps == 1 {
      network.update(states, into: &next, workspace: &workspace.hopfield)
      return
    }
    if workspace.intermediate.rows != states.rows || workspace.intermediate.columns != dimension {
      workspace.intermediate.reshape(rows: states.rows, columns: dimension)
    }
    // Step t writes into `next` when T − 1 − t is even, so step T − 1 does.
    var intoNext = (steps - 1) % 2 == 0
    if intoNext {
      network.update(states, into: &next, workspace: &workspace.hopfield)
    } else {
      network.update(states, into: &workspace.intermediate, workspace: &workspace.hopfield)
    }
    for _ in 1..<steps {
      if intoNext {
        network.update(next, into: &workspace.intermediate, workspace: &workspace.hopfield)
      } else {
        network.update(workspace.intermediate, into: &next, workspace: &workspace.hopfield)
      }
      intoNext.toggle()
    }
  }

  /// softmax(β ξ Uᵀ) for each state (B × M).
  public func separation(_ states: Matrix<Scalar>) -> Matrix<Scalar> { network.separation(states) }

  public var descendedEnergy: ModernHopfield<Scalar> { network }

  public func descendedEnergy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) {
    network.energy(states, into: &energies, workspace: &workspace.hopfield)
  }
}

/// The Associative Transformer's workspace retrieval in studies:
/// `{"model": "global-workspace", "folder": "Models/ait-mnist"}`, optionally with `"beta"` and
/// `"steps"` replacing the trained β and T.
///
/// ```
/// one study step: ξ ← g^T(ξ),  g(ξ) = softmax(β ξ Uᵀ) U,  U = the folder's upscaled priors (M × E)
/// ```
///
/// The stored patterns must be the folder's U: store them with the dataset
/// `{"kind": "ait-priors", "folder": "<folder>"}`, so that every model of the study stores the same
/// M patterns and is run from the same corrupted cues; the factory refuses other shapes when the
/// study is checked and other patterns when a cell is built (``GlobalWorkspaceFolderError``). One
/// study step is the layer's whole retrieval (T Hopfield steps at the trained β), so the study's
/// T = 1 is what the AiT does to a patch in its forward pass; `"steps": 1` makes a study step one
/// Hopfield step (the `modern` model at the trained β). Runs in `Float` in a float study (the
/// model's own precision).
public struct GlobalWorkspaceFactory: StudyModelFactory {
  public static let name = "global-workspace"
  public static let summary =
    "the AiT's workspace retrieval from a trained model folder: one step = T steps ξ ← softmax(β ξ Uᵀ) U on its upscaled priors U (store U with the ait-priors dataset)"
  public static let parameters: [StudyParameter] = [
    StudyParameter(
      name: "folder", kind: .string, summary: "an AiT model folder (attractor train ait)",
      requirement: "a non-empty path", isValid: { !($0.string ?? "").isEmpty }),
    StudyParameter(
      name: "beta", kind: .number, summary: "β of the retrieval (0: the model's trained β)",
      defaultValue: .number(0), requirement: "finite and ≥ 0",
      isValid: { v in (v.number ?? -1) >= 0 && (v.number ?? .infinity).isFinite }),
    .integer(
      "steps", summary: "Hopfield steps T per study step (0: the model's trained T)", default: 0, range: 0...10_000),
  ]

  /// The folder's priors and trained settings.
  public let priors: GlobalWorkspacePriors
  /// β and T of the retrieval (the trained ones unless overridden).
  public let beta: Double
  public let steps: Int

  public init(parameters: StudyParameterValues) throws(StudyParameterError) {
    do { priors = try GlobalWorkspacePriors(folder: parameters.string("folder")) } catch {
      throw StudyParameterError(parameter: "folder", message: "\(error)")
    }
    let b = parameters.number("beta"), t = parameters.integer("steps")
    beta = b > 0 ? b : priors.beta
    steps = t > 0 ? t : priors.steps
  }

  public var label: String {
    "workspace \((priors.path as NSString).lastPathComponent) β=\(compactNumber(beta)) T=\(steps)"
  }

  public var encoding: StateEncoding { .real }

  public func check(dimension: Int, patternCount: Int) -> [String] {
    let u = priors.upscaled
    guard dimension == u.columns, patternCount == u.rows else {
      return [
        "the workspace of \(priors.path) stores its \(u.rows) × \(u.columns) upscaled priors, but the dataset has \(patternCount) patterns of dimension \(dimension); use the dataset {\"kind\": \"ait-priors\", \"folder\": \"\(priors.path)\"}"
      ]
    }
    return []
  }

  public func make(patterns: Matrix<Double>, seed: UInt64) throws -> WorkspaceRetrieval<Double> {
    try priors.check(patterns: patterns)
    return try WorkspaceRetrieval(network: ModernHopfield(patterns: patterns, beta: beta), steps: steps)
  }
}

extension GlobalWorkspaceFactory: SinglePrecisionStudyModelFactory {
  /// The retrieval in `Float`, the precision the AiT runs in (β rounded to `Float` as the layer does).
  public func makeSingle(patterns: Matrix<Float>, seed: UInt64) throws -> WorkspaceRetrieval<Float> {
    try priors.check(patterns: patterns)
    return try WorkspaceRetrieval(network: ModernHopfield(patterns: patterns, beta: Float(beta)), steps: steps)
  }
}
