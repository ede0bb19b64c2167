import ArgumentParser
import Attractors
import Foundation

/// `attractor heads`: the attractor regime of every attention head of a BERT-family model
/// (`AttentionHeadAudit`).
public struct Heads: ResultPrintingCommand {
  public static let configuration = CommandConfiguration(
    commandName: "heads",
    abstract: "Attractor regime of every attention head of a BERT model: k₉₀, Ramsauer classes, β_eff, fixed points.",
    discussion: """
      Runs the encoder of a Hugging Face BERT folder (--model-folder; `python3 Scripts/fetch_minilm.py` \
      writes all-MiniLM-L6-v2 to Data/all-MiniLM-L6-v2) on the sentences of --text (repeatable) or \
      --corpus (one sentence per line; empty lines skipped with a note), or on the built-in corpus of \
      40 sentences (Docs/examples/heads-corpus.txt). Per layer and head (0-based), over every query \
      of every sentence: k₉₀ (fewest keys holding 90 % of the attention) and its median; Ramsauer et \
      al.'s class I–IV from the median of k₉₀/N (I > 1/2, II > 1/8, III > 1/32, IV ≤ 1/32; N = \
      tokens of the sentence); the entropy over log N; β_eff, the slope of the logits against the \
      query–key cosines (median over queries) and its R²; the attention mass on [CLS] and [SEP]. \
      Then each head on each sentence is iterated as an associative memory, u ← Qᵀ softmax(K u/√d_h) \
      in its query space (the query of the token mixture it attends to), and the framework's \
      fixed-point analysis classifies its fixed points as global average, metastable, single \
      pattern or unstable; the table gives their counts and the share of the tokens' own queries \
      ending in each class, and the JSON lists metastable subsets as tokens. Writes heads.json, \
      heads.md and heat maps (layers × heads) to --output-dir (default report-heads), plus the \
      attention map of --map-layer/--map-head for sentence --map-sentence.
      """)

  @Option(help: ArgumentHelp("The Hugging Face BERT model folder.", valueName: "dir"))
  var modelFolder: String

  @Option(
    name: .customLong("text"), parsing: .unconditionalSingleValue,
    help: ArgumentHelp("A sentence to analyse (repeat for several).", valueName: "S"))
  var texts: [String] = []

  @Option(help: ArgumentHelp("A text file, one sentence per line (default: the built-in corpus).", valueName: "file"))
  var corpus: String?

  @Flag(help: "Skip the fixed-point analysis (statistics only; much faster).")
  var noFixedPoints = false

  @Option(help: ArgumentHelp("Layer of the attention map figure (0-based).", valueName: "l"))
  var mapLayer = 0

  @Option(help: ArgumentHelp("Head of the attention map figure (0-based).", valueName: "h"))
  var mapHead = 0

  @Option(help: ArgumentHelp("Sentence of the attention map figure (1-based).", valueName: "i"))
  var mapSentence = 1

  @OptionGroup var outputFolder: OutputFolderOptions
  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var jsonOutput: JSONOutputOptions

  public init() {}

  public func validate() throws {
    if corpus != nil && !texts.isEmpty { throw ValidationError("give --text or --corpus, not both") }
    if mapLayer < 0 || mapHead < 0 { throw ValidationError("--map-layer and --map-head are 0-based, at least 0") }
    if mapSentence < 1 { throw ValidationError("--map-sentence is 1-based, at least 1") }
  }

  public func run() throws {
    printOutput(try render(execute(note: { printToStandardError($0) })))
  }

  public func render(_ report: AttentionHeadAudit.Report) throws -> String {
    try jsonOutput.text(report) {
      report.table + "\n\n\(report.sentences) sentences, \(report.tokens) tokens, "
        + "\(NumberFormat.fixed(report.seconds, decimals: 1)) s"
    }
  }

  public func execute() throws -> AttentionHeadAudit.Report { try execute(note: nil) }

  /// The sentences: --text, the lines of --corpus (empty ones skipped, with a note), or the
  /// built-in corpus.
  func sentences(note: ((String) -> Void)?) throws -> [String] {
    if !texts.isEmpty { return texts }
    let text: String
    if let corpus {
      do { text = try String(contentsOfFile: corpus, encoding: .utf8) } catch {
        throw CommandFailure("cannot read the corpus \(corpus): \(error.localizedDescription)")
      }
    } else {
      text = HeadsCorpus.text
    }
    var out: [String] = []
    var empty: [Int] = []
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if text.hasSuffix("\n") { lines.removeLast() }  // a final newline ends the last line
    for (i, line) in lines.enumerated() {
      let s = line.trimmingCharacters(in: .whitespacesAndNewlines)
      if s.isEmpty {
        empty.append(i + 1)
      } else {
        out.append(s)
      }
    }
    if !empty.isEmpty {
      note?(
        "note: skipped \(empty.count) empty line\(empty.count == 1 ? "" : "s") of the corpus (line "
          + empty.prefix(10).map(String.init).joined(separator: ", ") + (empty.count > 10 ? ", …" : "") + ")")
    }
    if out.isEmpty { throw CommandFailure("the corpus \(corpus ?? "") holds no sentence (every line is empty)") }
    return out
  }

  public func execute(note: ((String) -> Void)?) throws -> AttentionHeadAudit.Report {
    execution.apply()
    let sentences = try sentences(note: note)
    let folder = try outputFolder.createFolder(defaultName: "heads")
    return try failingAsCommand {
      let url = URL(fileURLWithPath: modelFolder)
      let checkpoint = try BERTCheckpoint(opening: url)
      var options = AttentionHeadAudit.Options()
      options.fixedPoints = !noFixedPoints
      let audit = AttentionHeadAudit(
        checkpoint: checkpoint, sentences: sentences, modelName: url.lastPathComponent, options: options)
      let map = try audit.attentionMap(sentence: mapSentence - 1, layer: mapLayer, head: mapHead)
      let report = try audit.run(note: note)
      try AtomicFile.write(Data(try JSONCoding.string(report).utf8), to: folder.appendingPathComponent("heads.json"))
      try AtomicFile.write(Data((report.table + "\n").utf8), to: folder.appendingPathComponent("heads.md"))
      for (name, heatmap) in report.heatmaps() {
        try heatmap.write(to: folder.appendingPathComponent(name + ".svg"), cellSize: 36)
      }
      var attention = Heatmap(
        title: "layer \(mapLayer) head \(mapHead), sentence \(mapSentence): query (rows) → key position",
        values: map.probabilities)
      attention.rowLabels = map.tokens
      attention.columnLabels = map.tokens.indices.map(String.init)
      attention.colourScale = .sequential
      attention.range = 0...1
      attention.valueLabel = "p"
      try attention.write(
        to: folder.appendingPathComponent("attention-L\(mapLayer)-H\(mapHead)-S\(mapSentence).svg"), cellSize: 30)
      note?("wrote heads.json, heads.md and the figures to \(folder.path)")
      return report
    }
  }
}
