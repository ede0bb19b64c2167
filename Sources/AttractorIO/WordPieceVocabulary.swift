import Foundation

/// A WordPiece vocabulary (`vocab.txt` of a BERT checkpoint): one token per line, the line number
/// (from 0) being the token's id.
///
/// ```
/// [PAD]        id 0
/// [unused0]    id 1
/// …
/// ##s          id 2015   (a continuation piece: "##" + the piece)
/// ```
///
/// Lines end in `\n` (a trailing `\r` is removed as well); nothing else is trimmed, so a token may
/// contain spaces. An empty line is a token (the empty string) only before the last line; a final
/// newline does not add one. When a token appears twice the later id wins, as in Hugging Face's
/// readers. The file must be UTF-8 and hold at least one token.
public struct WordPieceVocabulary: Sendable, Equatable {
  /// The tokens by id.
  public let tokens: [String]
  /// The id of each token.
  public let ids: [String: Int]

  /// Builds a vocabulary from tokens in id order.
  ///
  /// - Throws: ``VocabularyError/empty(path:)`` when `tokens` is empty.
  public init(tokens: [String], path: String = "vocabulary") throws(VocabularyError) {
    guard !tokens.isEmpty else { throw .empty(path: path) }
    self.tokens = tokens
    var ids: [String: Int] = [:]
    ids.reserveCapacity(tokens.count)
    for (i, t) in tokens.enumerated() { ids[t] = i }
    self.ids = ids
  }

  /// The number of ids.
  public var count: Int { tokens.count }

  /// The id of `token`, or nil.
  public subscript(token: String) -> Int? { ids[token] }

  /// Parses the bytes of a `vocab.txt`; `path` only names the file in errors.
  ///
  /// - Throws: ``VocabularyError/notUTF8(path:line:)`` naming the first line that is not UTF-8,
  ///   ``VocabularyError/empty(path:)`` for a file without tokens.
  public static func parse(_ data: Data, path: String) throws(VocabularyError) -> WordPieceVocabulary {
    var tokens: [String] = []
    var start = data.startIndex
    var line = 1
    let newline = UInt8(ascii: "\n")
    while start < data.endIndex {
      let end = data[start...].firstIndex(of: newline) ?? data.endIndex
      var slice = data[start..<end]
      if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
      guard let token = String(validating: slice, as: UTF8.self) else { throw .notUTF8(path: path, line: line) }
      tokens.append(token)
      start = end < data.endIndex ? data.index(after: end) : end
      line += 1
    }
    return try WordPieceVocabulary(tokens: tokens, path: path)
  }

  /// Reads and parses the `vocab.txt` at `url`.
  ///
  /// - Throws: ``VocabularyError/unreadable(path:reason:)`` when the file cannot be read, and the
  ///   errors of ``parse(_:path:)``.
  public static func read(from url: URL) throws(VocabularyError) -> WordPieceVocabulary {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      let reason =
        FileManager.default.fileExists(atPath: url.path) ? "\(error.localizedDescription)" : "it does not exist"
      throw .unreadable(path: url.path, reason: reason)
    }
    return try parse(data, path: url.path)
  }
}

/// Errors reading a ``WordPieceVocabulary``; each names the file.
public enum VocabularyError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file cannot be read.
  case unreadable(path: String, reason: String)
  /// The file holds no token.
  case empty(path: String)
  /// A line is not valid UTF-8.
  case notUTF8(path: String, line: Int)
  /// A token the tokenizer needs (such as `[UNK]`, `[CLS]`, `[SEP]`) is not in the vocabulary.
  case missingToken(path: String, token: String)
  /// The vocabulary disagrees with the model (its size differs from the configuration's).
  case sizeMismatch(path: String, count: Int, expected: Int)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason): return "the vocabulary \(path) cannot be read: \(reason)"
    case .empty(let path): return "the vocabulary \(path) is empty (one token per line expected)"
    case .notUTF8(let path, let line): return "the vocabulary \(path) is not UTF-8 text (line \(line))"
    case .missingToken(let path, let token): return "the vocabulary \(path) has no token \(token)"
    case .sizeMismatch(let path, let count, let expected):
      return "the vocabulary \(path) has \(count) tokens but the model configuration says vocab_size \(expected)"
    }
  }
}
