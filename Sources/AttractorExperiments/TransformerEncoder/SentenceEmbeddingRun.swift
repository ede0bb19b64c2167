import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// Sentence embeddings of a BERT checkpoint and their cosine similarities (`attractor embed`).
///
/// ```
/// e_s = mean over the tokens of s of the encoder's last hidden states, divided by its norm
/// cosine(s, t) = e_sᵀ e_t
/// ```
public struct SentenceEmbeddingRun: Sendable {
  /// The result.
  public struct Record: Codable, Sendable, Equatable {
    public var model: String
    public var sentences: [String]
    /// Word pieces of each sentence, with [CLS] and [SEP].
    public var tokens: [[String]]
    /// Indices of sentences cut to the model's length.
    public var truncatedSentences: [Int]
    /// One unit-norm row per sentence.
    public var embeddings: [[Float]]
    /// cosine[i][j] = e_iᵀ e_j.
    public var cosine: [[Double]]
  }

  public let checkpoint: BERTCheckpoint
  public let modelName: String

  public init(checkpoint: BERTCheckpoint, modelName: String) {
    self.checkpoint = checkpoint
    self.modelName = modelName
  }

  /// Embeds `sentences`; `note` hears a warning for each sentence cut to the model's length.
  public func run(_ sentences: [String], note: ((String) -> Void)? = nil) throws(TransformerEncoderError) -> Record {
    guard !sentences.isEmpty else { throw .invalidInput("no sentence to embed") }
    let encodings = checkpoint.tokenize(sentences)
    var truncated: [Int] = []
    for (i, e) in encodings.enumerated() where e.truncatedPieces > 0 {
      truncated.append(i)
      note?(
        "warning: text \(i + 1) is longer than the model's \(checkpoint.maxLength) tokens; "
          + "\(e.truncatedPieces) word pieces were cut")
    }
    let e = try checkpoint.embed(sentences)
    let cos = e.multiplied(by: e, transposeOther: true)
    return Record(
      model: modelName, sentences: sentences, tokens: encodings.map(\.tokens), truncatedSentences: truncated,
      embeddings: (0..<e.rows).map { e.row($0) },
      cosine: (0..<cos.rows).map { i in cos.row(i).map { Double($0) } })
  }
}

extension SentenceEmbeddingRun.Record {
  /// The cosine-similarity matrix, sentences numbered from 1, with the sentences listed below.
  public var table: String {
    let n = sentences.count
    var lines: [String] = []
    let header = [""] + (1...n).map { "\($0)" }
    var rows: [[String]] = []
    for i in 0..<n { rows.append(["\(i + 1)"] + cosine[i].map { String(format: "%.4f", $0) }) }
    let table = MarkdownTable(header: header, leftColumns: 1, rows: rows).markdown
    lines.append("cosine similarity (\(model), \(embeddings.first?.count ?? 0)-dimensional embeddings)")
    lines.append(table)
    lines.append("")
    for (i, s) in sentences.enumerated() { lines.append("\(i + 1). \(s)  [\(tokens[i].count) tokens]") }
    return lines.joined(separator: "\n")
  }
}
