import ArgumentParser
import Attractors
import Foundation

/// `attractor embed`: sentence embeddings of a BERT-family model folder and their cosine
/// similarities (`SentenceEmbeddingRun`).
public struct Embed: ResultPrintingCommand {
  public static let configuration = CommandConfiguration(
    commandName: "embed",
    abstract: "Sentence embeddings of a BERT model folder (e.g. all-MiniLM-L6-v2) and their cosine similarities.",
    discussion: """
      Reads a Hugging Face BERT folder (config.json, model.safetensors with or without the bert. \
      prefix, vocab.txt; `python3 Scripts/fetch_minilm.py` writes all-MiniLM-L6-v2 to \
      Data/all-MiniLM-L6-v2), tokenizes each --text with WordPiece (lower-cased, accents stripped), \
      runs the encoder and mean-pools the last hidden states over the tokens, then divides by the \
      norm (sentence-transformers' pooling). A text longer than the model's length (max_seq_length \
      of sentence_bert_config.json when present, else max_position_embeddings) is cut, with a \
      warning. Prints the cosine-similarity matrix; --json prints tokens, embeddings and cosines; \
      --output writes the embeddings as a float32 .npy (one row per text).
      """)

  @Option(help: ArgumentHelp("The Hugging Face BERT model folder.", valueName: "dir"))
  var modelFolder: String

  @Option(
    name: .customLong("text"), parsing: .unconditionalSingleValue,
    help: ArgumentHelp("A sentence to embed (repeat for several).", valueName: "S"))
  var texts: [String] = []

  @Option(help: ArgumentHelp("Write the embeddings (texts × d, float32) to this .npy file.", valueName: "file"))
  var output: String?

  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var jsonOutput: JSONOutputOptions

  public init() {}

  public func validate() throws {
    if texts.isEmpty { throw ValidationError("give at least one --text") }
    if let output, !output.hasSuffix(".npy") { throw ValidationError("--output must name a .npy file, got \(output)") }
  }

  public func run() throws {
    printOutput(try render(execute(note: { printToStandardError($0) })))
  }

  public func render(_ record: SentenceEmbeddingRun.Record) throws -> String {
    try jsonOutput.text(record) { record.table }
  }

  public func execute() throws -> SentenceEmbeddingRun.Record { try execute(note: nil) }

  public func execute(note: ((String) -> Void)?) throws -> SentenceEmbeddingRun.Record {
    execution.apply()
    return try failingAsCommand {
      let url = URL(fileURLWithPath: modelFolder)
      let checkpoint = try BERTCheckpoint(opening: url)
      let record = try SentenceEmbeddingRun(checkpoint: checkpoint, modelName: url.lastPathComponent).run(
        texts, note: note)
      if let output {
        let matrix = Matrix<Float>(rowArrays: record.embeddings)
        try NumPyFile.write(Tensor(matrix), to: URL(fileURLWithPath: output))
      }
      return record
    }
  }
}
