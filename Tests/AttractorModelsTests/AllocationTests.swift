import AttractorCore
import AttractorLinearAlgebra
import CAllocationCounter
import Testing

@testable import AttractorModels

/// The allocation check of issue 15: once a model's workspace exists, a dynamics step allocates
/// nothing (`UpdateRule.update(_:into:workspace:)` promises it, and so does the coordinate form of
/// `CoordinateUpdatable`).
///
/// Counted by the test-only `CAllocationCounter` target: it replaces malloc, calloc, realloc and the
/// aligned allocators of this test process with forwarding versions that count the calls of the
/// thread that asked (see its header). Each check runs one step first (so that lazily built state
/// exists, as in a real run after its first step) and then counts three more. Work that a step hands
/// to other threads (the row softmax splits large batches over the cores) is not counted; the
/// benchmark suite in Benchmarks/ counts the whole process. Before the row softmax moved from
/// libdispatch's `concurrentPerform` to the C thread pool, this check counted 2–4 allocations per
/// modern-Hopfield step on the calling thread.
///
/// Allocations made by OpenBLAS itself are counted apart (`attractor_allocations_blas`) and not
/// asserted: whether OpenBLAS allocates depends on the kernels it picks for the CPU. Debian's 0.3.21
/// on an AVX-512 CPU it recognises (an AMD EPYC Zen 4 here selects its Cooper Lake kernels) routes
/// small GEMMs to `?gemm_small_kernel_b0_nn_COOPERLAKE`, which calls malloc on every call (one per
/// modern-Hopfield step at B = 128, N = 512, d = 2); on a CPU it does not recognise it falls back to
/// the SSE3 Prescott kernels, which do not. What is asserted is that our code allocates nothing.
@Suite("Dynamics steps do not allocate after their workspace exists")
struct AllocationTests {
  /// Allocations of the calling thread during `steps` synchronous updates after one warm-up step.
  static func stepAllocations<Rule: UpdateRule>(_ rule: Rule, _ states: Matrix<Rule.Scalar>, steps: Int = 3) -> Int {
    var workspace = rule.makeWorkspace(batchSize: states.rows)
    var next = Matrix<Rule.Scalar>(rows: states.rows, columns: states.columns)
    rule.update(states, into: &next, workspace: &workspace)
    attractor_allocations_begin()
    for _ in 0..<steps { rule.update(states, into: &next, workspace: &workspace) }
    return attractor_allocations_end()
  }

  /// Allocations of the calling thread during coordinate updates of every coordinate, after one
  /// warm-up pass (``CoordinateUpdatable``, the step of asynchronous dynamics).
  static func coordinateAllocations<Rule: CoordinateUpdatable>(_ rule: Rule, _ states: Matrix<Rule.Scalar>) -> Int {
    var workspace = rule.makeWorkspace(batchSize: states.rows)
    var state = states
    rule.prepareCoordinateUpdates(of: state, workspace: &workspace)
    for i in 0..<rule.dimension { rule.updateCoordinate(i, of: &state, workspace: &workspace) }
    attractor_allocations_begin()
    rule.prepareCoordinateUpdates(of: state, workspace: &workspace)
    for i in 0..<rule.dimension { rule.updateCoordinate(i, of: &state, workspace: &workspace) }
    return attractor_allocations_end()
  }

  @Test("The counter counts: an array allocation on this thread is seen")
  func counterWorks() {
    attractor_allocations_begin()
    let a = [Double](repeating: 1, count: 1000 + Int.random(in: 0..<2))
    let counted = attractor_allocations_end()
    #expect(a.count >= 1000)
    #expect(counted >= 1, "the counting malloc is not in use, so the checks below would prove nothing")
    #expect(attractor_allocations_blas() == 0, "an allocation of the Swift runtime was attributed to OpenBLAS")
    attractor_allocations_begin()
    let none = attractor_allocations_end()
    #expect(none == 0)
  }

  @Test("Classical and modern Hopfield, dense memory: synchronous and coordinate steps, Float and Double")
  func hopfieldModels() throws {
    var rng = SeededGenerator(seed: 1)
    let signs = rng.signMatrix(rows: 8, columns: 40, as: Double.self)
    let classical = try ClassicalHopfield(patterns: signs)
    let start = rng.signMatrix(rows: 16, columns: 40, as: Double.self)
    #expect(Self.stepAllocations(classical, start) == 0, "ClassicalHopfield.update")
    #expect(Self.coordinateAllocations(classical, start) == 0, "ClassicalHopfield.updateCoordinate")

    let dense = try DenseAssociativeMemory(patterns: signs, interaction: try Polynomial(degree: 3))
    #expect(Self.stepAllocations(dense, start) == 0, "DenseAssociativeMemory.update")
    #expect(Self.coordinateAllocations(dense, start) == 0, "DenseAssociativeMemory.updateCoordinate")

    // The second shape splits the row softmax over the cores (B·N = 65,536 logits) while its two
    // GEMMs stay below OpenBLAS's threading threshold (m·n·k ≤ 4 · 65,536): OpenBLAS's threaded
    // level-3 driver mallocs its job array on every call (with 2 BLAS threads this step then
    // makes 2 allocations per step, both inside OpenBLAS and so counted apart; with 1 thread none).
    for (b, n, d) in [(16, 64, 32), (128, 512, 2)] {
      let patterns: Matrix<Double> = gaussianPatterns(n, d, seed: 2)
      let queries: Matrix<Double> = gaussianPatterns(b, d, seed: 3)
      let modern = try ModernHopfield(patterns: patterns, beta: 4)
      #expect(Self.stepAllocations(modern, queries) == 0, "ModernHopfield<Double>.update, B = \(b), N = \(n)")
      #expect(Self.coordinateAllocations(modern, queries) == 0, "ModernHopfield<Double>.updateCoordinate")
      let modernF = try ModernHopfield(patterns: gaussianPatterns(n, d, seed: 2) as Matrix<Float>, beta: 4)
      let queriesF: Matrix<Float> = gaussianPatterns(b, d, seed: 3)
      #expect(Self.stepAllocations(modernF, queriesF) == 0, "ModernHopfield<Float>.update, B = \(b), N = \(n)")
    }
  }

  @Test("Iterative attention, pseudo-likelihood attractor, attention head, in-context energy: synchronous steps")
  func attentionModels() throws {
    var rng = SeededGenerator(seed: 4)
    let d = 16
    let keys: Matrix<Float> = gaussianPatterns(24, d, seed: 5)
    let values: Matrix<Float> = gaussianPatterns(24, d, seed: 6)
    let config = IterativeAttentionConfiguration(layers: 2, heads: 2, width: d, temperature: 0.7)
    let attention = try IterativeAttention.random(configuration: config, keys: keys, values: values, generator: &rng)
    let states: Matrix<Float> = gaussianPatterns(32, d, seed: 7)
    #expect(Self.stepAllocations(attention, states) == 0, "IterativeAttention.update")

    let plConfig = PseudoLikelihoodConfiguration(tokens: 6, tokenWidth: 4, inverseTemperature: 2)
    let pl = try PseudoLikelihoodAttractor<Float>.random(configuration: plConfig, generator: &rng)
    let plStates: Matrix<Float> = gaussianPatterns(8, pl.dimension, seed: 8)
    #expect(Self.stepAllocations(pl, plStates) == 0, "PseudoLikelihoodAttractor.update")

    let head = try AttentionHeadMemory(
      queries: gaussianPatterns(20, d, seed: 9), keys: gaussianPatterns(20, d, seed: 10), beta: 2)
    #expect(Self.stepAllocations(head, gaussianPatterns(12, d, seed: 11) as Matrix<Double>) == 0, "AttentionHeadMemory")

    let energy = try ContextEnergy(context: gaussianPatterns(10, d, seed: 12) as Matrix<Double>, alpha: 1.5, beta: 2)
    #expect(Self.stepAllocations(energy, gaussianPatterns(12, d, seed: 13) as Matrix<Double>) == 0, "ContextEnergy")
  }
}
