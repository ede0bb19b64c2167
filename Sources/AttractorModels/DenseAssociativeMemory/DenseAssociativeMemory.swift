import AttractorCore
import AttractorLinearAlgebra
import Dispatch
import Foundation

/// A dense associative memory (Krotov & Hopfield): binary ±1 states, stored ±1 patterns and an
/// energy built from a higher-order interaction function F of the overlaps.
///
/// Patterns ξ¹ … ξᴷ ∈ {±1}ᴺ are the rows of `patterns` (K × N); m_μ = ξ^μ·σ is the overlap of
/// state σ with pattern μ.
///
/// ```
/// E(σ) = −Σ_μ F(ξ^μ · σ)
/// σᵢ ← Sign[ Σ_μ ( F(ξ^μᵢ + Σ_{j≠i} ξ^μⱼ σⱼ) − F(−ξ^μᵢ + Σ_{j≠i} ξ^μⱼ σⱼ) ) ]   (asynchronous)
///    = Sign[ Σ_μ ξ^μᵢ D(m_μ − ξ^μᵢ σᵢ) ],   D(x) = F(x + 1) − F(x − 1)
/// ```
///
/// (the second form because ξ^μᵢ = ±1). A zero sum keeps σᵢ. The synchronous ``update(_:into:workspace:)``
/// applies the same decision to every unit of the current state at once.
///
/// Mathematical properties:
/// - The asynchronous update of unit i chooses the value of σᵢ with the lower energy, all other
///   units held: E(σᵢ = +1) − E(σᵢ = −1) = −Σ_μ ξ^μᵢ D(m_μ − ξ^μᵢ σᵢ). So E never increases under
///   asynchronous updates, for every F, and the dynamics reach a fixed point in finitely many
///   sweeps (finitely many states, strictly decreasing energy at every flip). The synchronous
///   update has no such guarantee.
/// - F(x) = x² gives exactly the classical Hopfield network's decisions (zero self-coupling):
///   Σ_μ ξ^μᵢ · 4(m_μ − ξ^μᵢσᵢ) = 4 Σ_{j≠i} Σ_μ ξ^μᵢξ^μⱼ σⱼ.
/// - No-error capacity of F(x) = xⁿ: K_max ≈ Nⁿ⁻¹ / (2 (2n − 3)!! ln N); exponential F: about
///   2^{N/2} (Demircigil et al.).
///
/// Implementation: D is tabulated once over the integers |x| ≤ N − 1 (or log D for interactions
/// that provide ``InteractionFunction/logDifference(at:)``, decided relative to the largest
/// term, so nothing overflows). Overlaps of ±1 states are integers and are kept exact in `Int32`;
/// for polynomial tables below 2⁵³ (e.g. n ≤ 6 at N = 100, K ≤ 10⁴) the decision sums are exact too,
/// so ties are exact. Coordinate updates keep the overlaps in the workspace and cost O(K); the
/// batched runner ``runAsynchronous(from:seed:maxSweeps:targets:threads:)`` does the same over many
/// starts in parallel.
///
/// States passed to ``update(_:into:workspace:)`` and the coordinate updates are read by sign
/// (x ≥ 0 ↦ +1); they always write ±1. The energy is evaluated on the entries as given.
///
/// References: D. Krotov and J. J. Hopfield, "Dense Associative Memory for Pattern Recognition",
/// NeurIPS 2016, arXiv:1606.01164; M. Demircigil, J. Heusel, M. Löwe, S. Upgang, F. Vermet, "On a
/// model of associative memory with huge storage capacity", J. Stat. Phys. 168 (2017).
///
/// Capabilities: ``/AttractorCore/EnergyDescending`` (E never increases under the coordinate-wise,
/// asynchronous updates; synchronous runs record it too, without that guarantee) and
/// ``/AttractorCore/CoordinateUpdatable``.
public struct DenseAssociativeMemory<Scalar: LinearAlgebraScalar, Interaction: InteractionFunction>: EnergyDescending,
  CoordinateUpdatable, EnergyFunction, AssociativeMemory
{
  /// Stored ±1 patterns, one per row (K × N).
  public let patterns: Matrix<Scalar>
  /// The interaction function F.
  public let interaction: Interaction
  let kernel: DenseKernel

  /// A memory storing the rows of `patterns` (which must be ±1) with interaction F.
  ///
  /// - Throws: ``ModelError`` if there are no patterns, an entry is not ±1, there are more than
  ///   2³⁰ units or patterns, or D(x) = F(x + 1) − F(x − 1) is not finite for some |x| ≤ N − 1 and
  ///   the interaction offers no log form.
  public init(patterns: Matrix<Scalar>, interaction: Interaction) throws(ModelError) {
    try ModelError.validatePatterns(patterns)
    guard patterns.rows <= 1 << 30 && patterns.columns <= 1 << 30 else {
      throw .invalidParameter(
        name: "patterns", value: "\(patterns.rows) × \(patterns.columns)", requirement: "at most 2³⁰ patterns and units"
      )
    }
    var signs = [Int32](repeating: 0, count: patterns.rows * patterns.columns)
    for i in 0..<patterns.rows {
      for j in 0..<patterns.columns {
        let v = patterns[i, j]
        guard v == 1 || v == -1 else { throw .notBinary(row: i, column: j, value: Double(v)) }
        signs[i * patterns.columns + j] = v == 1 ? 1 : -1
      }
    }
    guard
      let kernel = DenseKernel(patterns: signs, count: patterns.rows, units: patterns.columns, interaction: interaction)
    else {
      throw .invalidParameter(
        name: "interaction", value: interaction.description,
        requirement:
          "finite F(x + 1) − F(x − 1) for every integer |x| ≤ N − 1 = \(patterns.columns - 1), or a logDifference")
    }
    self.patterns = patterns
    self.interaction = interaction
    self.kernel = kernel
  }

  /// Number of units N (the dimension of a state).
  public var dimension: Int { patterns.columns }
  /// Number of stored patterns K.
  public var patternCount: Int { patterns.rows }

  /// The table the decisions use: D(x) for x = −(N − 1) … N − 1, or log D(x) when
  /// ``usesLogSpace`` is `true`.
  public var differenceTable: [Double] { kernel.table }
  /// Whether decisions are made in log space (relative to the largest term).
  public var usesLogSpace: Bool { kernel.logMode }

  // MARK: - Workspace

  /// Scratch space: signs and overlaps of a batch, and one row's exact overlaps for coordinate
  /// updates.
  public struct Workspace: Sendable {
    var signs: Matrix<Scalar>
    var overlaps: Matrix<Scalar>
    var rowState: [Int32]
    /// Exact overlaps ξ^μ·σ of the row being updated coordinate by coordinate.
    var rowOverlaps: [Int32]
    var rowDoubles: [Double]
    var rowWeights: [Double]
    var cache: LogRowCache
    /// Buffers of the batched synchronous update (sized on first use for a batch size).
    var batch: DenseKernel.BatchBuffers

    mutating func fit(batchSize: Int, units: Int, count: Int) {
      if signs.rows != batchSize { signs.reshape(rows: batchSize, columns: units) }
      if overlaps.rows != batchSize { overlaps.reshape(rows: batchSize, columns: count) }
    }
  }

  public func makeWorkspace(batchSize: Int) -> Workspace {
    Workspace(
      signs: Matrix(rows: batchSize, columns: dimension), overlaps: Matrix(rows: batchSize, columns: patternCount),
      rowState: [Int32](repeating: 0, count: dimension), rowOverlaps: [Int32](repeating: 0, count: patternCount),
      rowDoubles: [Double](repeating: 0, count: patternCount), rowWeights: [Double](repeating: 0, count: patternCount),
      cache: kernel.makeCache(), batch: makeBatchBuffers(batchSize: batchSize))
  }

  func makeBatchBuffers(batchSize: Int) -> DenseKernel.BatchBuffers {
    var buffers = DenseKernel.BatchBuffers()
    if kernel.batchable && batchSize > 0 {
      buffers.fit(rows: batchSize, units: dimension, count: patternCount, width: 2 * dimension - 1)
    }
    return buffers
  }

  /// Overlaps of the states as given (real states allowed), B × K, by one GEMM.
  func realOverlaps(_ states: Matrix<Scalar>, workspace: inout Workspace) {
    workspace.fit(batchSize: states.rows, units: dimension, count: patternCount)
    Matrix.multiply(states, patterns, transposeB: true, into: &workspace.overlaps)
  }

  // MARK: - Energy

  /// The reported energy of each row: −Σ_μ F(ξ^μ·x) by default, or the interaction's documented
  /// increasing transform of it (``Exponential``: −β⁻¹ log Σ_μ exp(β ξ^μ·x)).
  public func energy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) {
    realOverlaps(states, workspace: &workspace)
    let k = patternCount
    for r in 0..<states.rows {
      workspace.overlaps.withUnsafeBufferPointer { m in
        for mu in 0..<k { workspace.rowDoubles[mu] = Double(m[r * k + mu]) }
      }
      energies[r] = Scalar(workspace.rowDoubles.withUnsafeBufferPointer { interaction.reportedEnergy(overlaps: $0) })
    }
  }

  /// ∇ of the reported energy: Σ_μ (∂E/∂m_μ) ξ^μ (for −Σ F: −Σ_μ F′(m_μ) ξ^μ).
  public func gradient(_ states: Matrix<Scalar>, into gradient: inout Matrix<Scalar>, workspace: inout Workspace) {
    realOverlaps(states, workspace: &workspace)
    let k = patternCount
    for r in 0..<states.rows {
      workspace.overlaps.withUnsafeBufferPointer { m in
        for mu in 0..<k { workspace.rowDoubles[mu] = Double(m[r * k + mu]) }
      }
      workspace.rowDoubles.withUnsafeBufferPointer { m in
        workspace.rowWeights.withUnsafeMutableBufferPointer { w in
          interaction.reportedEnergyDerivatives(overlaps: m, into: w)
        }
      }
      workspace.overlaps.withUnsafeMutableBufferPointer { m in
        for mu in 0..<k { m[r * k + mu] = Scalar(workspace.rowWeights[mu]) }
      }
    }
    Matrix.multiply(workspace.overlaps, patterns, into: &gradient)
  }

  // MARK: - Updates

  /// Synchronous update: every unit of each row takes the asynchronous decision computed from the
  /// same current state.
  ///
  /// Batched (when the interaction allows it, see below): with t = ξ^μᵢσᵢ = ±1,
  /// ξ^μᵢ D(m_μ − t) = ξ^μᵢ A_μ + σᵢ C_μ where A_μ = (D(m_μ−1) + D(m_μ+1))/2 and
  /// C_μ = (D(m_μ−1) − D(m_μ+1))/2, so the decisions of a batch S are
  /// sign(A Ξ + c σ) with M = S Ξᵀ and A Ξ two GEMMs in double precision and c_r = Σ_μ C_μ:
  /// O(B·K) table reads instead of O(B·N·K). Used for integer tables whose sums stay exact
  /// (K · max |D| ≤ 2⁵¹: polynomials), where the decisions equal the unit-by-unit ones exactly,
  /// and in log mode when |log D(x + 2) − log D(x)| ≤ 8 (F = exp(βx) with β ≤ 4), where they
  /// agree up to rounding (every D relative to the row's largest). Otherwise: overlaps by one
  /// GEMM, then O(N·K) per row.
  public func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    if kernel.batchable && states.rows > 0 {
      batchedUpdate(states, into: &next, workspace: &workspace)
      return
    }
    let n = dimension
    let k = patternCount
    workspace.fit(batchSize: states.rows, units: n, count: k)
    states.withUnsafeBufferPointer { x in
      workspace.signs.withUnsafeMutableBufferPointer { s in
        for idx in s.indices { s[idx] = x[idx] >= 0 ? 1 : -1 }
      }
    }
    Matrix.multiply(workspace.signs, patterns, transposeB: true, into: &workspace.overlaps)
    for r in 0..<states.rows {
      workspace.overlaps.withUnsafeBufferPointer { m in
        for mu in 0..<k { workspace.rowOverlaps[mu] = Int32(m[r * k + mu].rounded()) }
      }
      workspace.rowOverlaps.withUnsafeBufferPointer { m in
        next.withUnsafeMutableBufferPointer { out in
          for i in 0..<n {
            let s: Int32 = workspace.signs[r, i] > 0 ? 1 : -1
            out[r * n + i] = Scalar(
              kernel.decide(unit: i, current: s, overlaps: m.baseAddress!, cache: &workspace.cache))
          }
        }
      }
    }
  }

  /// ``update(_:into:workspace:)`` through ``DenseKernel/synchronousUpdate(rows:buffers:)``. The
  /// states are read and written through raw memory as `Float` or `Double` (the two
  /// ``/AttractorLinearAlgebra/LinearAlgebraScalar`` types), so the loops are concrete code
  /// whatever `Scalar` is at the call.
  func batchedUpdate(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    let b = states.rows, n = dimension
    workspace.batch.fit(rows: b, units: n, count: patternCount, width: 2 * n - 1)
    let isDouble = Scalar.self == Double.self
    states.withUnsafeBufferPointer { x in
      workspace.batch.signs.withUnsafeMutableBufferPointer { s in
        let raw = UnsafeRawPointer(x.baseAddress!)
        if isDouble {
          let p = raw.assumingMemoryBound(to: Double.self)
          for j in 0..<(b * n) { s[j] = p[j] >= 0 ? 1 : -1 }
        } else {
          let p = raw.assumingMemoryBound(to: Float.self)
          for j in 0..<(b * n) { s[j] = p[j] >= 0 ? 1 : -1 }
        }
      }
    }
    kernel.synchronousUpdate(rows: b, buffers: &workspace.batch)
    next.withUnsafeMutableBufferPointer { out in
      workspace.batch.signs.withUnsafeBufferPointer { s in
        let raw = UnsafeMutableRawPointer(out.baseAddress!)
        if isDouble {
          let p = raw.assumingMemoryBound(to: Double.self)
          for j in 0..<(b * n) { p[j] = s[j] }
        } else {
          let p = raw.assumingMemoryBound(to: Float.self)
          for j in 0..<(b * n) { p[j] = Float(s[j]) }
        }
      }
    }
  }

  /// Computes the exact overlaps of the state's signs (O(N·K)), kept up to date by
  /// ``updateCoordinate(_:of:workspace:)``.
  public func prepareCoordinateUpdates(of state: Matrix<Scalar>, workspace: inout Workspace) {
    let n = dimension
    for i in 0..<n { workspace.rowState[i] = state[0, i] >= 0 ? 1 : -1 }
    workspace.rowState.withUnsafeBufferPointer { s in
      workspace.rowOverlaps.withUnsafeMutableBufferPointer { m in
        kernel.computeOverlaps(state: s.baseAddress!, into: m.baseAddress!)
      }
    }
  }

  /// σᵢ ← Sign Σ_μ ξ^μᵢ D(m_μ − ξ^μᵢσᵢ) from the workspace's overlaps; on a flip the overlaps are
  /// updated, m_μ += 2 ξ^μᵢ σᵢ. O(K).
  public func updateCoordinate(_ i: Int, of state: inout Matrix<Scalar>, workspace: inout Workspace) {
    let s: Int32 = state[0, i] >= 0 ? 1 : -1
    let new = workspace.rowOverlaps.withUnsafeMutableBufferPointer { m -> Int32 in
      let v = kernel.decide(unit: i, current: s, overlaps: m.baseAddress!, cache: &workspace.cache)
      if v != s { kernel.applyFlip(unit: i, newValue: v, overlaps: m.baseAddress!) }
      return v
    }
    workspace.rowState[i] = new
    state[0, i] = Scalar(new)
  }

  /// The exact overlaps ξ^μ·σ the coordinate updates currently hold (for checks).
  public func coordinateOverlaps(_ workspace: Workspace) -> [Int32] { workspace.rowOverlaps }

  // MARK: - Separation

  /// Weight of each pattern from the overlaps m = ξ·x, as the interaction defines it: by default
  /// max(F(m_μ), 0) / Σ_ν max(F(m_ν), 0), each pattern's share of the energy it lowers (for n = 2
  /// the classical network's m_μ² share); softmax(β m) for ``Exponential``, as in the modern
  /// network. Uniform when no pattern lowers the energy.
  public func separation(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var workspace = makeWorkspace(batchSize: states.rows)
    realOverlaps(states, workspace: &workspace)
    let k = patternCount
    var result = Matrix<Scalar>(rows: states.rows, columns: k)
    for r in 0..<states.rows {
      for mu in 0..<k { workspace.rowDoubles[mu] = Double(workspace.overlaps[r, mu]) }
      workspace.rowDoubles.withUnsafeBufferPointer { m in
        workspace.rowWeights.withUnsafeMutableBufferPointer { w in interaction.separationWeights(overlaps: m, into: w) }
      }
      for mu in 0..<k { result[r, mu] = Scalar(workspace.rowWeights[mu]) }
    }
    return result
  }
}

// MARK: - Batched asynchronous runs

/// Errors of ``DenseAssociativeMemory/runAsynchronous(from:seed:maxSweeps:targets:threads:)``.
public enum DenseAssociativeMemoryError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A start state has an entry that is not ±1.
  case notBinaryState(row: Int, column: Int, value: Double)
  /// Start states of the wrong dimension.
  case dimensionMismatch(expected: Int, actual: Int)
  /// A target index is not a stored pattern.
  case targetOutOfRange(position: Int, value: Int, patternCount: Int)
  /// A parameter is out of range.
  case invalidParameter(name: String, value: String, requirement: String)

  public var description: String {
    switch self {
    case .notBinaryState(let row, let column, let value):
      return "start state \(row) has \(value) at unit \(column); dense associative memory states are ±1"
    case .dimensionMismatch(let expected, let actual):
      return "start states have \(actual) units, but the memory has N = \(expected)"
    case .targetOutOfRange(let position, let value, let patternCount):
      return
        "target \(position) is \(value), but there are \(patternCount) patterns (valid targets are 0..<\(patternCount))"
    case .invalidParameter(let name, let value, let requirement):
      return "\(name) = \(value) is invalid: must be \(requirement)"
    }
  }
}

/// The outcome of ``DenseAssociativeMemory/runAsynchronous(from:seed:maxSweeps:targets:threads:)``,
/// one entry per start.
public struct DenseAsynchronousRun<Scalar: LinearAlgebraScalar>: Sendable {
  /// Final states, one per row (±1).
  public let finalStates: Matrix<Scalar>
  /// Sweeps taken, including the final sweep without a flip when converged.
  public let sweeps: [Int]
  /// Whether the last sweep changed no unit (the final state is a fixed point).
  public let converged: [Bool]
  /// Number of unit flips over the run.
  public let flips: [Int]
  /// max_μ ξ^μ·σ of the final state (N means it is a stored pattern).
  public let largestOverlap: [Int]
  /// The pattern with the largest overlap (lowest index on ties).
  public let nearestPattern: [Int]
  /// max_μ |ξ^μ·σ| (N means a stored pattern or its negation).
  public let largestAbsoluteOverlap: [Int]
  /// ξ^t·σ for each start's target t, when targets were given.
  public let targetOverlap: [Int]?
  /// Worker threads used.
  public let threads: Int

  /// Unit updates performed: Σ sweeps × N.
  public var unitUpdates: Int { sweeps.reduce(0, +) * finalStates.columns }
}

extension DenseAssociativeMemory {
  /// Runs asynchronous dynamics from every row of `starts` (±1), in parallel over starts.
  ///
  /// Each start r uses the random stream `SeededGenerator(seed: seed).derived(r)` for its sweep
  /// orders (a fresh permutation per sweep), exactly as ``/AttractorCore/AsynchronousDynamics`` does, so its
  /// result equals `AsynchronousDynamics(maxSteps: maxSweeps, tolerance: 0, seed: seed)` on this
  /// model and does not depend on the thread count. A start stops after a sweep with no flip
  /// (converged) or after `maxSweeps` sweeps. Overlaps are kept exact and updated per flip (O(K)
  /// per unit update).
  ///
  /// - Parameters:
  ///   - starts: B × N start states, entries ±1.
  ///   - seed: Seed of the sweep orders.
  ///   - maxSweeps: Most sweeps per start (≥ 0).
  ///   - targets: Optional pattern index per start, to report ξ^t·σ at the end.
  ///   - threads: Worker threads (default: all active processors).
  /// - Throws: ``DenseAssociativeMemoryError`` for non-±1 starts, a dimension mismatch, a bad
  ///   target, `maxSweeps < 0` or `threads < 1`.
  public func runAsynchronous(
    from starts: Matrix<Scalar>, seed: UInt64, maxSweeps: Int = 1000, targets: [Int]? = nil, threads: Int? = nil
  ) throws(DenseAssociativeMemoryError) -> DenseAsynchronousRun<Scalar> {
    let n = dimension
    guard starts.columns == n else { throw .dimensionMismatch(expected: n, actual: starts.columns) }
    guard maxSweeps >= 0 else {
      throw .invalidParameter(name: "maxSweeps", value: "\(maxSweeps)", requirement: "at least 0")
    }
    let available = max(1, ProcessInfo.processInfo.activeProcessorCount)
    if let threads, threads < 1 {
      throw .invalidParameter(name: "threads", value: "\(threads)", requirement: "at least 1")
    }
    let workers = min(threads ?? available, max(1, starts.rows))
    let b = starts.rows
    if let targets {
      guard targets.count == b else {
        throw .invalidParameter(name: "targets", value: "\(targets.count) entries", requirement: "one per start (\(b))")
      }
      for (p, t) in targets.enumerated() where t < 0 || t >= patternCount {
        throw .targetOutOfRange(position: p, value: t, patternCount: patternCount)
      }
    }
    var state = [Int32](repeating: 0, count: b * n)
    for r in 0..<b {
      for j in 0..<n {
        let v = starts[r, j]
        guard v == 1 || v == -1 else { throw .notBinaryState(row: r, column: j, value: Double(v)) }
        state[r * n + j] = v == 1 ? 1 : -1
      }
    }
    var sweeps = [Int](repeating: 0, count: b)
    var converged = [Bool](repeating: false, count: b)
    var flips = [Int](repeating: 0, count: b)
    var largest = [Int](repeating: 0, count: b)
    var nearest = [Int](repeating: 0, count: b)
    var largestAbs = [Int](repeating: 0, count: b)
    var targetOverlap = [Int](repeating: 0, count: b)
    let kernel = self.kernel
    let root = SeededGenerator(seed: seed)

    state.withUnsafeMutableBufferPointer { st in
      sweeps.withUnsafeMutableBufferPointer { sw in
        converged.withUnsafeMutableBufferPointer { cv in
          flips.withUnsafeMutableBufferPointer { fl in
            largest.withUnsafeMutableBufferPointer { lg in
              nearest.withUnsafeMutableBufferPointer { nr in
                largestAbs.withUnsafeMutableBufferPointer { la in
                  targetOverlap.withUnsafeMutableBufferPointer { to in
                    let out = RunBuffers(
                      state: st.baseAddress!, sweeps: sw.baseAddress!, converged: cv.baseAddress!,
                      flips: fl.baseAddress!,
                      largest: lg.baseAddress!, nearest: nr.baseAddress!, largestAbs: la.baseAddress!,
                      target: to.baseAddress!)
                    let chunks = workers == 1 ? 1 : min(b, workers * 16)
                    let work: @Sendable (Int) -> Void = { c in
                      let lo = c * b / chunks
                      let hi = (c + 1) * b / chunks
                      kernel.runStarts(lo..<hi, buffers: out, root: root, maxSweeps: maxSweeps, targets: targets)
                    }
                    if chunks <= 1 {
                      work(0)
                    } else {
                      DispatchQueue.concurrentPerform(iterations: chunks, execute: work)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    let finalStates = Matrix<Scalar>(rows: b, columns: n, elements: state.map { Scalar($0) })
    return DenseAsynchronousRun(
      finalStates: finalStates, sweeps: sweeps, converged: converged, flips: flips, largestOverlap: largest,
      nearestPattern: nearest, largestAbsoluteOverlap: largestAbs, targetOverlap: targets == nil ? nil : targetOverlap,
      threads: workers)
  }
}

/// Raw output pointers shared by the workers (each worker writes only its own starts).
struct RunBuffers: @unchecked Sendable {
  let state: UnsafeMutablePointer<Int32>
  let sweeps: UnsafeMutablePointer<Int>
  let converged: UnsafeMutablePointer<Bool>
  let flips: UnsafeMutablePointer<Int>
  let largest: UnsafeMutablePointer<Int>
  let nearest: UnsafeMutablePointer<Int>
  let largestAbs: UnsafeMutablePointer<Int>
  let target: UnsafeMutablePointer<Int>
}

extension DenseKernel {
  /// Runs the starts in `range` (their states in place in `buffers.state`).
  func runStarts(_ range: Range<Int>, buffers: RunBuffers, root: SeededGenerator, maxSweeps: Int, targets: [Int]?) {
    var overlaps = [Int32](repeating: 0, count: count)
    var order = [Int](repeating: 0, count: units)
    var cache = makeCache()
    for r in range {
      var rng = root.derived(r)
      let s = buffers.state + r * units
      overlaps.withUnsafeMutableBufferPointer { m in
        let (sweepCount, isConverged, flipCount) = runOne(
          state: s, overlaps: m.baseAddress!, order: &order, rng: &rng, maxSweeps: maxSweeps, cache: &cache)
        buffers.sweeps[r] = sweepCount
        buffers.converged[r] = isConverged
        buffers.flips[r] = flipCount
        var best = Int32.min, bestAbs: Int32 = 0, bestIndex = 0
        for mu in 0..<count {
          if m[mu] > best {
            best = m[mu]
            bestIndex = mu
          }
          bestAbs = max(bestAbs, abs(m[mu]))
        }
        buffers.largest[r] = Int(best)
        buffers.nearest[r] = bestIndex
        buffers.largestAbs[r] = Int(bestAbs)
        if let targets { buffers.target[r] = Int(m[targets[r]]) }
      }
    }
  }

  /// Asynchronous sweeps from `state` until a sweep without flips or `maxSweeps`; `overlaps` holds
  /// the exact overlaps of the final state. Returns (sweeps, converged, flips).
  func runOne(
    state: UnsafeMutablePointer<Int32>, overlaps m: UnsafeMutablePointer<Int32>, order: inout [Int],
    rng: inout SeededGenerator, maxSweeps: Int, cache: inout LogRowCache
  ) -> (Int, Bool, Int) {
    computeOverlaps(state: state, into: m)
    var sweepCount = 0
    var flipCount = 0
    var isConverged = false
    while sweepCount < maxSweeps {
      sweepCount += 1
      rng.shuffle(&order)
      let changed = order.withUnsafeBufferPointer { o in sweep(state: state, overlaps: m, order: o, cache: &cache) }
      flipCount += changed
      if changed == 0 {
        isConverged = true
        break
      }
    }
    return (sweepCount, isConverged, flipCount)
  }
}
