import AttractorIO
import Foundation

/// BERT's tokenizer: the basic tokenizer (text cleanup, CJK splitting, accent stripping,
/// lower-casing, whitespace and punctuation splitting) followed by greedy longest-match WordPiece,
/// with `[CLS]` … `[SEP]` around the pieces. It follows the semantics of Hugging Face `tokenizers`
/// for a `tokenizer.json` with a `BertNormalizer`, a `BertPreTokenizer` and a `WordPiece` model
/// (the pipeline of all-MiniLM-L6-v2 and of the uncased BERT checkpoints).
///
/// ```
/// special tokens    [PAD] [UNK] [CLS] [SEP] [MASK] written in the text are kept as themselves
/// clean             drop U+0000, U+FFFD and control characters (Unicode Cc, Cf, Cn, Co, Cs other
///                   than \t \n \r); every White_Space character becomes a space
/// CJK               a space on both sides of every CJK ideograph (U+4E00–9FFF, 3400–4DBF,
///                   20000–2A6DF, 2A700–2B73F, 2B740–2B81F, 2B920–2CEAF, F900–FAFF, 2F800–2FA1F)
/// strip accents     canonical decomposition (NFD), then drop non-spacing marks (Mn)
/// lower-case        each character's full lower-case mapping (no context: Σ → σ everywhere)
/// split             at white space (dropped) and around every punctuation character (ASCII
///                   punctuation, or Unicode P*), each punctuation character a word of its own
/// WordPiece         a word longer than `maxInputCharactersPerWord` characters is [UNK]; otherwise
///                   repeatedly take the longest prefix in the vocabulary ("##" before every piece
///                   but the first); if some remainder has no piece, the whole word is [UNK]
/// encode            [CLS] pieces [SEP], the pieces cut to `maxLength − 2` when longer
/// ```
///
/// Accents are stripped whenever the text is lower-cased (tokenizers' `strip_accents: null`).
/// Characters are Unicode scalars throughout (as Rust's `char`), so an emoji sequence is several
/// characters and a zero-width joiner (Cf) is removed.
public struct WordPieceTokenizer: Sendable {
  /// The vocabulary.
  public let vocabulary: WordPieceVocabulary
  /// Whether to lower-case (and strip accents).
  public var lowercase: Bool
  /// Longest word, in characters, that WordPiece splits; longer words become [UNK]. Default 100.
  public var maxInputCharactersPerWord: Int
  /// Ids of the special tokens.
  public let unknownID: Int
  public let classID: Int
  public let separatorID: Int
  /// Special tokens recognised verbatim in the text, longest first.
  let specialTokens: [(scalars: [Unicode.Scalar], id: Int, text: String)]

  /// A tokenizer over `vocabulary`, which must hold `[UNK]`, `[CLS]` and `[SEP]`.
  ///
  /// - Throws: ``/AttractorIO/VocabularyError/missingToken(path:token:)``.
  public init(
    vocabulary: WordPieceVocabulary, lowercase: Bool = true, maxInputCharactersPerWord: Int = 100,
    path: String = "vocab.txt"
  ) throws(VocabularyError) {
    self.vocabulary = vocabulary
    self.lowercase = lowercase
    self.maxInputCharactersPerWord = maxInputCharactersPerWord
    func id(_ t: String) throws(VocabularyError) -> Int {
      guard let i = vocabulary[t] else { throw .missingToken(path: path, token: t) }
      return i
    }
    unknownID = try id("[UNK]")
    classID = try id("[CLS]")
    separatorID = try id("[SEP]")
    specialTokens = ["[MASK]", "[PAD]", "[UNK]", "[CLS]", "[SEP]"].compactMap { t in
      vocabulary[t].map { (Array(t.unicodeScalars), $0, t) }
    }
  }

  /// The result of ``encode(_:maxLength:)``.
  public struct Encoding: Sendable, Equatable {
    /// Token ids, `[CLS]` first and `[SEP]` last.
    public var ids: [Int]
    /// The tokens (vocabulary strings) of `ids`.
    public var tokens: [String]
    /// How many word pieces were cut off to fit `maxLength` (0: none).
    public var truncatedPieces: Int
  }

  /// `[CLS]`, the word pieces of `text` and `[SEP]`, at most `maxLength` ids (≥ 2).
  public func encode(_ text: String, maxLength: Int = 512) -> Encoding {
    precondition(maxLength >= 2, "maxLength must leave room for [CLS] and [SEP]")
    var pieces = wordPieceIDs(text)
    let cut = max(0, pieces.count - (maxLength - 2))
    if cut > 0 { pieces.removeLast(cut) }
    let ids = [classID] + pieces + [separatorID]
    return Encoding(ids: ids, tokens: ids.map { vocabulary.tokens[$0] }, truncatedPieces: cut)
  }

  /// The word-piece tokens of `text` (no `[CLS]`/`[SEP]`).
  public func tokenize(_ text: String) -> [String] { wordPieceIDs(text).map { vocabulary.tokens[$0] } }

  /// The word-piece ids of `text` (no `[CLS]`/`[SEP]`).
  public func wordPieceIDs(_ text: String) -> [Int] {
    var out: [Int] = []
    let scalars = Array(text.unicodeScalars)
    var segmentStart = 0
    var i = 0
    while i < scalars.count {
      if let special = specialTokens.first(where: { matches($0.scalars, in: scalars, at: i) }) {
        appendPieces(of: scalars[segmentStart..<i], to: &out)
        out.append(special.id)
        i += special.scalars.count
        segmentStart = i
      } else {
        i += 1
      }
    }
    appendPieces(of: scalars[segmentStart..<scalars.count], to: &out)
    return out
  }

  private func matches(_ pattern: [Unicode.Scalar], in text: [Unicode.Scalar], at i: Int) -> Bool {
    guard i + pattern.count <= text.count else { return false }
    for (j, s) in pattern.enumerated() where text[i + j] != s { return false }
    return true
  }

  private func appendPieces(of segment: ArraySlice<Unicode.Scalar>, to out: inout [Int]) {
    guard !segment.isEmpty else { return }
    for word in Self.split(normalize(segment)) { appendWordPieces(word, to: &out) }
  }

  /// The BERT normaliser: cleanup, CJK padding, accent stripping and lower-casing.
  func normalize(_ text: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
    var cleaned: [Unicode.Scalar] = []
    cleaned.reserveCapacity(text.count)
    for c in text {
      if c.value == 0 || c.value == 0xFFFD || Self.isControl(c) { continue }
      if Self.isWhitespace(c) {
        cleaned.append(" ")
      } else if Self.isCJK(c) {
        cleaned.append(" ")
        cleaned.append(c)
        cleaned.append(" ")
      } else {
        cleaned.append(c)
      }
    }
    guard lowercase else { return cleaned }
    var view = String.UnicodeScalarView()
    view.append(contentsOf: cleaned)
    let decomposed = String(view).decomposedStringWithCanonicalMapping
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(cleaned.count)
    for c in decomposed.unicodeScalars where c.properties.generalCategory != .nonspacingMark {
      if c.properties.changesWhenLowercased {
        out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
      } else {
        out.append(c)
      }
    }
    return out
  }

  /// The BERT pre-tokeniser: words split at white space and around punctuation.
  static func split(_ text: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
    var words: [ArraySlice<Unicode.Scalar>] = []
    var start = 0
    for (i, c) in text.enumerated() {
      if isWhitespace(c) {
        if start < i { words.append(text[start..<i]) }
        start = i + 1
      } else if isPunctuation(c) {
        if start < i { words.append(text[start..<i]) }
        words.append(text[i..<i + 1])
        start = i + 1
      }
    }
    if start < text.count { words.append(text[start..<text.count]) }
    return words
  }

  private func appendWordPieces(_ word: ArraySlice<Unicode.Scalar>, to out: inout [Int]) {
    let chars = Array(word)
    guard chars.count <= maxInputCharactersPerWord else {
      out.append(unknownID)
      return
    }
    var pieces: [Int] = []
    var start = 0
    while start < chars.count {
      var end = chars.count
      var found: Int? = nil
      while start < end {
        var view = String.UnicodeScalarView()
        if start > 0 { view.append(contentsOf: "##".unicodeScalars) }
        view.append(contentsOf: chars[start..<end])
        if let id = vocabulary[String(view)] {
          found = id
          break
        }
        end -= 1
      }
      guard let id = found else {
        out.append(unknownID)
        return
      }
      pieces.append(id)
      start = end
    }
    out.append(contentsOf: pieces)
  }

  /// White space as Rust's `char::is_whitespace` (the White_Space property) plus \t \n \r.
  static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
    c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace
  }

  /// Control characters: Unicode Cc, Cf, Cn, Co, Cs, except \t \n \r.
  static func isControl(_ c: Unicode.Scalar) -> Bool {
    if c == "\t" || c == "\n" || c == "\r" { return false }
    switch c.properties.generalCategory {
    case .control, .format, .unassigned, .privateUse, .surrogate: return true
    default: return false
    }
  }

  /// ASCII punctuation (all of !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~) or a Unicode punctuation category.
  static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
    let v = c.value
    if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
      return true
    }
    switch c.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
      .finalPunctuation, .otherPunctuation:
      return true
    default: return false
    }
  }

  /// The CJK ideograph blocks BERT splits into single characters.
  static func isCJK(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
      0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default: return false
    }
  }
}
