import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// The pseudo-likelihood attractor's two hot paths on MNIST, Float: one local-rule training epoch on
/// `count` images (minibatch 100) and one synchronous dynamics step on a batch of `stepBatch` states.
///
/// ```
/// epoch: per minibatch of B: one forward pass (N GEMMs B × d by d × N·d, a softmax over sources),
///        N GEMMs N·d × B by B × d for the Hebbian term ⟨α_{i←j} x_i x_jᵀ⟩, J ← (1 − ηκ)J + ηD,
///        the projection onto Σ_j ‖J_ij‖_F ≤ 1/κ;            about 4·B·N²·d² flops per minibatch
/// step:  the forward pass on the batch, then x_i ← normalise((1−γ)h_i + γx_i);  about 2·B·N²·d² flops
/// ```
///
/// The data are the reproduction's (``PixelTokenEmbedding``: central 20 × 20 crop, 4 × 4 patches, N =
/// 25 tokens of d = 32, seed 0) with its settings (λ = 4, γ = 0.5, η = 0.5, κ = 1). Every timed epoch
/// starts from zero couplings (the same work each time) and is the training loop alone (the data's
/// validation included, the cost of the untrained model over all the data not); a Float epoch runs
/// the fused pair kernels on a CPU with AVX-512 (``PairAttentionKernels``), GEMMs otherwise. The step uses the couplings after one epoch
/// and the first `stepBatch` images. One untimed warm-up, then `repetitions` timed runs; the median is
/// reported. With `inputsFolder` it writes data.npy, couplings.npy (natural (i, j) layout, N·N·d × d),
/// states.npy, next.npy (the step's output) and swift_results.json for `Scripts/bench_pseudo_likelihood.py`,
/// which runs the same epoch and step in NumPy beside it and checks the step's output.
public struct PseudoLikelihoodBenchmark: Sendable {
  public var dataDirectory: URL
  public var dataset: ImageDataset = .mnist
  /// Training images in the epoch.
  public var count = 10_000
  /// Minibatch of the epoch.
  public var batchSize = 100
  /// States in the dynamics step.
  public var stepBatch = 1_024
  public var repetitions = 5
  public var seed: UInt64 = 0
  /// Where to write the inputs and outputs for the NumPy script (nil: nowhere).
  public var inputsFolder: URL? = nil

  public init(dataDirectory: URL) { self.dataDirectory = dataDirectory }

  /// The measurements.
  public struct Report: BenchmarkReport, Equatable {
    public var count, batchSize, stepBatch, tokens, tokenWidth: Int
    /// Median seconds of one epoch, and every timed run.
    public var epochSeconds: Double
    public var epochRuns: [Double]
    /// Median seconds of one step on `stepBatch` states, and every timed run.
    public var stepSeconds: Double
    public var stepRuns: [Double]
    /// 4·count·N²·d² and 2·stepBatch·N²·d² (the GEMM flops).
    public var epochGigaflops: Double
    public var stepGigaflops: Double
    public var repetitions: Int
    public var blasThreads: Int
    public var cores: Int

    public var markdown: String {
      var table = BenchmarkTable(header: ["work", "median (ms)", "GEMM GFLOP/s"], leftColumns: 1)
      table.rows.append([
        "one local-rule epoch, \(count) images, minibatch \(batchSize)", BenchmarkTable.fixed(epochSeconds * 1e3, 1),
        BenchmarkTable.fixed(epochGigaflops / epochSeconds, 1),
      ])
      table.rows.append([
        "one synchronous step, batch \(stepBatch)", BenchmarkTable.fixed(stepSeconds * 1e3, 2),
        BenchmarkTable.fixed(stepGigaflops / stepSeconds, 1),
      ])
      return text(
        title: "Pseudo-likelihood attractor, N = \(tokens) tokens of d = \(tokenWidth), Float", note: "", table: table)
    }
  }

  /// Reads the images, runs the benchmark, writes the inputs when asked.
  public func run() throws -> Report {
    try DatasetError.check((1...60_000).contains(count), "count", count, "in 1…60,000")
    try DatasetError.check((1...10_000).contains(batchSize), "batchSize", batchSize, "in 1…10,000")
    try DatasetError.check((1...60_000).contains(stepBatch), "stepBatch", stepBatch, "in 1…60,000")
    try dataset.checkFiles(in: dataDirectory)
    let images = try dataset.images(.training, in: dataDirectory)
    guard count <= images.rows, stepBatch <= images.rows else {
      throw PixelTokenEmbedding.InvalidParameter("the data set has \(images.rows) training images")
    }
    let embedding = try PixelTokenEmbedding(patchSide: 4, seed: seed)
    let data: Matrix<Float> = embedding.embed(PixelTokenEmbedding.crop(images.rows(at: 0..<max(count, stepBatch))))
    let training = data.rows(at: 0..<count)
    let configuration = PseudoLikelihoodConfiguration(
      tokens: embedding.tokens, tokenWidth: embedding.tokenWidth, inverseTemperature: 4, selfCoupling: 0.5)
    let trainer = PseudoLikelihoodTrainer(
      rule: .local, epochs: 1, batchSize: batchSize, learningRate: 0.5, weightDecay: 1, seed: seed)
    let zero = try PseudoLikelihoodAttractor<Float>.zero(configuration: configuration)
    var trained = zero
    // One epoch and nothing else: a history with the initial cost already filled in (not a number,
    // unused) skips the cost of the untrained model over all the data, a forward pass that is not
    // part of an epoch (and that the NumPy side does not run either).
    let start = PseudoLikelihoodTrainer.History(initialCost: .nan)
    let epoch = try BenchmarkTimes.measure(repetitions: repetitions) { () throws(ModelError) in
      trained = try trainer.train(zero, data: training, resumingFrom: start).model
    }
    let states = data.rows(at: 0..<stepBatch)
    var next = states
    var workspace = trained.makeWorkspace(batchSize: stepBatch)
    let step = BenchmarkTimes.measure(repetitions: repetitions) {
      trained.update(states, into: &next, workspace: &workspace)
    }
    let n = Double(configuration.tokens), d = Double(configuration.tokenWidth)
    let machine = BenchmarkMachine.current
    let report = Report(
      count: count, batchSize: batchSize, stepBatch: stepBatch, tokens: configuration.tokens,
      tokenWidth: configuration.tokenWidth, epochSeconds: epoch.median, epochRuns: epoch.seconds,
      stepSeconds: step.median, stepRuns: step.seconds, epochGigaflops: 4 * Double(count) * n * n * d * d / 1e9,
      stepGigaflops: 2 * Double(stepBatch) * n * n * d * d / 1e9, repetitions: repetitions,
      blasThreads: machine.blasThreads, cores: machine.cores)
    if let folder = inputsFolder {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try NumPyFile.write(Tensor(training), to: folder.appendingPathComponent("data.npy"))
      try NumPyFile.write(Tensor(trained.couplings), to: folder.appendingPathComponent("couplings.npy"))
      try NumPyFile.write(Tensor(states), to: folder.appendingPathComponent("states.npy"))
      try NumPyFile.write(Tensor(next), to: folder.appendingPathComponent("next.npy"))
      try AtomicFile.write(JSONCoding.encode(report), to: folder.appendingPathComponent("swift_results.json"))
    }
    return report
  }
}
