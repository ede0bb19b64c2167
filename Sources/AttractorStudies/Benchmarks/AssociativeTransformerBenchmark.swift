import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// One training step of the small Associative Transformer (AiT) and of the plain vision transformer
/// of the same size, Float, on a seeded batch of MNIST-shaped images.
///
/// ```
/// step = forward (training: the AiT's memory takes its EMA step) + backward + AdamW, i.e.
///        VisionTransformer.trainingStep, the step VisionTransformerTrainer takes per minibatch
/// ```
///
/// The models are those of `attractor train ait` with its defaults (28 × 28 images, 4 × 4 patches:
/// 49 tokens of width 64, two pre-LN blocks of 4 heads and a GELU FFN of width 128; the AiT adds the
/// global-workspace layer after block 1: 32 priors of width 32, 4 bottleneck heads, k = 16, β = 1,
/// T = 3, EMA μ = 0.9, c = 0.01). The pixels are uniform on [0, 1) and the labels uniform on 0…9,
/// seeded: no step's cost depends on the values (every product has fixed shapes, the top-k always
/// admits k patches), so MNIST itself is not needed. AdamW at a fixed η = 0.002, λ = 0.05 (the
/// trainer's peak rate and decay). Each variant: one untimed warm-up step, then `repetitions` timed
/// steps (each its own run; the parameters move from step to step as in training); the median is
/// reported, with the medians of the forward pass, the backward pass and the AdamW update timed
/// inside the same steps.
///
/// With `inputsFolder`, before timing, it writes for each variant `<folder>/<variant>/` with the
/// model folder (config.json, weights.safetensors with the memory, CARD.md) and `step.safetensors`
/// (the images, the labels, this step's gradient of every parameter under `gradient.<name>`, the
/// parameters after the AdamW update under `updated.<name>`, the memory after the EMA under
/// `updated.workspace.memory`) and `step.json` (the losses and the AdamW settings), so that
/// `Scripts/bench_ait.py --check` can recompute the same step in NumPy and compare.
public struct AssociativeTransformerBenchmark: Sendable {
  /// Which models to time: `gw` (the AiT) and/or `none` (the plain vision transformer).
  public var workspaces: [String] = ["gw", "none"]
  /// Images per training step.
  public var batchSize = 128
  public var repetitions = 5
  public var seed: UInt64 = 0
  /// AdamW's learning rate and decoupled weight decay.
  public var learningRate = 2e-3
  public var weightDecay = 0.05
  /// Where to write the inputs and Swift's step for the NumPy script (nil: nowhere).
  public var inputsFolder: URL? = nil

  public init() {}

  /// The models' configuration for a workspace name (`gw` or `none`), as `attractor train ait` builds it.
  ///
  /// - Throws: ``/AttractorModels/ModelError`` for another name.
  public static func configuration(workspace: String) throws(ModelError) -> VisionTransformerConfiguration {
    switch workspace {
    case "none": return VisionTransformerConfiguration()
    case "gw": return AssociativeTransformer.configuration(base: VisionTransformerConfiguration())
    default: throw .invalidParameter(name: "workspace", value: workspace, requirement: "gw or none")
    }
  }

  /// One variant's times, seconds.
  public struct Row: Sendable, Codable, Equatable {
    /// `gw` or `none`.
    public var workspace: String
    public var parameterCount: Int
    /// Median of the whole step, and every timed step.
    public var stepSeconds: Double
    public var stepRuns: [Double]
    /// Medians of the parts, timed inside the same steps.
    public var forwardSeconds: Double
    public var backwardSeconds: Double
    public var updateSeconds: Double
    /// batchSize / stepSeconds.
    public var imagesPerSecond: Double
    /// The loss of the warm-up step (cross-entropy + balance loss).
    public var firstLoss: Double
  }

  /// The measurements.
  public struct Report: BenchmarkReport, Equatable {
    public var batchSize: Int
    public var rows: [Row]
    public var repetitions: Int
    public var blasThreads: Int
    public var cores: Int

    public var markdown: String {
      var table = BenchmarkTable(
        header: [
          "model", "parameters", "step (ms)", "forward (ms)", "backward (ms)", "AdamW (ms)", "images/s",
        ], leftColumns: 1)
      for r in rows {
        table.rows.append([
          r.workspace == "gw" ? "AiT (--workspace gw)" : "plain ViT (--workspace none)", "\(r.parameterCount)",
          BenchmarkTable.fixed(r.stepSeconds * 1e3, 2), BenchmarkTable.fixed(r.forwardSeconds * 1e3, 2),
          BenchmarkTable.fixed(r.backwardSeconds * 1e3, 2), BenchmarkTable.fixed(r.updateSeconds * 1e3, 3),
          BenchmarkTable.fixed(r.imagesPerSecond, 0),
        ])
      }
      return text(
        title: "One training step (forward, backward, AdamW) of the small AiT and plain ViT, B = \(batchSize) "
          + "random 28 × 28 images, Float",
        note: "(forward, backward and AdamW: medians of the parts within the same steps)", table: table)
    }
  }

  /// The seeded batch: B × 784 pixels uniform on [0, 1), labels uniform on 0…9.
  public static func batch(size: Int, seed: UInt64) -> (images: Matrix<Float>, labels: [Int]) {
    var rng = SeededGenerator(seed: seed)
    var images = Matrix<Float>(rows: size, columns: 28 * 28)
    images.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Float(rng.nextUniform()) } }
    let labels = (0..<size).map { _ in Int(rng.next() % 10) }
    return (images, labels)
  }

  /// Runs the benchmark (and writes the inputs when asked).
  ///
  /// - Throws: ``/AttractorModels/ModelError`` for invalid settings; a file error when writing the inputs.
  public func run() throws -> Report {
    guard batchSize >= 1 else {
      throw ModelError.invalidParameter(name: "batchSize", value: "\(batchSize)", requirement: "at least 1")
    }
    guard !workspaces.isEmpty else {
      throw ModelError.invalidParameter(name: "workspace", value: "none given", requirement: "gw and/or none")
    }
    guard learningRate.isFinite, learningRate > 0, weightDecay.isFinite, weightDecay >= 0 else {
      throw ModelError.invalidParameter(
        name: "learningRate/weightDecay", value: "\(learningRate)/\(weightDecay)", requirement: "η > 0, λ ≥ 0")
    }
    let (images, labels) = Self.batch(size: batchSize, seed: seed)
    var rows: [Row] = []
    for name in workspaces {
      let configuration = try Self.configuration(workspace: name)
      var model = try VisionTransformer<Float>(configuration: configuration, seed: seed)
      try model.validate(images: images, labels: labels)
      if let folder = inputsFolder {
        try writeInputs(model, images: images, labels: labels, to: folder.appendingPathComponent(name))
      }
      var optimizer = AdamW<Float>(learningRate: learningRate, weightDecay: weightDecay)
      var workspace = model.makeWorkspace(batchSize: batchSize)
      var gradient = model.zeroGradient()
      var all = model.parameters
      let clock = ContinuousClock()
      // The step of VisionTransformer.trainingStep, its three parts timed.
      func step() throws(ModelError) -> (loss: Double, parts: [Double]) {
        let t0 = clock.now
        let loss = try model.forward(images: images, labels: labels, training: true, workspace: &workspace)
        let t1 = clock.now
        gradient = model.zeroGradientReusing(gradient)
        model.backward(workspace: &workspace, gradient: &gradient)
        let t2 = clock.now
        all = model.parameters
        optimizer.update(&all, gradients: gradient.parameters)
        model.parameters = all
        let t3 = clock.now
        return (loss.loss, [(t1 - t0).seconds, (t2 - t1).seconds, (t3 - t2).seconds])
      }
      let firstLoss = try step().loss
      var forward: [Double] = [], backward: [Double] = [], update: [Double] = [], whole: [Double] = []
      for _ in 0..<max(1, repetitions) {
        let start = clock.now
        let parts = try step().parts
        whole.append((clock.now - start).seconds)
        forward.append(parts[0])
        backward.append(parts[1])
        update.append(parts[2])
      }
      let median = BenchmarkTimes.median(whole)
      rows.append(
        Row(
          workspace: name, parameterCount: model.parameterCount, stepSeconds: median, stepRuns: whole,
          forwardSeconds: BenchmarkTimes.median(forward), backwardSeconds: BenchmarkTimes.median(backward),
          updateSeconds: BenchmarkTimes.median(update), imagesPerSecond: Double(batchSize) / median,
          firstLoss: firstLoss))
    }
    let machine = BenchmarkMachine.current
    return Report(
      batchSize: batchSize, rows: rows, repetitions: repetitions, blasThreads: machine.blasThreads,
      cores: machine.cores)
  }

  /// What `step.json` holds.
  struct StepRecord: Codable {
    var workspace: String
    var batchSize: Int
    var seed: UInt64
    var loss: Double
    var crossEntropy: Double
    var balance: Double
    var learningRate: Double
    var weightDecay: Double
    var beta1: Double
    var beta2: Double
    var epsilon: Double
  }

  /// Writes the model before the step, the batch, and one training step's gradient, updated
  /// parameters and memory (a copy of the model takes the step; the timed model is untouched).
  func writeInputs(_ model: VisionTransformer<Float>, images: Matrix<Float>, labels: [Int], to folder: URL) throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let record = VisionTransformerModelFolder(
      configuration: model.configuration,
      trainer: VisionTransformerTrainer(
        epochs: 1, batchSize: batchSize, learningRate: learningRate, weightDecay: weightDecay, seed: seed),
      history: .init(), modelSeed: seed, optimizerStep: 0,
      data: "seeded uniform random pixels (attractor bench ait --save-inputs)",
      command: "attractor bench ait --save-inputs (seed \(seed))")
    try VisionTransformerModelFolder.save(
      model, record: record, optimizer: nil,
      card:
        "# Benchmark inputs\n\nThe untrained model of `attractor bench ait` (seed \(seed)) before one training step.\n",
      to: folder.appendingPathComponent("model"))
    var stepped = model
    var optimizer = AdamW<Float>(learningRate: learningRate, weightDecay: weightDecay)
    var workspace = stepped.makeWorkspace(batchSize: images.rows)
    var gradient = stepped.zeroGradient()
    let loss = try stepped.trainingStep(
      images: images, labels: labels, optimizer: &optimizer, workspace: &workspace, gradient: &gradient)
    var tensors: [String: Tensor] = ["images": Tensor(images)]
    tensors["labels"] = try Tensor(shape: [labels.count], storage: .int64(labels.map { Int64($0) }))
    for (name, (g, p)) in zip(model.parameterNames, zip(gradient.parameters, stepped.parameters)) {
      tensors["gradient.\(name)"] = Tensor(g)
      tensors["updated.\(name)"] = Tensor(p)
    }
    if let layer = stepped.workspace { tensors["updated.workspace.memory"] = Tensor(layer.memory) }
    try SafeTensorsFile.write(tensors, to: folder.appendingPathComponent("step.safetensors"))
    let step = StepRecord(
      workspace: model.workspace == nil ? "none" : "gw", batchSize: images.rows, seed: seed, loss: loss.loss,
      crossEntropy: loss.crossEntropy, balance: loss.balance, learningRate: optimizer.learningRate,
      weightDecay: optimizer.weightDecay, beta1: optimizer.beta1, beta2: optimizer.beta2, epsilon: optimizer.epsilon)
    try AtomicFile.write(JSONCoding.encode(step), to: folder.appendingPathComponent("step.json"))
  }
}
