import AttractorIO
import AttractorLinearAlgebra
import Foundation
import Testing
@testable import AttractorModels

/// all-MiniLM-L6-v2 in the git-ignored Data/ folder (`python3 Scripts/fetch_minilm.py`); the tests
/// that need it are skipped, and say so, when it is absent.
enum MiniLM {
  static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Data/all-MiniLM-L6-v2")
  static let isPresent = FileManager.default.fileExists(atPath: url.appendingPathComponent("model.safetensors").path)
  static let skipNote: Comment = "needs Data/all-MiniLM-L6-v2 (python3 Scripts/fetch_minilm.py); skipped"
  /// Loaded once for all tests (reading 90 MB of weights takes seconds in a debug build).
  static let checkpoint = Result { try BERTCheckpoint(opening: url) }
}

func referenceURL(_ name: String) throws -> URL {
  let base = try #require(Bundle.module.url(forResource: "Reference", withExtension: nil))
  return base.appendingPathComponent(name)
}

struct TokenizerReference: Decodable {
  struct Case: Decodable {
    let text: String
    let ids: [Int]
    let tokens: [String]
  }
  let generated: String
  let maxLength: Int
  let cases: [Case]

  static func load(_ name: String) throws -> TokenizerReference {
    try JSONDecoder().decode(TokenizerReference.self, from: Data(contentsOf: referenceURL(name)))
  }
}

@Suite("WordPiece tokenizer")
struct WordPieceTokenizerTests {
  func check(_ tokenizer: WordPieceTokenizer, against reference: TokenizerReference) {
    #expect(reference.cases.count >= 25)
    for c in reference.cases {
      let e = tokenizer.encode(c.text, maxLength: reference.maxLength)
      #expect(e.ids == c.ids, "\(c.text.debugDescription): \(e.tokens) vs \(c.tokens)")
    }
  }

  @Test("tricky strings match Hugging Face tokenizers under a small vocabulary (wordpiece_tiny.json)")
  func tiny() throws {
    let reference = try TokenizerReference.load("wordpiece_tiny.json")
    #expect(reference.generated.contains("wordpiece_reference.py"))
    let vocabulary = try WordPieceVocabulary.read(from: referenceURL("tiny_vocab.txt"))
    check(try WordPieceTokenizer(vocabulary: vocabulary), against: reference)
  }

  @Test(
    "tricky strings match all-MiniLM-L6-v2's tokenizer.json (wordpiece_minilm.json)",
    .enabled(if: MiniLM.isPresent, MiniLM.skipNote))
  func minilm() throws {
    let reference = try TokenizerReference.load("wordpiece_minilm.json")
    let vocabulary = try WordPieceVocabulary.read(from: MiniLM.url.appendingPathComponent("vocab.txt"))
    #expect(vocabulary.count == 30522)
    check(try WordPieceTokenizer(vocabulary: vocabulary), against: reference)
  }

  @Test("truncation keeps [CLS], the first pieces and [SEP], and counts what it cut")
  func truncation() throws {
    let vocabulary = try WordPieceVocabulary.read(from: referenceURL("tiny_vocab.txt"))
    let t = try WordPieceTokenizer(vocabulary: vocabulary)
    let e = t.encode(Array(repeating: "hello world", count: 10).joined(separator: " "), maxLength: 8)
    #expect(e.tokens == ["[CLS]", "hello", "world", "hello", "world", "hello", "world", "[SEP]"])
    #expect(e.truncatedPieces == 14)
    #expect(t.encode("hello", maxLength: 8).truncatedPieces == 0)
  }

  @Test("a vocabulary without [UNK] is refused by name")
  func missingSpecial() throws {
    let v = try WordPieceVocabulary(tokens: ["[CLS]", "[SEP]", "a"])
    #expect(throws: VocabularyError.missingToken(path: "v.txt", token: "[UNK]")) {
      _ = try WordPieceTokenizer(vocabulary: v, path: "v.txt")
    }
  }
}

@Suite("WordPiece vocabulary file")
struct WordPieceVocabularyTests {
  @Test("one token per line, CRLF accepted, final newline adds nothing, later duplicate wins")
  func parse() throws {
    let v = try WordPieceVocabulary.parse(Data("[PAD]\r\n##a\nb c\n\n##a\n".utf8), path: "v")
    #expect(v.tokens == ["[PAD]", "##a", "b c", "", "##a"])
    #expect(v["##a"] == 4)
    #expect(v["b c"] == 2)
  }

  @Test("empty, non-UTF-8 and missing files are errors that name the file")
  func errors() throws {
    #expect(throws: VocabularyError.empty(path: "v")) { _ = try WordPieceVocabulary.parse(Data(), path: "v") }
    #expect(throws: VocabularyError.notUTF8(path: "v", line: 2)) {
      _ = try WordPieceVocabulary.parse(Data([0x61, 0x0A, 0xFF, 0x0A]), path: "v")
    }
    do {
      _ = try WordPieceVocabulary.read(from: URL(fileURLWithPath: "/nonexistent/vocab.txt"))
      Issue.record("no error")
    } catch {
      #expect(error.description.contains("/nonexistent/vocab.txt"))
    }
  }
}

struct TinyBERTReference: Decodable {
  let generated: String
  let ids: [[Int]]
  let hidden: [[Double]]
  let lastLayerAttention: [[Double]]
  let embeddings: [[Double]]
}

@Suite("BERT encoder")
struct BERTEncoderTests {
  static func tiny() throws -> BERTCheckpoint { try BERTCheckpoint(opening: referenceURL("TinyBERT")) }

  func maxError(_ a: [Float], _ b: [Double]) -> Double {
    #expect(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs(Double($1.0) - $1.1)) }
  }

  @Test("tiny random BERT (bert. prefix, padded batch of 3) matches the NumPy forward pass to 2e-5")
  func tinyReference() throws {
    let reference = try JSONDecoder().decode(
      TinyBERTReference.self, from: Data(contentsOf: referenceURL("tiny_bert_reference.json")))
    #expect(reference.generated.contains("bert_reference.py"))
    let checkpoint = try Self.tiny()
    #expect(checkpoint.prefix == "bert.")
    let out = try checkpoint.encoder.encode(reference.ids, keepAttention: true)
    for b in reference.ids.indices {
      #expect(maxError(out.rows(of: b, in: out.hiddenStates).elements, reference.hidden[b]) < 2e-5)
      #expect(maxError(try #require(out.attention?.last?[b]).elements, reference.lastLayerAttention[b]) < 2e-6)
    }
    #expect(maxError(out.sentenceEmbeddings().elements, reference.embeddings.flatMap { $0 }) < 2e-6)
  }

  @Test("a sentence's output does not depend on the rest of its batch")
  func batchIndependence() throws {
    let encoder = try Self.tiny().encoder
    let batch = [[2, 5, 6, 7, 3], [2, 9, 3], [2, 10, 11, 12, 13, 14, 15, 16, 3]]
    let together = try encoder.encode(batch).sentenceEmbeddings()
    for (b, ids) in batch.enumerated() {
      let alone = try encoder.encode([ids]).sentenceEmbeddings()
      #expect(maxAbs(alone.row(0), together.row(b)) < 1e-6)
    }
  }

  @Test("bad ids, empty and over-long sentences are refused")
  func badInput() throws {
    let encoder = try Self.tiny().encoder
    #expect(throws: TransformerEncoderError.self) { _ = try encoder.encode([]) }
    #expect(throws: TransformerEncoderError.self) { _ = try encoder.encode([[]]) }
    #expect(throws: TransformerEncoderError.self) { _ = try encoder.encode([[2, 100_000, 3]]) }
    #expect(throws: TransformerEncoderError.self) { _ = try encoder.encode([Array(repeating: 5, count: 41)]) }
  }

  /// A copy of the tiny folder in a temporary directory, changed by `edit`; returns the error text.
  func openingError(_ edit: (URL) throws -> Void) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinybert-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.copyItem(at: referenceURL("TinyBERT"), to: dir)
    try edit(dir)
    do {
      _ = try BERTCheckpoint(opening: dir)
      return "no error"
    } catch {
      return error.description
    }
  }

  func rewriteWeights(_ dir: URL, _ change: (inout [String: Tensor]) throws -> Void) throws {
    let url = dir.appendingPathComponent("model.safetensors")
    var tensors = try SafeTensorsFile.read(from: url).tensors
    try change(&tensors)
    try SafeTensorsFile.write(tensors, to: url)
  }

  @Test("a missing tensor, a wrong shape, a disagreeing config, a truncated file, a missing or empty vocab: named")
  func badFolders() throws {
    let missing = try openingError { dir in
      try rewriteWeights(dir) { $0["bert.encoder.layer.1.attention.self.key.bias"] = nil }
    }
    #expect(missing.contains("bert.encoder.layer.1.attention.self.key.bias") && missing.contains("missing"))
    let shape = try openingError { dir in
      try rewriteWeights(dir) {
        $0["bert.encoder.layer.0.intermediate.dense.weight"] = Tensor(Matrix<Float>(rows: 16, columns: 24))
      }
    }
    #expect(shape.contains("bert.encoder.layer.0.intermediate.dense.weight") && shape.contains("[24, 16]"))
    let config = try openingError { dir in
      let url = dir.appendingPathComponent("config.json")
      let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(
        of: "\"intermediate_size\": 24", with: "\"intermediate_size\": 32")
      try text.write(to: url, atomically: true, encoding: .utf8)
    }
    #expect(config.contains("intermediate.dense.weight") && config.contains("expected [32, 16]"))
    let truncated = try openingError { dir in
      let url = dir.appendingPathComponent("model.safetensors")
      let data = try Data(contentsOf: url)
      try data.prefix(data.count - 100).write(to: url)
    }
    #expect(truncated.contains("model.safetensors"))
    let noVocab = try openingError { dir in
      try FileManager.default.removeItem(at: dir.appendingPathComponent("vocab.txt"))
    }
    #expect(noVocab.contains("vocab.txt"))
    let emptyVocab = try openingError { dir in try Data().write(to: dir.appendingPathComponent("vocab.txt")) }
    #expect(emptyVocab.contains("vocab.txt") && emptyVocab.contains("empty"))
    let badAct = try openingError { dir in
      let url = dir.appendingPathComponent("config.json")
      let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(
        of: "\"gelu\"", with: "\"gelu_new\"")
      try text.write(to: url, atomically: true, encoding: .utf8)
    }
    #expect(badAct.contains("hidden_act") && badAct.contains("config.json"))
  }
}

struct MiniLMEmbeddingReference: Decodable {
  let generated: String
  let sentences: [String]
  let ids: [[Int]]
  let embeddings: [[Double]]
}

@Suite("all-MiniLM-L6-v2 (when present)")
struct MiniLMTests {
  @Test(
    "embeddings match the NumPy forward pass (cosine ≥ 0.99999, max |Δ| ≤ 2e-5) with the same token ids, a text over 256 tokens cut alike",
    .enabled(if: MiniLM.isPresent, MiniLM.skipNote))
  func numpyReference() throws {
    let reference = try JSONDecoder().decode(
      MiniLMEmbeddingReference.self, from: Data(contentsOf: referenceURL("minilm_embeddings.json")))
    let checkpoint = try MiniLM.checkpoint.get()
    #expect(checkpoint.prefix == "" && checkpoint.maxLength == 256)
    let encodings = checkpoint.tokenize(reference.sentences)
    #expect(encodings.map(\.ids) == reference.ids)
    #expect(encodings.last?.ids.count == 256 && (encodings.last?.truncatedPieces ?? 0) > 0)
    let embeddings = try checkpoint.embed(reference.sentences)
    for (b, expected) in reference.embeddings.enumerated() {
      let row = embeddings.row(b).map(Double.init)
      let cosine = zip(row, expected).reduce(0) { $0 + $1.0 * $1.1 }
      #expect(cosine >= 0.99999, "sentence \(b): cosine \(cosine)")
      #expect(zip(row, expected).allSatisfy { abs($0 - $1) <= 2e-5 })
    }
  }

  @Test("paraphrases score far above unrelated sentences", .enabled(if: MiniLM.isPresent, MiniLM.skipNote))
  func paraphrases() throws {
    let checkpoint = try MiniLM.checkpoint.get()
    let s = [
      "A man is playing a guitar on the stage.", "Someone performs music with a guitar in front of an audience.",
      "The stock market fell sharply on Monday.", "Share prices dropped steeply at the start of the week.",
      "How do I bake bread at home?", "What is a simple recipe for homemade bread?",
    ]
    let e = try checkpoint.embed(s)
    let sim = e.multiplied(by: e, transposeOther: true)
    for pair in 0..<3 {
      let a = 2 * pair
      let b = a + 1
      let unrelated = (0..<6).filter { $0 / 2 != pair }
      for u in unrelated {
        #expect(sim[a, b] > sim[a, u] + 0.3, "\(s[a]) ~ \(s[b]) (\(sim[a, b])) vs \(s[u]) (\(sim[a, u]))")
      }
    }
  }
}
