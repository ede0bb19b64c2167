/// A Markdown table: a header row, a rule that aligns each column, and rows of cells.
///
/// Every table the tool prints or writes (benchmarks, capacity scans, studies, training) is built
/// with this type, so they share one layout: `| a | b |` lines and `---` (left) or `---:` (right)
/// in the rule.
public struct MarkdownTable: Sendable, Equatable {
  /// How a column's cells are aligned.
  public enum Alignment: Sendable, Equatable {
    /// Names and labels.
    case left
    /// Numbers.
    case right
  }

  public var header: [String]
  /// One per column of the header.
  public var alignments: [Alignment]
  public var rows: [[String]]

  public init(header: [String], alignments: [Alignment], rows: [[String]] = []) {
    self.header = header
    self.alignments = alignments
    self.rows = rows
  }

  /// The first `leftColumns` columns left-aligned (names), the others right-aligned (numbers).
  public init(header: [String], leftColumns: Int, rows: [[String]] = []) {
    self.init(header: header, alignments: header.indices.map { $0 < leftColumns ? .left : .right }, rows: rows)
  }

  /// Adds a row of cells.
  public mutating func append(_ row: [String]) { rows.append(row) }

  /// The header line, the rule and one line per row.
  public var lines: [String] {
    let rule = "|" + alignments.map { $0 == .left ? "---|" : "---:|" }.joined()
    let cells = ([header] + rows).map { "| " + $0.joined(separator: " | ") + " |" }
    return [cells[0], rule] + cells.dropFirst()
  }

  /// The table, one line per row, without a final newline.
  public var markdown: String { lines.joined(separator: "\n") }
}
