import AttractorAnalysis
import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing

/// The tiny random BERT committed with the model tests (Scripts/bert_reference.py tiny).
let tinyBERT = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("AttractorModelsTests/Reference/TinyBERT")

@Suite("Attention-head audit")
struct AttentionHeadAuditTests {
  let sentences = ["hello world, the cafe served it.", "wait (really) yes!", "hello"]

  @Test("k₉₀ and the head memory's first step agree with the encoder's own attention")
  func consistency() throws {
    let checkpoint = try BERTCheckpoint(opening: tinyBERT)
    let audit = AttentionHeadAudit(checkpoint: checkpoint, sentences: sentences, modelName: "tiny")
    let report = try audit.run()
    #expect(report.heads.count == 2 * 4)
    #expect(report.heads.map(\.layer) == [0, 0, 0, 0, 1, 1, 1, 1])
    #expect(report.heads.map(\.head) == [0, 1, 2, 3, 0, 1, 2, 3])
    let ids = checkpoint.tokenize(sentences).map(\.ids)
    let out = try checkpoint.encoder.encode(ids, keepAttention: true, keepProjections: true)
    let d = checkpoint.encoder.width
    let dh = checkpoint.encoder.headSize
    for layer in 0..<2 {
      for head in 0..<4 {
        var ks: [Double] = []
        for b in ids.indices {
          let n = ids[b].count
          let a = out.attention![layer][b]
          let p = out.rows(of: b, in: out.projections![layer])
          let q = Matrix<Double>(rows: n, columns: dh) { i, j in Double(p[i, head * dh + j]) }
          let k = Matrix<Double>(rows: n, columns: dh) { i, j in Double(p[i, d + head * dh + j]) }
          let memory = try AttentionHeadMemory(queries: q, keys: k, beta: 1 / Double(dh).squareRoot())
          // Starting from token i's query, the separation is the head's attention row i.
          let weights = memory.separation(q)
          for i in 0..<n {
            let row = (0..<n).map { Double(a[head * n + i, $0]) }
            #expect(zip(row, weights.row(i)).allSatisfy { abs($0 - $1) < 1e-5 })
            ks.append(Double(AttentionStatistics.k(row)))
          }
        }
        let r = try #require(report.heads.first { $0.layer == layer && $0.head == head })
        #expect(r.medianK90 == AttentionStatistics.median(ks))
        #expect(r.queries == ks.count)
        let mix = try #require(r.fixedPoints)
        // The hetero-associative map has no energy: starts may cycle instead of converging.
        #expect(mix.total + mix.nonConverged >= 1)
        let shares = try #require(r.tokenStartShares)
        #expect(abs(shares.values.reduce(0, +) - 1) < 1e-9)
      }
    }
  }

  @Test("JSON has one object per head with layer, head and medianK90; heat maps cover layers × heads")
  func record() throws {
    let checkpoint = try BERTCheckpoint(opening: tinyBERT)
    var options = AttentionHeadAudit.Options()
    options.fixedPoints = false
    let report = try AttentionHeadAudit(
      checkpoint: checkpoint, sentences: sentences, modelName: "tiny", options: options
    )
    .run()
    let json = try JSONSerialization.jsonObject(with: JSONCoding.encode(report)) as? [String: Any]
    let heads = try #require(json?["heads"] as? [[String: Any]])
    #expect(heads.count == 8)
    #expect(heads.allSatisfy { $0["layer"] is Int && $0["head"] is Int && $0["medianK90"] is Double })
    #expect(report.heatmaps()["heads-k90"]?.values.count == 2)
    #expect(report.heatmaps()["heads-regime-single"] == nil)
  }

  @Test("an empty corpus is an error")
  func empty() throws {
    let checkpoint = try BERTCheckpoint(opening: tinyBERT)
    #expect(throws: AttentionHeadAuditError.noSentences) {
      _ = try AttentionHeadAudit(checkpoint: checkpoint, sentences: [], modelName: "tiny").run()
    }
  }
}
