import ArgumentParser
import Attractors
import Foundation

/// `attractor bench encoder`: `EncoderBenchmark`.
public struct BenchEncoder: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "encoder",
    abstract: "Forward time of a BERT model folder on a batch of equal-length random sentences.",
    discussion: """
      A batch of --batch-size sentences of --tokens word pieces each ([CLS], seeded random ids, \
      [SEP]) through the encoder of --model-folder, with mean pooling; no attention kept. \
      `python3 Scripts/bert_reference.py bench` runs it beside the NumPy forward pass, alternating.
      """)

  @Option(help: ArgumentHelp("The Hugging Face BERT model folder.", valueName: "dir"))
  var modelFolder: String

  @Option(parsing: .unconditional, help: ArgumentHelp("Sentences per batch.", valueName: "B"))
  var batchSize = 32

  @Option(parsing: .unconditional, help: ArgumentHelp("Tokens per sentence (with [CLS] and [SEP]).", valueName: "T"))
  var tokens = 128

  @OptionGroup var bench: BenchmarkRunOptions

  public init() {}

  public func validate() throws {
    try BenchLimits.check("--batch-size", batchSize, 1...4096)
    try BenchLimits.check("--tokens", tokens, 2...4096)
  }

  public func run() throws {
    printOutput(
      try bench.printed {
        let url = URL(fileURLWithPath: modelFolder)
        let checkpoint = try BERTCheckpoint(opening: url)
        var b = EncoderBenchmark()
        b.batchSize = batchSize
        b.tokens = tokens
        b = bench.configured(b)
        return try b.run(checkpoint.encoder, model: url.lastPathComponent)
      })
  }
}

extension EncoderBenchmark: RepeatedBenchmark {}
