import AttractorAnalysis
import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import AttractorPlots
import Foundation

/// The attractor regime of every attention head of a BERT checkpoint over a corpus
/// (`attractor heads`): Ramsauer et al.'s k statistic and classes, entropy, an effective inverse
/// temperature, and each head iterated as an associative memory (``AttentionHeadMemory``) with the
/// framework's fixed-point analysis.
///
/// Per layer and head, over every query (token) of every sentence:
///
/// ```
/// k₉₀          fewest keys holding 90 % of the query's attention; medianK90 = median over queries
/// class        I–IV from the median of k₉₀/N (RamsauerHeadClass), N = the sentence's tokens
/// entropy      −Σ p log p (nats); normalised by log N
/// β_eff        slope of the logits against the query–key cosines (AttentionStatistics.effectiveBeta)
/// special      attention mass on [CLS] and [SEP]
/// fixed points FixedPointAnalyzer on AttentionHeadMemory(sentence): global average (k₉₀ > N/2),
///              metastable (1 < k₉₀ ≤ N/2), single pattern (k₉₀ = 1) or unstable (ρ(J) ≥ 1); counted
///              over sentences, with the share of token starts (each token's own query) ending in
///              each class, and the metastable subsets as token lists
/// ```
public struct AttentionHeadAudit: Sendable {
  /// What the audit computes.
  public struct Options: Codable, Sendable, Equatable {
    /// Attention mass of k (0.9: k₉₀).
    public var mass: Double = 0.9
    /// Run the fixed-point analysis of every head on every sentence.
    public var fixedPoints: Bool = true
    /// The fixed-point search per head and sentence (fewer starts than `analyze`'s default: the
    /// tokens, one noisy copy each, 8 pair and 8 triple mixtures, the mean, 8 random starts).
    public var search = FixedPointSearch(
      noisyStartsPerPattern: 1, pairMixtures: 8, tripleMixtures: 8, randomStarts: 8, maxSteps: 500)
    /// Metastable subsets kept per head (the most frequent token lists first).
    public var subsetExamples: Int = 4
    /// Sentences per encoder batch.
    public var batchSize: Int = 16

    public init() {}
  }

  /// Fixed points of one head summed over the sentences.
  public struct FixedPointMix: Codable, Sendable, Equatable {
    public var global = 0
    public var metastable = 0
    public var single = 0
    public var unstable = 0
    /// Starts whose dynamics did not converge.
    public var nonConverged = 0
    public var total: Int { global + metastable + single + unstable }
  }

  /// A metastable fixed point's subset, as tokens.
  public struct Subset: Codable, Sendable, Equatable {
    public var sentence: Int
    public var tokens: [String]
    /// Share of the sentence's token starts that end at this fixed point.
    public var tokenStartShare: Double
  }

  /// One head's statistics.
  public struct HeadRecord: Codable, Sendable, Equatable {
    public var layer: Int
    public var head: Int
    public var queries: Int
    public var medianK90: Double
    public var medianK90Fraction: Double
    public var meanK90: Double
    public var ramsauerClass: RamsauerHeadClass
    /// Share of queries whose own k₉₀/N falls in each class I…IV.
    public var queryClassShares: [String: Double]
    public var meanEntropy: Double
    public var meanNormalizedEntropy: Double
    public var betaEffective: Double
    public var betaFitR2: Double
    public var specialTokenMass: Double
    public var fixedPoints: FixedPointMix?
    /// Share of token starts (all sentences) ending at a global / metastable / single / unstable
    /// fixed point, or not converging.
    public var tokenStartShares: [String: Double]?
    public var metastableSubsets: [Subset]?
    /// The token of each single-pattern fixed point, counted over the sentences (which token the
    /// head's memory collapses onto, such as [SEP]).
    public var singlePatternTokens: [String: Int]?
  }

  /// The audit's record.
  public struct Report: Codable, Sendable, Equatable {
    public var model: String
    public var layerCount: Int
    public var headCount: Int
    public var sentences: Int
    public var tokens: Int
    /// Sentences cut to the model's length, by index.
    public var truncatedSentences: [Int]
    public var options: Options
    /// Wall time of the audit (encoding and analysis), seconds.
    public var seconds: Double
    /// One record per head, layer by layer.
    public var heads: [HeadRecord]
  }

  public let checkpoint: BERTCheckpoint
  public let sentences: [String]
  public let options: Options
  public let modelName: String

  public init(checkpoint: BERTCheckpoint, sentences: [String], modelName: String, options: Options = Options()) {
    self.checkpoint = checkpoint
    self.sentences = sentences
    self.options = options
    self.modelName = modelName
  }

  /// One sentence's attention and projections, kept for the analysis.
  struct Sentence {
    var tokens: [String]
    var attention: [Matrix<Float>]  // per layer, (heads·n) × n
    var projections: [Matrix<Float>]  // per layer, n × 3d
  }

  /// Encodes the corpus, keeping attention and projections.
  func encodeCorpus(note: ((String) -> Void)?) throws(TransformerEncoderError) -> (
    sentences: [Sentence], truncated: [Int]
  ) {
    let encodings = checkpoint.tokenize(sentences)
    var truncated: [Int] = []
    for (i, e) in encodings.enumerated() where e.truncatedPieces > 0 {
      truncated.append(i)
      note?(
        "warning: sentence \(i + 1) is longer than the model's \(checkpoint.maxLength) tokens; "
          + "\(e.truncatedPieces) word pieces were cut")
    }
    var out: [Sentence] = []
    var start = 0
    while start < encodings.count {
      let end = min(encodings.count, start + max(1, options.batchSize))
      let batch = Array(encodings[start..<end])
      let o = try checkpoint.encoder.encode(batch.map(\.ids), keepAttention: true, keepProjections: true)
      for (b, e) in batch.enumerated() {
        out.append(
          Sentence(
            tokens: e.tokens, attention: o.attention!.map { $0[b] },
            projections: o.projections!.map { o.rows(of: b, in: $0) }))
      }
      start = end
    }
    return (out, truncated)
  }

  /// Runs the audit; `note` hears progress and warnings.
  ///
  /// - Throws: ``AttentionHeadAuditError``.
  public func run(note: ((String) -> Void)? = nil) throws(AttentionHeadAuditError) -> Report {
    guard !sentences.isEmpty else { throw .noSentences }
    guard options.mass > 0 && options.mass <= 1 else { throw .invalidOption("mass \(options.mass) must be in (0, 1]") }
    let clock = ContinuousClock()
    let started = clock.now
    let encoded: [Sentence]
    let truncated: [Int]
    do { (encoded, truncated) = try encodeCorpus(note: note) } catch { throw .encoder(error) }
    let c = checkpoint.encoder.configuration
    var records: [HeadRecord] = []
    for layer in 0..<c.layerCount {
      for head in 0..<c.headCount {
        records.append(try analyzeHead(layer: layer, head: head, sentences: encoded))
      }
      note?("layer \(layer + 1) of \(c.layerCount) done")
    }
    return Report(
      model: modelName, layerCount: c.layerCount, headCount: c.headCount, sentences: encoded.count,
      tokens: encoded.reduce(0) { $0 + $1.tokens.count }, truncatedSentences: truncated, options: options,
      seconds: (clock.now - started).seconds, heads: records)
  }

  /// The queries and keys of `head` in `layer` for one sentence, in Double.
  static func queriesKeys(_ s: Sentence, layer: Int, head: Int, width d: Int, headSize dh: Int) -> (
    q: Matrix<Double>, k: Matrix<Double>
  ) {
    let p = s.projections[layer]
    let n = p.rows
    let q = Matrix<Double>(rows: n, columns: dh) { i, j in Double(p[i, head * dh + j]) }
    let k = Matrix<Double>(rows: n, columns: dh) { i, j in Double(p[i, d + head * dh + j]) }
    return (q, k)
  }

  func analyzeHead(layer: Int, head: Int, sentences: [Sentence]) throws(AttentionHeadAuditError) -> HeadRecord {
    let c = checkpoint.encoder.configuration
    let d = c.hiddenSize
    let dh = c.headSize
    let scale = 1 / Double(dh).squareRoot()
    var ks: [Double] = []
    var fractions: [Double] = []
    var entropies: [Double] = []
    var normalized: [Double] = []
    var betas: [Double] = []
    var r2s: [Double] = []
    var special: [Double] = []
    var classCounts: [RamsauerHeadClass: Int] = [:]
    var mix = FixedPointMix()
    var startShares: [String: Double] = [:]
    var tokenStarts = 0
    var subsets: [String: (Subset, Int)] = [:]
    var singleTokens: [String: Int] = [:]
    for (si, s) in sentences.enumerated() {
      let n = s.tokens.count
      let a = s.attention[layer]
      let (q, k) = Self.queriesKeys(s, layer: layer, head: head, width: d, headSize: dh)
      let keyNorms = k.rowNorms()
      for i in 0..<n {
        let p = (0..<n).map { Double(a[head * n + i, $0]) }
        let kk = AttentionStatistics.k(p, mass: options.mass)
        ks.append(Double(kk))
        fractions.append(Double(kk) / Double(n))
        classCounts[RamsauerHeadClass(fraction: Double(kk) / Double(n)), default: 0] += 1
        let h = AttentionStatistics.entropy(p)
        entropies.append(h)
        if n > 1 { normalized.append(h / Foundation.log(Double(n))) }
        special.append(p[0] + (n > 1 ? p[n - 1] : 0))
        let qi = q.row(i)
        let qn = max(qi.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-30)
        var logits = [Double](repeating: 0, count: n)
        var cosines = [Double](repeating: 0, count: n)
        for j in 0..<n {
          var dot = 0.0
          for t in 0..<dh { dot += qi[t] * k[j, t] }
          logits[j] = dot * scale
          cosines[j] = dot / (qn * max(keyNorms[j], 1e-30))
        }
        if let fit = AttentionStatistics.effectiveBeta(logits: logits, cosines: cosines) {
          betas.append(fit.beta)
          r2s.append(fit.r2)
        }
      }
      guard options.fixedPoints else { continue }
      let report: FixedPointReport
      do {
        let memory = try AttentionHeadMemory(queries: q, keys: k, beta: scale)
        report = try FixedPointAnalyzer(search: options.search).analyze(memory)
      } catch {
        throw .analysis(layer: layer, head: head, sentence: si, reason: "\(error)")
      }
      let patternStarts = report.startCounts[StartKind.pattern.rawValue] ?? 0
      tokenStarts += patternStarts
      for fp in report.fixedPoints {
        let share = fp.basinShareByKind[StartKind.pattern.rawValue] ?? 0
        let key: String
        switch fp.label {
        case .globalAverage:
          mix.global += 1
          key = "global"
        case .metastable:
          mix.metastable += 1
          key = "metastable"
          if let e = fp.classification.evidence {
            let tokens = e.subset.map { s.tokens[$0] }
            let id = "\(si):" + tokens.joined(separator: " ")
            let subset = Subset(sentence: si, tokens: tokens, tokenStartShare: share)
            subsets[id] = (subset, fp.startCount)
          }
        case .singlePattern:
          mix.single += 1
          key = "single"
          if let top = fp.classification.evidence?.heaviest.first {
            singleTokens[s.tokens[top.pattern], default: 0] += 1
          }
        default:
          mix.unstable += 1
          key = "unstable"
        }
        startShares[key, default: 0] += share * Double(patternStarts)
      }
      mix.nonConverged += report.nonConverged.count
      let nonConvergedTokens = report.nonConverged.filter { $0.origin.kind == .pattern }.count
      startShares["nonConverged", default: 0] += Double(nonConvergedTokens)
    }
    let total = Double(ks.count)
    let median = AttentionStatistics.median
    let fraction = median(fractions)
    var record = HeadRecord(
      layer: layer, head: head, queries: ks.count, medianK90: median(ks), medianK90Fraction: fraction,
      meanK90: ks.reduce(0, +) / total, ramsauerClass: RamsauerHeadClass(fraction: fraction),
      queryClassShares: Dictionary(
        uniqueKeysWithValues: RamsauerHeadClass.allCases.map { ($0.rawValue, Double(classCounts[$0] ?? 0) / total) }),
      meanEntropy: entropies.reduce(0, +) / total,
      meanNormalizedEntropy: normalized.isEmpty ? 0 : normalized.reduce(0, +) / Double(normalized.count),
      betaEffective: median(betas), betaFitR2: median(r2s), specialTokenMass: special.reduce(0, +) / total)
    if options.fixedPoints {
      record.fixedPoints = mix
      let t = Double(max(1, tokenStarts))
      record.tokenStartShares = startShares.mapValues { $0 / t }
      record.singlePatternTokens = singleTokens
      record.metastableSubsets = subsets.values.sorted {
        ($0.1, $0.0.tokenStartShare, -$0.0.sentence) > ($1.1, $1.0.tokenStartShare, -$1.0.sentence)
      }.prefix(options.subsetExamples).map(\.0)
    }
    return record
  }

  /// The attention map of one head for one sentence: (probabilities n × n, tokens).
  public func attentionMap(sentence: Int, layer: Int, head: Int) throws(AttentionHeadAuditError) -> (
    probabilities: [[Double]], tokens: [String]
  ) {
    let c = checkpoint.encoder.configuration
    guard sentences.indices.contains(sentence) else {
      throw .invalidOption("sentence \(sentence + 1) does not exist (the corpus has \(sentences.count))")
    }
    guard (0..<c.layerCount).contains(layer), (0..<c.headCount).contains(head) else {
      throw .invalidOption(
        "layer \(layer), head \(head) does not exist (0…\(c.layerCount - 1), 0…\(c.headCount - 1))")
    }
    let e = checkpoint.tokenizer.encode(sentences[sentence], maxLength: checkpoint.maxLength)
    let o: BERTEncoder.Output
    do { o = try checkpoint.encoder.encode([e.ids], keepAttention: true) } catch { throw .encoder(error) }
    let a = o.attention![layer][0]
    let n = e.ids.count
    return ((0..<n).map { i in (0..<n).map { Double(a[head * n + i, $0]) } }, e.tokens)
  }
}

extension AttentionHeadAudit.Report {
  /// One line per head.
  public var table: String {
    var t = MarkdownTable(
      header: [
        "layer", "head", "class", "median k₉₀", "k₉₀/N", "entropy/log N", "β_eff", "R²", "[CLS]+[SEP]",
        "fixed points g/m/s/u", "tokens → g/m/s",
      ], leftColumns: 3)
    for r in heads {
      let mix = r.fixedPoints.map { "\($0.global)/\($0.metastable)/\($0.single)/\($0.unstable)" } ?? "–"
      let shares =
        r.tokenStartShares.map { s in
          ["global", "metastable", "single"].map { NumberFormat.fixed(s[$0] ?? 0, decimals: 2) }.joined(separator: "/")
        } ?? "–"
      t.append([
        "\(r.layer)", "\(r.head)", r.ramsauerClass.rawValue, NumberFormat.general(r.medianK90, significant: 3),
        NumberFormat.fixed(r.medianK90Fraction, decimals: 3), NumberFormat.fixed(r.meanNormalizedEntropy, decimals: 3),
        NumberFormat.fixed(r.betaEffective, decimals: 2), NumberFormat.fixed(r.betaFitR2, decimals: 2),
        NumberFormat.fixed(r.specialTokenMass, decimals: 2), mix, shares,
      ])
    }
    return t.markdown
  }

  /// Layers × heads of `value`.
  public func grid(_ value: (AttentionHeadAudit.HeadRecord) -> Double) -> [[Double]] {
    (0..<layerCount).map { l in
      (0..<headCount).map { h in heads.first { $0.layer == l && $0.head == h }.map(value) ?? .nan }
    }
  }

  /// The figures: heat maps (rows: layers, columns: heads) of median k₉₀, of median k₉₀/N, of
  /// β_eff, of the Ramsauer class and of the share of token starts ending at global, metastable and
  /// single-pattern fixed points.
  public func heatmaps() -> [String: Heatmap] {
    var out: [String: Heatmap] = [:]
    func map(_ title: String, _ label: String, _ v: (AttentionHeadAudit.HeadRecord) -> Double) -> Heatmap {
      var m = Heatmap(title: "\(title) per layer and head", values: grid(v))
      m.rowLabels = (0..<layerCount).map { "layer \($0)" }
      m.columnLabels = (0..<headCount).map { "h\($0)" }
      m.colourScale = .sequential
      m.valueLabel = label
      return m
    }
    out["heads-k90"] = map("median k₉₀", "k₉₀") { $0.medianK90 }
    out["heads-k90-fraction"] = map("median k₉₀ / N", "k₉₀ / N") { $0.medianK90Fraction }
    out["heads-beta"] = map("β_eff", "β_eff") { $0.betaEffective }
    var classes = map("class (1 = I … 4 = IV)", "class") {
      Double(RamsauerHeadClass.allCases.firstIndex(of: $0.ramsauerClass)! + 1)
    }
    classes.range = 1...4
    out["heads-class"] = classes
    if heads.first?.tokenStartShares != nil {
      for kind in ["global", "metastable", "single"] {
        var m = map("share of tokens → \(kind)", "share") { $0.tokenStartShares?[kind] ?? 0 }
        m.range = 0...1
        out["heads-regime-\(kind)"] = m
      }
    }
    return out
  }
}

/// Errors of ``AttentionHeadAudit``.
public enum AttentionHeadAuditError: Error, Equatable, Sendable, CustomStringConvertible {
  case noSentences
  case invalidOption(String)
  case encoder(TransformerEncoderError)
  case analysis(layer: Int, head: Int, sentence: Int, reason: String)

  public var description: String {
    switch self {
    case .noSentences: return "the corpus holds no sentence (every line was empty)"
    case .invalidOption(let s): return s
    case .encoder(let e): return e.description
    case .analysis(let layer, let head, let sentence, let reason):
      return "the fixed-point analysis of layer \(layer), head \(head) failed on sentence \(sentence + 1): \(reason)"
    }
  }
}
