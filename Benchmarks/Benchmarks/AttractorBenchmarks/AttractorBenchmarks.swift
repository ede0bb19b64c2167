// The hot paths of Attractors under ordo-one/benchmark: wall-clock time, instructions where the
// machine's perf counters allow, and malloc counts (the MallocInterposer trait counts every
// allocation of the process, all threads).
//
// Each benchmark builds its model and workspace before `startMeasurement()`, so the malloc counts
// of the dynamics steps are those of steps run after the workspace exists: 0 is the promise of
// `UpdateRule.update(_:into:workspace:)`. The check that fails when a step allocates is the test
// suite "Dynamics steps do not allocate after their workspace exists" (run by `swift test` and so
// by CI); this suite reports the counts of the whole process, worker threads included. Classification, the encoder and the pseudo-likelihood
// learning direction return new arrays and allocate by design; their counts are reported, not
// bounded.
//
// Run from Benchmarks/:  swift package benchmark        (Docs/Benchmarks.md, "Benchmark suite")

import Attractors
import Benchmark

/// Dynamics steps: time and malloc counts (0 expected with one BLAS thread; OpenBLAS's threaded
/// level-3 driver mallocs its job array on each multithreaded GEMM call, so a step with two large
/// GEMMs counts 2 per iteration at 2 BLAS threads).
var steps: Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.wallClock, .cpuTotal, .instructions, .mallocCountTotal, .throughput],
    warmupIterations: 2,
    scalingFactor: .one,
    maxDuration: .seconds(2),
    maxIterations: 50
  )
}

/// Paths that allocate their results: time and malloc counts reported.
var reported: Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.wallClock, .cpuTotal, .instructions, .mallocCountTotal, .peakMemoryResident],
    warmupIterations: 1,
    scalingFactor: .one,
    maxDuration: .seconds(3),
    maxIterations: 20
  )
}

/// Times `iterations` synchronous updates of `rule` on `states` with a workspace made before the
/// measurement.
func stepBenchmark<Rule: UpdateRule>(_ name: String, _ rule: Rule, _ states: Matrix<Rule.Scalar>) {
  Benchmark(name, configuration: steps) { benchmark in
    var workspace = rule.makeWorkspace(batchSize: states.rows)
    var next = Matrix<Rule.Scalar>(rows: states.rows, columns: states.columns)
    rule.update(states, into: &next, workspace: &workspace)
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations { rule.update(states, into: &next, workspace: &workspace) }
    benchmark.stopMeasurement()
    blackHole(next)
  }
}

/// One full asynchronous pass (every coordinate once) of a coordinate-updatable rule.
func coordinateBenchmark<Rule: CoordinateUpdatable>(_ name: String, _ rule: Rule, _ states: Matrix<Rule.Scalar>) {
  Benchmark(name, configuration: steps) { benchmark in
    var workspace = rule.makeWorkspace(batchSize: states.rows)
    var state = states
    rule.prepareCoordinateUpdates(of: state, workspace: &workspace)
    for i in 0..<rule.dimension { rule.updateCoordinate(i, of: &state, workspace: &workspace) }
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      rule.prepareCoordinateUpdates(of: state, workspace: &workspace)
      for i in 0..<rule.dimension { rule.updateCoordinate(i, of: &state, workspace: &workspace) }
    }
    benchmark.stopMeasurement()
    blackHole(state)
  }
}

func gaussian<S: LinearAlgebraScalar>(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix<S> {
  var rng = SeededGenerator(seed: seed)
  return rng.gaussianMatrix(rows: rows, columns: columns, standardDeviation: 1 / Double(columns).squareRoot())
}

let benchmarks: @Sendable () -> Void = {
  // The modern Hopfield update of `attractor bench update` (B = 1,024, N = 8,192, d = 64, Float).
  do {
    let model = try ModernHopfield(patterns: gaussian(8192, 64, seed: 1) as Matrix<Float>, beta: 8)
    stepBenchmark("ModernHopfield<Float>.update B=1024 N=8192 d=64", model, gaussian(1024, 64, seed: 2))
    let small = try ModernHopfield(patterns: gaussian(512, 32, seed: 3) as Matrix<Double>, beta: 4)
    stepBenchmark("ModernHopfield<Double>.update B=64 N=512 d=32", small, gaussian(64, 32, seed: 4))
    coordinateBenchmark(
      "ModernHopfield<Double>.updateCoordinate pass B=64 N=512 d=32", small, gaussian(64, 32, seed: 4))

    var rng = SeededGenerator(seed: 5)
    let signs = rng.signMatrix(rows: 50, columns: 400, as: Float.self)
    let starts = rng.signMatrix(rows: 64, columns: 400, as: Float.self)
    let classical = try ClassicalHopfield(patterns: signs)
    stepBenchmark("ClassicalHopfield<Float>.update B=64 N=50 d=400", classical, starts)
    coordinateBenchmark("ClassicalHopfield<Float>.updateCoordinate pass B=64 N=50 d=400", classical, starts)
    let dense = try DenseAssociativeMemory(patterns: signs, interaction: try Polynomial(degree: 3))
    stepBenchmark("DenseAssociativeMemory<Float>.update n=3 B=64 K=50 N=400", dense, starts)
    coordinateBenchmark("DenseAssociativeMemory<Float>.updateCoordinate pass n=3 B=64 K=50 N=400", dense, starts)

    // One iteration of the iterative-attention stack of `attractor bench iterative-attention`
    // (Medium: L = 4, H = 8, d = 256; M = 10,000 memories; B = 1,024).
    let config = IterativeAttentionConfiguration(layers: 4, heads: 8, width: 256, temperature: 1)
    let attention = try IterativeAttention.random(
      configuration: config, keys: gaussian(10_000, 256, seed: 6) as Matrix<Float>,
      values: gaussian(10_000, 256, seed: 7) as Matrix<Float>,
      generator: &rng)
    stepBenchmark(
      "IterativeAttention<Float>.update L=4 H=8 d=256 M=10000 B=1024", attention, gaussian(1024, 256, seed: 8))

    // The pseudo-likelihood attractor of Docs/PseudoLikelihood.md (N = 25 tokens of d = 32).
    let plConfig = PseudoLikelihoodConfiguration(tokens: 25, tokenWidth: 32, inverseTemperature: 4)
    let pl = try PseudoLikelihoodAttractor<Float>.random(configuration: plConfig, generator: &rng)
    let plStates: Matrix<Float> = gaussian(100, 25 * 32, seed: 9)
    stepBenchmark("PseudoLikelihoodAttractor<Float>.update N=25 d=32 B=100", pl, plStates)
    Benchmark("PseudoLikelihoodAttractor<Float>.learningDirection local, minibatch 100", configuration: reported) {
      benchmark in
      for _ in benchmark.scaledIterations { blackHole(pl.learningDirection(plStates, rule: .local)) }
    }

    let energy = try ContextEnergy(context: gaussian(64, 32, seed: 10) as Matrix<Float>, alpha: 1.5, beta: 2)
    stepBenchmark("ContextEnergy<Float>.update L=64 d=32 B=256", energy, gaussian(256, 32, seed: 11))

    // Classification of 200 fixed points (N = 1,000, d = 64, β = 8; `attractor bench classify`
    // uses 1,000).
    let patterns: Matrix<Double> = ClassificationBenchmark.randomPatterns(count: 1000, dimension: 64, seed: 0)
    let network = try ModernHopfield(patterns: patterns, beta: 8)
    let points = try SynchronousDynamics(maxSteps: 200, tolerance: 1e-10, recordEnergies: false)
      .run(network, from: patterns.rows(at: 0..<200)).finalStates
    Benchmark("Classifier.classify 200 points N=1000 d=64", configuration: reported) { benchmark in
      for _ in benchmark.scaledIterations { blackHole(try Classifier().classify(network, at: points)) }
    }

    // A BERT encoder forward pass (random weights of MiniLM's shape: 6 layers, d = 384, 12 heads),
    // batch 8 × 64 tokens.
    let bert = BERTConfiguration(
      hiddenSize: 384, layerCount: 6, headCount: 12, intermediateSize: 1536, vocabularySize: 2000, maxPositions: 128)
    var tensors: [String: Tensor] = [:]
    for (i, e) in BERTEncoder.expectedTensors(bert, prefix: "").enumerated() {
      let shape = e.shape.map { $0 ?? 1 }
      let m: Matrix<Float> = gaussian(shape.first ?? 1, shape.dropFirst().reduce(1, *), seed: 100 + UInt64(i))
      tensors[e.name] = try Tensor(shape: shape, storage: .float32(m.elements))
    }
    let encoder = try BERTEncoder(configuration: bert, tensors: tensors, prefix: "")
    let batch = (0..<8).map { s in [101] + (0..<62).map { 1000 + (s * 31 + $0 * 7) % 999 } + [102] }
    Benchmark("BERTEncoder.encode 6x384 batch 8x64", configuration: reported) { benchmark in
      for _ in benchmark.scaledIterations { blackHole(try encoder.encode(batch)) }
    }
  } catch {
    fatalError("setting up the benchmarks failed: \(error)")
  }
}
