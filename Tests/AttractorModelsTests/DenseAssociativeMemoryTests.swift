import AttractorCore
import AttractorLinearAlgebra
import Foundation
import Testing
@testable import AttractorModels

/// Every interaction the tests sweep over, with a name for messages.
private func allInteractions() throws -> [(String, any InteractionFunction)] {
  var list: [(String, any InteractionFunction)] = []
  for n in 1...6 { list.append(("x^\(n)", try Polynomial(degree: n))) }
  for n in 1...5 { list.append(("max(x,0)^\(n)", try RectifiedPolynomial(degree: n))) }
  list.append(("exp(x)", try Exponential()))
  list.append(("exp(0.4x)", try Exponential(beta: 0.4)))
  return list
}

/// The paper's decision for unit i computed from scratch with F itself (no table, no incremental
/// overlaps): Sign Σ_μ F(ξ_i + Σ_{j≠i} ξ_j σ_j) − F(−ξ_i + Σ_{j≠i} ξ_j σ_j); zero keeps σ_i.
private func bruteDecision(_ f: some InteractionFunction, patterns: Matrix<Double>, state: [Double], unit i: Int)
  -> Double
{
  var total = 0.0
  for mu in 0..<patterns.rows {
    var rest = 0.0
    for j in 0..<state.count where j != i { rest += patterns[mu, j] * state[j] }
    total += f.value(patterns[mu, i] + rest) - f.value(-patterns[mu, i] + rest)
  }
  return total > 0 ? 1 : (total < 0 ? -1 : state[i])
}

private func overlapsFromScratch(_ patterns: Matrix<Double>, _ state: [Double]) -> [Int32] {
  (0..<patterns.rows).map { mu in Int32((0..<state.count).reduce(0.0) { $0 + patterns[mu, $1] * state[$1] }) }
}

@Suite("Dense associative memory")
struct DenseAssociativeMemoryTests {
  // MARK: Energy descent

  @Test("energy never increases under asynchronous updates, flip by flip (every interaction, 12 seeds each)")
  func energyNonIncreasing() throws {
    for (name, f) in try allInteractions() {
      try checkDescent(f, name: name)
    }
  }

  func checkDescent<F: InteractionFunction>(_ f: F, name: String) throws {
    for seed in UInt64(0)..<12 {
      var rng = SeededGenerator(seed: seed)
      let n = 8 + Int(rng.next(upperBound: UInt64(40)))
      let k = 1 + Int(rng.next(upperBound: UInt64(40)))
      let memory = try DenseAssociativeMemory(
        patterns: rng.signMatrix(rows: k, columns: n, as: Double.self), interaction: f)
      var state: Matrix<Double> = rng.signMatrix(rows: 1, columns: n)
      var workspace = memory.makeWorkspace(batchSize: 1)
      var order = [Int](repeating: 0, count: n)
      var previous = memory.energy(state)[0]
      var sweeps = 0
      var changed = true
      while changed && sweeps < 50 {
        changed = false
        sweeps += 1
        rng.shuffle(&order)
        memory.prepareCoordinateUpdates(of: state, workspace: &workspace)
        for i in order {
          let before = state[0, i]
          memory.updateCoordinate(i, of: &state, workspace: &workspace)
          let now = memory.energy(state)[0]
          if state[0, i] != before {
            changed = true
            // A flip happens only on a strictly positive energy difference.
            #expect(
              now < previous + 1e-9 * max(1, abs(previous)),
              "\(name) seed \(seed): a flip raised the energy \(previous) → \(now)")
          } else {
            #expect(now == previous, "\(name) seed \(seed): no flip but the energy changed")
          }
          previous = now
        }
      }
      #expect(!changed, "\(name) seed \(seed): a fixed point within 50 sweeps")
    }
  }

  @Test("AsynchronousDynamics records non-increasing energies for the dense memory (Float and Double)")
  func dynamicsRecordEnergies() throws {
    for (name, f) in try allInteractions() {
      try recorded(f, Double.self, name: name)
      try recorded(f, Float.self, name: name)
    }
  }

  func recorded<F: InteractionFunction, S: LinearAlgebraScalar>(_ f: F, _: S.Type, name: String) throws {
    var rng = SeededGenerator(seed: 41)
    let memory = try DenseAssociativeMemory(patterns: rng.signMatrix(rows: 30, columns: 24, as: S.self), interaction: f)
    let starts: Matrix<S> = rng.signMatrix(rows: 6, columns: 24)
    let result = try AsynchronousDynamics(maxSteps: 100, tolerance: 0, seed: 9).run(memory, from: starts)
    #expect(result.allConverged, "\(name)")
    for t in result.trajectories {
      let e = try #require(t.energies)
      for s in 1..<e.count {
        #expect(e[s] <= e[s - 1] + S(1e-5) * max(1, abs(e[s - 1])), "\(name) \(S.self) sweep \(s)")
      }
    }
  }

  // MARK: Decisions against independent evidence

  @Test("coordinate and synchronous decisions equal the paper's formula evaluated from scratch")
  func decisionsMatchFormula() throws {
    for (name, f) in try allInteractions() { try formula(f, name: name) }
  }

  func formula<F: InteractionFunction>(_ f: F, name: String) throws {
    var rng = SeededGenerator(seed: 5)
    for trial in 0..<6 {
      let n = 6 + 2 * Int(rng.next(upperBound: UInt64(12)))  // even N: ties occur
      let k = 1 + Int(rng.next(upperBound: UInt64(20)))
      let patterns: Matrix<Double> = rng.signMatrix(rows: k, columns: n)
      let memory = try DenseAssociativeMemory(patterns: patterns, interaction: f)
      let states: Matrix<Double> = rng.signMatrix(rows: 4, columns: n)
      let sync = memory.update(states)
      var workspace = memory.makeWorkspace(batchSize: 1)
      for r in 0..<4 {
        let row = states.row(r)
        for i in 0..<n {
          let expected = bruteDecision(f, patterns: patterns, state: row, unit: i)
          #expect(sync[r, i] == expected, "\(name) trial \(trial) row \(r) unit \(i) (synchronous)")
          var single = Matrix(rows: 1, columns: n, elements: row)
          memory.prepareCoordinateUpdates(of: single, workspace: &workspace)
          memory.updateCoordinate(i, of: &single, workspace: &workspace)
          #expect(single[0, i] == expected, "\(name) trial \(trial) row \(r) unit \(i) (coordinate)")
        }
      }
    }
  }

  struct ReferenceCase: Decodable {
    let kind: String, parameter: Double, patterns: [[Double]], states: [[Double]], energy: [Double]
    let synchronous_update: [[Double]], asynchronous_final: [[Double]], asynchronous_sweeps: [Int]
  }
  struct ReferenceDocument: Decodable {
    let GENERATED: String
    let cases: [ReferenceCase]
  }

  @Test(
    "matches NumPy/Python-integer reference values (energies, synchronous step, asynchronous runs in a fixed order)")
  func numpyReference() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "DAMReference/dam_reference.json")
    let doc = try JSONDecoder().decode(ReferenceDocument.self, from: Data(contentsOf: url))
    #expect(doc.GENERATED.contains("dam_reference.py"))
    #expect(doc.cases.count == 12)
    for c in doc.cases {
      switch c.kind {
      case "polynomial": try compare(c, try Polynomial(degree: Int(c.parameter)))
      case "rectified": try compare(c, try RectifiedPolynomial(degree: Int(c.parameter)))
      default: try compare(c, try Exponential(beta: c.parameter))
      }
    }
  }

  func compare<F: InteractionFunction>(_ c: ReferenceCase, _ f: F) throws {
    let memory = try DenseAssociativeMemory(patterns: Matrix(rowArrays: c.patterns), interaction: f)
    let states = Matrix(rowArrays: c.states)
    let energies = memory.energy(states)
    for (a, b) in zip(energies, c.energy) {
      #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(c.kind) \(c.parameter): energy \(a) vs \(b)")
    }
    #expect(memory.update(states) == Matrix(rowArrays: c.synchronous_update), "\(c.kind) \(c.parameter): synchronous")
    var workspace = memory.makeWorkspace(batchSize: 1)
    for r in 0..<states.rows {
      var s = Matrix(rows: 1, columns: states.columns, elements: states.row(r))
      var sweeps = 0
      var changed = true
      while changed && sweeps < 200 {
        sweeps += 1
        changed = false
        memory.prepareCoordinateUpdates(of: s, workspace: &workspace)
        for i in 0..<states.columns {
          let before = s[0, i]
          memory.updateCoordinate(i, of: &s, workspace: &workspace)
          if s[0, i] != before { changed = true }
        }
      }
      #expect(s.row(0) == c.asynchronous_final[r], "\(c.kind) \(c.parameter) row \(r): asynchronous final state")
      #expect(sweeps == c.asynchronous_sweeps[r], "\(c.kind) \(c.parameter) row \(r): sweeps")
    }
  }

  @Test("F(x) = x² makes exactly the classical Hopfield network's decisions, ties included")
  func degreeTwoIsClassical() throws {
    var rng = SeededGenerator(seed: 12)
    for _ in 0..<10 {
      let n = 10 + 2 * Int(rng.next(upperBound: UInt64(20)))
      let k = 1 + Int(rng.next(upperBound: UInt64(12)))
      let patterns: Matrix<Double> = rng.signMatrix(rows: k, columns: n)
      let dense = try DenseAssociativeMemory(patterns: patterns, interaction: try Polynomial(degree: 2))
      let classical = try ClassicalHopfield(patterns: patterns)
      let states: Matrix<Double> = rng.signMatrix(rows: 8, columns: n)
      #expect(dense.update(states) == classical.update(states))
      let a = try AsynchronousDynamics(maxSteps: 100, tolerance: 0, seed: 3).run(dense, from: states)
      let b = try AsynchronousDynamics(maxSteps: 100, tolerance: 0, seed: 3).run(classical, from: states)
      #expect(a.finalStates == b.finalStates)
    }
  }

  // MARK: Incremental overlaps and the batched runner

  @Test("incremental overlaps equal a from-scratch recomputation after thousands of flips")
  func incrementalOverlaps() throws {
    var rng = SeededGenerator(seed: 77)
    let n = 50, k = 300
    let patterns: Matrix<Double> = rng.signMatrix(rows: k, columns: n)
    let memory = try DenseAssociativeMemory(patterns: patterns, interaction: try Polynomial(degree: 3))
    var state: Matrix<Double> = rng.signMatrix(rows: 1, columns: n)
    var workspace = memory.makeWorkspace(batchSize: 1)
    memory.prepareCoordinateUpdates(of: state, workspace: &workspace)
    var flips = 0
    for step in 0..<20_000 {
      let i = Int(rng.next(upperBound: UInt64(n)))
      if step % 3 == 0 {
        // An external flip, applied through the same incremental update.
        let new: Int32 = state[0, i] > 0 ? -1 : 1
        state[0, i] = Double(new)
        workspace.rowOverlaps.withUnsafeMutableBufferPointer { m in
          memory.kernel.applyFlip(unit: i, newValue: new, overlaps: m.baseAddress!)
        }
        flips += 1
      } else {
        let before = state[0, i]
        memory.updateCoordinate(i, of: &state, workspace: &workspace)
        if state[0, i] != before { flips += 1 }
      }
    }
    #expect(flips > 6000)
    #expect(memory.coordinateOverlaps(workspace) == overlapsFromScratch(patterns, state.row(0)))

    // The runner's overlaps after full runs, for every interaction kind.
    for f in [
      try Polynomial(degree: 4) as any InteractionFunction, try RectifiedPolynomial(degree: 3), try Exponential(),
    ] {
      try runnerOverlaps(f, patterns: patterns)
    }
  }

  func runnerOverlaps<F: InteractionFunction>(_ f: F, patterns: Matrix<Double>) throws {
    let memory = try DenseAssociativeMemory(patterns: patterns, interaction: f)
    var rng = SeededGenerator(seed: 8)
    var state = (0..<patterns.columns).map { _ in Int32(rng.next() & 1 == 0 ? 1 : -1) }
    var m = [Int32](repeating: 0, count: patterns.rows)
    var order = [Int](repeating: 0, count: patterns.columns)
    var cache = memory.kernel.makeCache()
    let (sweeps, converged, flips) = state.withUnsafeMutableBufferPointer { s in
      m.withUnsafeMutableBufferPointer { mp in
        memory.kernel.runOne(
          state: s.baseAddress!, overlaps: mp.baseAddress!, order: &order, rng: &rng, maxSweeps: 500, cache: &cache)
      }
    }
    #expect(converged && sweeps >= 2 && flips > 0, "\(f)")
    #expect(m == overlapsFromScratch(patterns, state.map(Double.init)), "\(f)")
  }

  @Test("batched runner equals AsynchronousDynamics with the same seed, and does not depend on the thread count")
  func runnerMatchesDynamics() throws {
    var rng = SeededGenerator(seed: 21)
    let patterns: Matrix<Double> = rng.signMatrix(rows: 40, columns: 32)
    let starts: Matrix<Double> = rng.signMatrix(rows: 37, columns: 32)
    let memory = try DenseAssociativeMemory(patterns: patterns, interaction: try Polynomial(degree: 3))
    let one = try memory.runAsynchronous(from: starts, seed: 99, maxSweeps: 100, threads: 1)
    let two = try memory.runAsynchronous(from: starts, seed: 99, maxSweeps: 100, threads: 2)
    let reference = try AsynchronousDynamics(maxSteps: 100, tolerance: 0, seed: 99, recordEnergies: false).run(
      memory, from: starts)
    #expect(one.finalStates == reference.finalStates)
    #expect(two.finalStates == reference.finalStates)
    #expect(one.sweeps == reference.trajectories.map(\.stepsTaken))
    #expect(one.sweeps == two.sweeps && one.flips == two.flips)
    for r in 0..<starts.rows {
      let m = overlapsFromScratch(patterns, one.finalStates.row(r))
      #expect(one.largestOverlap[r] == Int(m.max()!))
      #expect(one.largestAbsoluteOverlap[r] == Int(m.map { abs($0) }.max()!))
      #expect(one.nearestPattern[r] == m.firstIndex(of: m.max()!)!)
    }
    #expect(one.unitUpdates == one.sweeps.reduce(0, +) * 32)
  }

  // MARK: Overflow

  @Test(
    "exponential interaction: no overflow at N = 1500 (E itself would be −exp(1500)); decisions match a log-space brute force"
  )
  func exponentialNoOverflow() throws {
    var rng = SeededGenerator(seed: 4)
    let n = 1500, k = 20
    let patterns: Matrix<Double> = rng.signMatrix(rows: k, columns: n)
    let f = try Exponential()
    let memory = try DenseAssociativeMemory(patterns: patterns, interaction: f)
    #expect(memory.usesLogSpace)
    // Start at pattern 0 with 300 units flipped.
    var start = patterns.row(0)
    for j in 0..<300 { start[j * 5] = -start[j * 5] }
    let states = Matrix(rows: 1, columns: n, elements: start)
    let energy = memory.energy(states)[0]
    let m = overlapsFromScratch(patterns, start).map(Double.init)
    let top = m.max()!
    let lse = top + log(m.reduce(0) { $0 + exp($1 - top) })
    #expect(energy.isFinite && abs(energy + lse) < 1e-9 * lse)
    // Brute force in log space: unit i's decision is the sign of Σ_μ ξ^μ_i exp(x_μ − max x).
    let sync = memory.update(states)
    for i in stride(from: 0, to: n, by: 7) {
      let xs = (0..<k).map { m[$0] - patterns[$0, i] * start[i] }
      let xmax = xs.max()!
      let s = (0..<k).reduce(0.0) { $0 + patterns[$1, i] * exp(xs[$1] - xmax) }
      #expect(sync[0, i] == (s > 0 ? 1 : (s < 0 ? -1 : start[i])), "unit \(i)")
    }
    let run = try memory.runAsynchronous(from: states, seed: 1)
    #expect(run.finalStates.row(0) == patterns.row(0), "retrieves pattern 0 from 20 % flips")
    // Float: the reported energy stays finite where exp(m) would overflow a Float (m > 88).
    let floatMemory = try DenseAssociativeMemory(
      patterns: Matrix<Float>(rows: k, columns: n, elements: patterns.elements.map(Float.init)), interaction: f)
    #expect(floatMemory.energy(Matrix<Float>(rows: 1, columns: n, elements: start.map(Float.init)))[0].isFinite)
  }

  @Test("polynomial differences are exact integers (expansion, not subtraction) and ties are exact")
  func exactDifferences() throws {
    for n in 1...8 {
      let f = try Polynomial(degree: n)
      for x in -60...60 {
        var exact = 0  // (x+1)^n − (x−1)^n in Int
        var a = 1, b = 1
        for _ in 0..<n {
          a *= x + 1
          b *= x - 1
        }
        exact = a - b
        #expect(f.difference(at: x) == Double(exact), "n = \(n), x = \(x)")
      }
    }
    let r = try RectifiedPolynomial(degree: 3)
    #expect((-5...5).map { r.difference(at: $0) } == [0, 0, 0, 0, 0, 1, 8, 26, 56, 98, 152])
  }

  // MARK: Bad input

  @Test("bad input gives typed errors: degree < 1, β ≤ 0, non-±1 patterns and starts, mismatched shapes, overflow")
  func badInput() throws {
    #expect(throws: ModelError.invalidParameter(name: "degree", value: "0", requirement: "an integer from 1 to 64")) {
      try Polynomial(degree: 0)
    }
    #expect(throws: ModelError.self) { try RectifiedPolynomial(degree: -2) }
    #expect(throws: ModelError.self) { try Exponential(beta: 0) }
    #expect(throws: ModelError.self) { try Exponential(beta: .nan) }
    let f = try Polynomial(degree: 3)
    #expect(throws: ModelError.notBinary(row: 1, column: 2, value: 0.5)) {
      try DenseAssociativeMemory(patterns: Matrix<Double>(rowArrays: [[1, -1, 1], [1, 1, 0.5]]), interaction: f)
    }
    #expect(throws: ModelError.emptyPatterns(count: 0, dimension: 3)) {
      try DenseAssociativeMemory(patterns: Matrix<Double>(rows: 0, columns: 3), interaction: f)
    }
    #expect(throws: ModelError.nonFinitePattern(row: 0, column: 1)) {
      try DenseAssociativeMemory(patterns: Matrix<Double>(rowArrays: [[1, .nan]]), interaction: f)
    }
    // x^64 at N = 100,000 overflows D; no log form → typed error, not a crash.
    #expect(throws: ModelError.self) {
      try DenseAssociativeMemory(
        patterns: Matrix<Double>(rows: 1, columns: 100_000, repeating: 1), interaction: try Polynomial(degree: 64))
    }
    let memory = try DenseAssociativeMemory(
      patterns: Matrix<Double>(rowArrays: [[1, -1, 1], [1, 1, -1]]), interaction: f)
    #expect(throws: DenseAssociativeMemoryError.notBinaryState(row: 0, column: 1, value: 0)) {
      try memory.runAsynchronous(from: Matrix(rowArrays: [[1, 0, 1]]), seed: 0)
    }
    #expect(throws: DenseAssociativeMemoryError.dimensionMismatch(expected: 3, actual: 2)) {
      try memory.runAsynchronous(from: Matrix(rowArrays: [[1, 1]]), seed: 0)
    }
    #expect(throws: DenseAssociativeMemoryError.self) {
      try memory.runAsynchronous(from: Matrix(rowArrays: [[1, 1, 1]]), seed: 0, maxSweeps: -1)
    }
    #expect(throws: DenseAssociativeMemoryError.self) {
      try memory.runAsynchronous(from: Matrix(rowArrays: [[1, 1, 1]]), seed: 0, threads: 0)
    }
    #expect(throws: DenseAssociativeMemoryError.targetOutOfRange(position: 0, value: 2, patternCount: 2)) {
      try memory.runAsynchronous(from: Matrix(rowArrays: [[1, 1, 1]]), seed: 0, targets: [2])
    }
  }

  // MARK: Separation

  @Test("separation: rows sum to 1; softmax(βm) for the exponential; m² share for n = 2")
  func separation() throws {
    var rng = SeededGenerator(seed: 2)
    let patterns: Matrix<Double> = rng.signMatrix(rows: 7, columns: 20)
    let states: Matrix<Double> = rng.signMatrix(rows: 3, columns: 20)
    let e = try DenseAssociativeMemory(patterns: patterns, interaction: try Exponential(beta: 0.5))
    let modern = try ModernHopfield(patterns: patterns, beta: 0.5)
    #expect(e.separation(states).maxAbsDifference(modern.separation(states)) < 1e-12)
    let q = try DenseAssociativeMemory(patterns: patterns, interaction: try Polynomial(degree: 2))
    let classical = try ClassicalHopfield(patterns: patterns)
    #expect(q.separation(states).maxAbsDifference(classical.separation(states)) < 1e-12)
    let c = try DenseAssociativeMemory(patterns: patterns, interaction: try Polynomial(degree: 3)).separation(states)
    for r in 0..<3 { #expect(abs((0..<7).reduce(0.0) { $0 + c[r, $1] } - 1) < 1e-12) }
  }

  @Test("gradient of the energy matches central finite differences on real states")
  func gradient() throws {
    var rng = SeededGenerator(seed: 6)
    let patterns: Matrix<Double> = rng.signMatrix(rows: 5, columns: 8)
    let x: Matrix<Double> = rng.gaussianMatrix(rows: 2, columns: 8)
    for f in [try Polynomial(degree: 3) as any InteractionFunction, try Exponential(beta: 0.7)] {
      try checkGradient(f, patterns: patterns, x: x)
    }
  }

  func checkGradient<F: InteractionFunction>(_ f: F, patterns: Matrix<Double>, x: Matrix<Double>) throws {
    let memory = try DenseAssociativeMemory(patterns: patterns, interaction: f)
    let g = memory.gradient(x)
    for r in 0..<x.rows {
      for j in 0..<x.columns {
        var plus = x, minus = x
        plus[r, j] += 1e-5
        minus[r, j] -= 1e-5
        let numeric = (memory.energy(plus)[r] - memory.energy(minus)[r]) / 2e-5
        #expect(abs(numeric - g[r, j]) < 1e-5 * max(1, abs(numeric)), "\(f) row \(r) coordinate \(j)")
      }
    }
  }
}
