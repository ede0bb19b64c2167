import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// Training throughput of one-layer attention on in-context denoising (prompts per second), for the
/// linear and the softmax variant, Float.
///
/// ```
/// full step:      draw B fresh prompts (task, L context tokens, query)  +  forward/backward  +  Adam
/// gradient step:  forward/backward + Adam on an already drawn batch
/// ```
///
/// Each repetition times `steps` consecutive steps; the median over repetitions (after one warm-up
/// repetition) is reported as prompts/s = B·steps / time. `Scripts/bench_in_context.py` runs the same
/// steps in NumPy beside this command, alternating, and reports the ratio.
public struct InContextTrainingBenchmark: Sendable {
  /// Ambient dimension n.
  public var dimension = 16
  /// Subspace dimension d.
  public var subspaceDimension = 8
  /// Context length L.
  public var contextLength = 500
  /// Prompts per step B.
  public var batchSize = 64
  /// Steps per timed repetition.
  public var steps = 20
  /// Timed repetitions.
  public var repetitions = 5
  /// Seed of the prompts and weights.
  public var seed: UInt64 = 0

  public init() {}

  /// One variant's throughput.
  public struct Row: Sendable, Codable, Equatable {
    /// linear or softmax.
    public var variant: String
    /// Median seconds per full step (drawing prompts included).
    public var fullStepSeconds: Double
    /// Median seconds per gradient step (prompts already drawn).
    public var gradientStepSeconds: Double
    /// B / fullStepSeconds.
    public var promptsPerSecond: Double
    /// B / gradientStepSeconds.
    public var gradientPromptsPerSecond: Double
  }

  /// The measurements.
  public struct Report: BenchmarkReport, Equatable {
    public var dimension, subspaceDimension, contextLength, batchSize, steps: Int
    public var rows: [Row]
    public var repetitions: Int
    public var blasThreads: Int
    public var cores: Int

    public var markdown: String {
      var table = BenchmarkTable(
        header: ["variant", "full step (ms)", "prompts/s", "gradient step (ms)", "prompts/s (gradient only)"],
        leftColumns: 1)
      for r in rows {
        table.rows.append([
          r.variant, BenchmarkTable.fixed(r.fullStepSeconds * 1e3, 3), BenchmarkTable.general(r.promptsPerSecond),
          BenchmarkTable.fixed(r.gradientStepSeconds * 1e3, 3), BenchmarkTable.general(r.gradientPromptsPerSecond),
        ])
      }
      return text(
        title: "In-context denoising training, subspace task n = \(dimension), d = \(subspaceDimension), "
          + "L = \(contextLength), B = \(batchSize), Float",
        note: "(\(steps) steps per run)", table: table)
    }
  }

  /// Runs the benchmark.
  public func run() throws -> Report {
    let task = try DenoisingTask.subspace(
      dimension: dimension, subspaceDimension: subspaceDimension, contextLength: contextLength, signalVariance: 2,
      noiseVariance: 1)
    try InContextDenoisingError.check(batchSize >= 1, "batch size", batchSize, "at least 1")
    try InContextDenoisingError.check(steps >= 1, "steps", steps, "at least 1")
    let sampler = DenoisingTaskSampler(task: task, seed: seed)
    var rows: [Row] = []
    for variant in OneLayerAttention<Float>.Variant.allCases {
      var model = try OneLayerAttention<Float>.random(variant: variant, dimension: dimension, scale: 0.1, seed: seed)
      var batch = PromptBatch<Float>(task: task, size: batchSize)
      var workspace = model.makeWorkspace(batchSize: batchSize, contextLength: contextLength)
      var optimizer = AdamW<Float>(learningRate: 1e-3, weightDecay: 0)
      var parameters = [model.keyQuery, model.projectionValue]
      var index = 0
      func step(draw: Bool) throws(ModelError) {
        if draw {
          index += 1
          sampler.fill(&batch, index: index)
        }
        model.lossAndGradients(batch, workspace: &workspace)
        optimizer.update(&parameters, gradients: [workspace.keyQueryGradient, workspace.projectionValueGradient])
        model = try OneLayerAttention(variant: variant, keyQuery: parameters[0], projectionValue: parameters[1])
      }
      sampler.fill(&batch, index: 0)
      let full = try BenchmarkTimes.measure(repetitions: repetitions) { () throws(ModelError) in
        for _ in 0..<steps { try step(draw: true) }
      }
      let gradient = try BenchmarkTimes.measure(repetitions: repetitions) { () throws(ModelError) in
        for _ in 0..<steps { try step(draw: false) }
      }
      let fs = full.median / Double(steps), gs = gradient.median / Double(steps)
      rows.append(
        Row(
          variant: variant.rawValue, fullStepSeconds: fs, gradientStepSeconds: gs,
          promptsPerSecond: Double(batchSize) / fs, gradientPromptsPerSecond: Double(batchSize) / gs))
    }
    let machine = BenchmarkMachine.current
    return Report(
      dimension: dimension, subspaceDimension: subspaceDimension, contextLength: contextLength, batchSize: batchSize,
      steps: steps, rows: rows, repetitions: repetitions, blasThreads: machine.blasThreads, cores: machine.cores)
  }
}
