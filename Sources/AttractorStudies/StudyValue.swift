import Foundation

/// A JSON value of a study file, as read (before validation).
///
/// Study files are read into this tree first so that every mistake can be found and reported
/// with its JSON path (`$.models[2].beta`) before any work starts, instead of stopping at the
/// first decoding error. `true`/`false` are never numbers and numbers are never booleans.
public indirect enum StudyValue: Sendable, Equatable, Codable, CustomStringConvertible {
  case object([String: StudyValue])
  case array([StudyValue])
  case string(String)
  case number(Double)
  case boolean(Bool)
  case null

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let b = try? container.decode(Bool.self) {
      self = .boolean(b)
    } else if let x = try? container.decode(Double.self) {
      self = .number(x)
    } else if let s = try? container.decode(String.self) {
      self = .string(s)
    } else if let a = try? container.decode([StudyValue].self) {
      self = .array(a)
    } else {
      self = .object(try container.decode([String: StudyValue].self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .object(let o): try container.encode(o)
    case .array(let a): try container.encode(a)
    case .string(let s): try container.encode(s)
    case .number(let x): try container.encode(x)
    case .boolean(let b): try container.encode(b)
    case .null: try container.encodeNil()
    }
  }

  /// The JSON type name, for messages.
  public var typeName: String {
    switch self {
    case .object: "an object"
    case .array: "an array"
    case .string: "a string"
    case .number: "a number"
    case .boolean: "a boolean"
    case .null: "null"
    }
  }

  /// A short rendering for messages.
  public var description: String {
    switch self {
    case .object(let o): "{" + o.keys.sorted().joined(separator: ", ") + "}"
    case .array(let a): a.count <= 6 ? "[" + a.map(\.description).joined(separator: ", ") + "]" : "[… \(a.count) items]"
    case .string(let s): "\"\(s.count > 60 ? String(s.prefix(57)) + "..." : s)\""
    case .number(let x): x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    case .boolean(let b): b ? "true" : "false"
    case .null: "null"
    }
  }

  /// The number, if this is one.
  public var number: Double? { if case .number(let x) = self { x } else { nil } }
  /// The number as an integer, if this is a whole number that fits.
  public var integer: Int? {
    guard case .number(let x) = self, x == x.rounded(), abs(x) < 9e15 else { return nil }
    return Int(x)
  }
  /// The string, if this is one.
  public var string: String? { if case .string(let s) = self { s } else { nil } }
  /// The boolean, if this is one.
  public var boolean: Bool? { if case .boolean(let b) = self { b } else { nil } }
}

/// One problem in a study file: where (a JSON path such as `$.models[2].beta`) and what.
public struct StudySpecIssue: Sendable, Equatable, Codable, CustomStringConvertible {
  /// JSON path of the offending value (`$` is the whole file).
  public var path: String
  /// What is wrong and what is allowed.
  public var message: String

  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }

  public var description: String { "\(path): \(message)" }
}

/// Every problem found in a study file; thrown only after the whole file has been checked.
public struct StudySpecError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file the problems are in (or `nil` for a spec built in code).
  public var file: String?
  /// Each problem, in the order they were found (document order).
  public var issues: [StudySpecIssue]

  public init(file: String? = nil, issues: [StudySpecIssue]) {
    self.file = file
    self.issues = issues
  }

  public var description: String {
    let head = "\(file ?? "the study") has \(issues.count) problem\(issues.count == 1 ? "" : "s"):"
    return ([head] + issues.map { "  \($0)" }).joined(separator: "\n")
  }
}

/// Collects issues while walking a JSON tree.
struct IssueCollector {
  var issues: [StudySpecIssue] = []

  mutating func add(_ path: String, _ message: String) { issues.append(StudySpecIssue(path: path, message: message)) }

  /// The members of an object at `path`, with an issue for every key not in `allowed`.
  mutating func object(_ value: StudyValue, at path: String, allowed: [String]) -> [String: StudyValue]? {
    guard case .object(let members) = value else {
      add(path, "must be an object, got \(value.typeName) \(value)")
      return nil
    }
    for key in members.keys.sorted() where !allowed.contains(key) {
      add("\(path).\(key)", "unknown key \"\(key)\"; allowed here: \(allowed.joined(separator: ", "))")
    }
    return members
  }

  /// `value` as read by `read`, or `fallback` when it is absent. An issue when it is absent without
  /// a fallback ("is required (`required`)") or `read` refuses it ("must be `kind`, got …").
  private mutating func typed<T>(
    _ value: StudyValue?, at path: String, default fallback: T?, required: String, kind: String,
    _ read: (StudyValue) -> T?
  ) -> T? {
    guard let value else {
      if fallback == nil { add(path, "is required (\(required))") }
      return fallback
    }
    guard let x = read(value) else {
      add(path, "must be \(kind), got \(value.typeName) \(value)")
      return nil
    }
    return x
  }

  mutating func number(_ value: StudyValue?, at path: String, default fallback: Double? = nil) -> Double? {
    typed(value, at: path, default: fallback, required: "a number", kind: "a number") { $0.number }
  }

  mutating func integer(_ value: StudyValue?, at path: String, default fallback: Int? = nil, range: ClosedRange<Int>)
    -> Int?
  {
    let bounds = "from \(range.lowerBound) to \(range.upperBound)"
    let read = typed(value, at: path, default: fallback, required: "an integer \(bounds)", kind: "an integer") {
      $0.integer
    }
    guard let k = read else { return nil }
    guard value == nil || range.contains(k) else {  // the fallback is not checked
      add(path, "must be \(bounds), got \(k)")
      return nil
    }
    return k
  }

  mutating func string(_ value: StudyValue?, at path: String, default fallback: String? = nil) -> String? {
    typed(value, at: path, default: fallback, required: "a string", kind: "a string") { $0.string }
  }

  mutating func boolean(_ value: StudyValue?, at path: String, default fallback: Bool? = nil) -> Bool? {
    typed(value, at: path, default: fallback, required: "true or false", kind: "true or false") { $0.boolean }
  }

  mutating func array(_ value: StudyValue?, at path: String, nonEmpty: Bool = true) -> [StudyValue]? {
    let read = typed(value, at: path, default: nil, required: "an array", kind: "an array") { v -> [StudyValue]? in
      if case .array(let items) = v { items } else { nil }
    }
    guard let items = read else { return nil }
    if nonEmpty && items.isEmpty {
      add(path, "must not be empty")
      return nil
    }
    return items
  }
}
