import Foundation

extension ModelFolder {
  /// The tensor names in the weights file's header, read without loading the tensors (used to
  /// find a checkpoint's name prefix, such as `bert.`, before stating expectations).
  ///
  /// - Throws: ``ModelFolderError/unreadableWeights(path:reason:)`` when the header cannot be read.
  public func tensorNames() throws(ModelFolderError) -> Set<String> {
    guard let names = Self.headerTensorNames(of: weightsURL) else {
      let reason =
        fileProblem(at: weightsURL)
        ?? "the safetensors header is missing, truncated or not a JSON object of tensors"
      throw .unreadableWeights(path: weightsURL.path, reason: reason)
    }
    return names
  }

  /// The Hugging Face BERT configuration in `config.json`, decoded and validated
  /// (``BERTConfiguration/decode(_:path:)``).
  public func bertConfiguration() throws(ModelFolderError) -> BERTConfiguration {
    let data = try configData(kind: nil)
    return try BERTConfiguration.decode(data, path: configURL.path)
  }

  /// The `vocab.txt` of the folder.
  public func vocabulary(named name: String = "vocab.txt") throws(VocabularyError) -> WordPieceVocabulary {
    try WordPieceVocabulary.read(from: file(name))
  }

  /// The `max_seq_length` of a `sentence_bert_config.json` in the folder, or nil when the file is
  /// absent or has none (a sentence-transformers model truncates its input there).
  ///
  /// - Throws: ``ModelFolderError/invalidConfig(path:reason:)`` when the file exists but is not
  ///   a JSON object with an integer ≥ 3 (or no) `max_seq_length`.
  public func sentenceTransformerMaxLength() throws(ModelFolderError) -> Int? {
    let url = file("sentence_bert_config.json")
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw .unreadableConfig(path: url.path, reason: "\(error.localizedDescription)")
    }
    let config = try Self.decodeConfig(SentenceTransformerConfiguration.self, from: data, kind: nil, path: url.path)
    if let n = config.maxSequenceLength, n < 3 {
      throw .invalidConfig(path: url.path, reason: "max_seq_length is \(n), expected at least 3")
    }
    return config.maxSequenceLength
  }
}
