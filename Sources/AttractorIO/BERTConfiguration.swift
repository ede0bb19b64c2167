import Foundation

/// The `config.json` of a Hugging Face BERT checkpoint: the sizes and constants a BERT encoder
/// needs, decoded and validated.
///
/// ```
/// {"model_type": "bert", "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
///  "intermediate_size": 1536, "vocab_size": 30522, "max_position_embeddings": 512,
///  "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu", …}
/// ```
///
/// Keys this encoder does not use (dropout rates, `architectures`, `transformers_version`, …) are
/// ignored. `hidden_act` must be `"gelu"` (the exact erf form); `position_embedding_type`, when
/// present, must be `"absolute"`. ``validate(path:)`` checks that every size is positive, that the
/// heads divide the width, and that `layer_norm_eps` is finite and > 0.
public struct BERTConfiguration: Codable, Sendable, Equatable {
  public var modelType: String?
  public var hiddenSize: Int
  public var layerCount: Int
  public var headCount: Int
  public var intermediateSize: Int
  public var vocabularySize: Int
  public var maxPositions: Int
  public var typeVocabularySize: Int
  public var layerNormEpsilon: Double
  public var hiddenActivation: String
  public var positionEmbeddingType: String?
  public var padTokenID: Int?

  enum CodingKeys: String, CodingKey {
    case modelType = "model_type"
    case hiddenSize = "hidden_size"
    case layerCount = "num_hidden_layers"
    case headCount = "num_attention_heads"
    case intermediateSize = "intermediate_size"
    case vocabularySize = "vocab_size"
    case maxPositions = "max_position_embeddings"
    case typeVocabularySize = "type_vocab_size"
    case layerNormEpsilon = "layer_norm_eps"
    case hiddenActivation = "hidden_act"
    case positionEmbeddingType = "position_embedding_type"
    case padTokenID = "pad_token_id"
  }

  public init(
    hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int, vocabularySize: Int, maxPositions: Int,
    typeVocabularySize: Int = 2, layerNormEpsilon: Double = 1e-12, hiddenActivation: String = "gelu"
  ) {
    self.modelType = "bert"
    self.hiddenSize = hiddenSize
    self.layerCount = layerCount
    self.headCount = headCount
    self.intermediateSize = intermediateSize
    self.vocabularySize = vocabularySize
    self.maxPositions = maxPositions
    self.typeVocabularySize = typeVocabularySize
    self.layerNormEpsilon = layerNormEpsilon
    self.hiddenActivation = hiddenActivation
    self.positionEmbeddingType = "absolute"
    self.padTokenID = 0
  }

  /// The width of one head, `hiddenSize / headCount`.
  public var headSize: Int { hiddenSize / max(1, headCount) }

  /// Checks the values; `path` names the file in errors.
  ///
  /// - Throws: ``ModelFolderError/invalidConfig(path:reason:)`` naming the key.
  public func validate(path: String) throws(ModelFolderError) {
    if let modelType, modelType != "bert" {
      throw .wrongKind(path: path, expected: "model_type bert", found: "model_type \(modelType)")
    }
    let sizes: [(String, Int)] = [
      ("hidden_size", hiddenSize), ("num_hidden_layers", layerCount), ("num_attention_heads", headCount),
      ("intermediate_size", intermediateSize), ("vocab_size", vocabularySize),
      ("max_position_embeddings", maxPositions), ("type_vocab_size", typeVocabularySize),
    ]
    for (key, value) in sizes where value < 1 || value > 1 << 24 {
      throw .invalidConfig(path: path, reason: "\(key) is \(value), expected 1…\(1 << 24)")
    }
    guard hiddenSize % headCount == 0 else {
      throw .invalidConfig(
        path: path, reason: "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(headCount)")
    }
    guard layerNormEpsilon.isFinite && layerNormEpsilon > 0 else {
      throw .invalidConfig(path: path, reason: "layer_norm_eps is \(layerNormEpsilon), expected finite and > 0")
    }
    guard hiddenActivation == "gelu" else {
      throw .invalidConfig(
        path: path, reason: "hidden_act is \(hiddenActivation); this encoder implements \"gelu\" (exact, erf) only")
    }
    if let p = positionEmbeddingType, p != "absolute" {
      throw .invalidConfig(path: path, reason: "position_embedding_type is \(p); only \"absolute\" is implemented")
    }
  }

  /// Decodes and validates the bytes of a `config.json`; `path` only names the file in errors.
  ///
  /// - Throws: ``ModelFolderError``: `unreadableConfig` (not a JSON object), `invalidConfig`
  ///   (a missing or mistyped key, or a value ``validate(path:)`` refuses), `wrongKind`.
  public static func decode(_ data: Data, path: String) throws(ModelFolderError) -> BERTConfiguration {
    let config = try ModelFolder.decodeConfig(BERTConfiguration.self, from: data, kind: nil, path: path)
    try config.validate(path: path)
    return config
  }
}

/// The optional `sentence_bert_config.json` of a sentence-transformers folder: the longest input
/// the published model reads (`max_seq_length`, 256 for all-MiniLM-L6-v2).
public struct SentenceTransformerConfiguration: Codable, Sendable, Equatable {
  public var maxSequenceLength: Int?
  enum CodingKeys: String, CodingKey { case maxSequenceLength = "max_seq_length" }
}
