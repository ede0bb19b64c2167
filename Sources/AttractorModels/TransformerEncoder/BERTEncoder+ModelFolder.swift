import AttractorIO
import AttractorLinearAlgebra
import Foundation

/// A BERT checkpoint in the Hugging Face layout, opened: its encoder, its WordPiece tokenizer and
/// the longest input it reads.
///
/// ```
/// <folder>/config.json                 BERTConfiguration (model_type bert, hidden_act gelu, …)
/// <folder>/model.safetensors           the tensors of BERTEncoder.expectedTensors, with or without
///                                      the "bert." prefix (found from the header)
/// <folder>/vocab.txt                   one token per line; at most vocab_size tokens
/// <folder>/sentence_bert_config.json   optional: max_seq_length (sentence-transformers models)
/// ```
///
/// ``maxLength`` is `max_seq_length` when the folder has a `sentence_bert_config.json` (256 for
/// all-MiniLM-L6-v2, where the published library truncates), else `max_position_embeddings`
/// (512); ``encode(_:)`` truncates longer texts to it and reports how many pieces it cut.
public struct BERTCheckpoint: Sendable {
  public let folder: ModelFolder
  public let encoder: BERTEncoder
  public let tokenizer: WordPieceTokenizer
  /// The tensor name prefix found in the weights (`""` or `"bert."`).
  public let prefix: String
  /// The longest token sequence (with `[CLS]` and `[SEP]`) a text is cut to.
  public let maxLength: Int

  /// Opens and validates the folder at `url` and loads the weights.
  ///
  /// - Throws: ``TransformerEncoderError/folder(_:)`` naming the file and, for the weights, the
  ///   tensor (missing, wrong shape or dtype, shape disagreeing with `config.json`, NaN);
  ///   ``TransformerEncoderError/vocabulary(_:)`` for a missing, empty or oversized `vocab.txt`.
  public init(opening url: URL) throws(TransformerEncoderError) {
    do {
      let folder = try ModelFolder(opening: url, layout: .huggingFace)
      let configuration = try folder.bertConfiguration()
      let names = try folder.tensorNames()
      let prefix = names.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
      let tensors = try folder.tensors(expecting: BERTEncoder.expectedTensors(configuration, prefix: prefix))
      let encoder = try BERTEncoder(
        configuration: configuration, tensors: tensors, prefix: prefix, path: folder.weightsURL.path)
      let maxLength = min(configuration.maxPositions, try folder.sentenceTransformerMaxLength() ?? Int.max)
      self.folder = folder
      self.encoder = encoder
      self.prefix = prefix
      self.maxLength = maxLength
    } catch {
      throw .folder(error)
    }
    let vocabularyURL = folder.file("vocab.txt")
    do {
      let vocabulary = try folder.vocabulary()
      guard vocabulary.count <= encoder.configuration.vocabularySize else {
        throw VocabularyError.sizeMismatch(
          path: vocabularyURL.path, count: vocabulary.count, expected: encoder.configuration.vocabularySize)
      }
      tokenizer = try WordPieceTokenizer(vocabulary: vocabulary, path: vocabularyURL.path)
    } catch let error as VocabularyError {
      throw .vocabulary(error)
    } catch {
      throw .vocabulary(.unreadable(path: vocabularyURL.path, reason: "\(error)"))
    }
  }

  /// The encodings of `texts` (cut to ``maxLength``).
  public func tokenize(_ texts: [String]) -> [WordPieceTokenizer.Encoding] {
    texts.map { tokenizer.encode($0, maxLength: maxLength) }
  }

  /// Unit-norm sentence embeddings of `texts` (B × d), in batches of `batchSize`.
  public func embed(_ texts: [String], batchSize: Int = 32) throws(TransformerEncoderError) -> Matrix<Float> {
    let encodings = tokenize(texts)
    var rows: [Float] = []
    var start = 0
    while start < encodings.count {
      let end = min(encodings.count, start + max(1, batchSize))
      let out = try encoder.encode(encodings[start..<end].map(\.ids))
      rows += out.sentenceEmbeddings().elements
      start = end
    }
    return Matrix(rows: texts.count, columns: encoder.width, elements: rows)
  }
}
