import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// Forward time of a BERT encoder (`attractor bench encoder`): a batch of B sentences of T tokens
/// each (`[CLS]`, T − 2 seeded random word-piece ids, `[SEP]`), last hidden states and sentence
/// embeddings, no attention kept. `Scripts/bert_reference.py bench` runs it beside the NumPy forward
/// pass of the same model in the same script, alternating.
///
/// ```
/// FLOPs ≈ 2·B·T·L·(4d² + 2·d·d_ff) + 4·B·L·T²·d     (projections and FFN, then attention)
/// ```
public struct EncoderBenchmark: Sendable {
  public var batchSize = 32
  public var tokens = 128
  public var repetitions = 5
  public var seed: UInt64 = 0

  public init() {}

  /// The measurement.
  public struct Report: BenchmarkReport, Equatable {
    public var model: String
    public var batchSize: Int
    public var tokens: Int
    public var gigaflops: Double
    public var times: BenchmarkTimes
    /// Median seconds per forward pass.
    public var secondsPerForward: Double
    public var repetitions: Int
    public var blasThreads: Int
    public var cores: Int

    public var markdown: String {
      var t = BenchmarkTable(header: ["model", "batch", "tokens", "median s", "min s", "GFLOP/s"], leftColumns: 1)
      t.rows.append([
        model, "\(batchSize)", "\(tokens)", BenchmarkTable.fixed(times.median, 4),
        BenchmarkTable.fixed(times.minimum, 4),
        BenchmarkTable.fixed(gigaflops / times.median, 1),
      ])
      return text(title: "BERT encoder forward pass (Float)", note: "", table: t)
    }
  }

  /// Times `encoder` on the seeded batch.
  ///
  /// - Throws: ``/AttractorModels/TransformerEncoderError`` when the shape does not fit the model.
  public func run(_ encoder: BERTEncoder, model: String) throws(TransformerEncoderError) -> Report {
    let c = encoder.configuration
    guard tokens >= 2, tokens <= c.maxPositions, batchSize >= 1 else {
      throw .invalidInput("batch \(batchSize) × \(tokens) tokens does not fit the model (2…\(c.maxPositions) tokens)")
    }
    var rng = SeededGenerator(seed: seed)
    let low = min(1000, c.vocabularySize - 1)
    let batch = (0..<batchSize).map { _ in
      [min(101, c.vocabularySize - 1)]
        + (0..<(tokens - 2)).map { _ in Int.random(in: low..<c.vocabularySize, using: &rng) }
        + [min(102, c.vocabularySize - 1)]
    }
    let times = try BenchmarkTimes.measure(repetitions: repetitions) { () throws(TransformerEncoderError) in
      _ = try encoder.encode(batch).sentenceEmbeddings()
    }
    let (b, t, l, d, f) = (
      Double(batchSize), Double(tokens), Double(c.layerCount), Double(c.hiddenSize),
      Double(c.intermediateSize)
    )
    let flops = 2 * b * t * l * (4 * d * d + 2 * d * f) + 4 * b * l * t * t * d
    let machine = BenchmarkMachine.current
    return Report(
      model: model, batchSize: batchSize, tokens: tokens, gigaflops: flops / 1e9, times: times,
      secondsPerForward: times.median, repetitions: repetitions, blasThreads: machine.blasThreads, cores: machine.cores)
  }
}
