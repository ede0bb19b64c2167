// A small parser for the Python literal grammar used in `.npy` headers.
//
// The grammar, over bytes, with whitespace (space, tab, CR, LF, VT, FF) allowed between tokens:
//
//     value      := string | integer | 'True' | 'False' | 'None' | tuple | list | dict
//     string     := "'" chars "'" | '"' chars '"'          (escapes: \\ \' \")
//     integer    := ['+' | '-'] digit+ ['L' | 'l']         (the suffix only in format 1.0/2.0)
//     tuple      := '(' ')' | '(' value ',' ')' | '(' value (',' value)+ [','] ')'
//     list       := '[' [value (',' value)* [',']] ']'
//     dict       := '{' [string ':' value (',' string ':' value)* [',']] '}'
//
// `(value)` without a comma is a parenthesised value, as in Python, not a one-element tuple.
// Nesting is limited to `maxDepth` so hostile input cannot exhaust the stack. Integers keep their
// text; the caller converts them with overflow checking.

/// A parsed Python literal.
indirect enum PythonLiteral: Equatable {
  case string(String)
  /// Integer literal text: optional `-`, then decimal digits (no `+`, no suffix).
  case integer(String)
  case boolean(Bool)
  case none
  case tuple([PythonLiteral])
  case list([PythonLiteral])
  case dictionary([Entry])

  struct Entry: Equatable {
    var key: String
    var value: PythonLiteral
    /// Byte offset of the key in the header, for messages.
    var offset: Int
  }

  /// A Python-style rendering for error messages.
  var repr: String {
    switch self {
    case .string(let s): "'\(quotedForMessage(s))'"
    case .integer(let t): t
    case .boolean(let b): b ? "True" : "False"
    case .none: "None"
    case .tuple(let items):
      items.count == 1 ? "(\(items[0].repr),)" : "(" + items.map(\.repr).joined(separator: ", ") + ")"
    case .list(let items): "[" + items.map(\.repr).joined(separator: ", ") + "]"
    case .dictionary(let entries):
      "{" + entries.map { "'\(quotedForMessage($0.key))': \($0.value.repr)" }.joined(separator: ", ") + "}"
    }
  }

  /// The Python type name, for error messages.
  var typeName: String {
    switch self {
    case .string: "str"
    case .integer: "int"
    case .boolean: "bool"
    case .none: "NoneType"
    case .tuple: "tuple"
    case .list: "list"
    case .dictionary: "dict"
    }
  }
}

struct PythonLiteralParser {
  static let maxDepth = 32

  private let bytes: [UInt8]
  private var position = 0
  /// Format 3.0 headers are UTF-8; 1.0 and 2.0 are Latin-1.
  private let utf8: Bool
  /// Python 2 wrote `3L` for long integers; NumPy strips the suffix in format 1.0/2.0 headers.
  private let allowLongSuffix: Bool

  init(bytes: [UInt8], utf8: Bool, allowLongSuffix: Bool) {
    self.bytes = bytes
    self.utf8 = utf8
    self.allowLongSuffix = allowLongSuffix
  }

  /// Parses the whole input as one literal surrounded by optional whitespace.
  static func parse(
    _ bytes: [UInt8], utf8: Bool, allowLongSuffix: Bool
  ) throws(HeaderSyntaxError) -> PythonLiteral {
    var parser = PythonLiteralParser(bytes: bytes, utf8: utf8, allowLongSuffix: allowLongSuffix)
    parser.skipWhitespace()
    guard parser.position < bytes.count else { throw parser.error("the header is empty") }
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    guard parser.position == bytes.count else {
      throw parser.error("unexpected \(parser.describeCurrent()) after the literal")
    }
    return value
  }

  private func error(_ reason: String) -> HeaderSyntaxError {
    HeaderSyntaxError(reason: reason, offset: position)
  }

  private func describeCurrent() -> String { describeHeaderByte(current) }

  private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  private mutating func skipWhitespace() {
    while let b = current, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C {
      position += 1
    }
  }

  private mutating func expect(_ byte: UInt8, _ what: String) throws(HeaderSyntaxError) {
    skipWhitespace()
    guard current == byte else { throw error("expected \(what), found \(describeCurrent())") }
    position += 1
  }

  private mutating func parseValue(depth: Int) throws(HeaderSyntaxError) -> PythonLiteral {
    guard depth < Self.maxDepth else { throw error("literal nested more than \(Self.maxDepth) levels deep") }
    skipWhitespace()
    guard let b = current else { throw error("expected a value, found end of header") }
    switch b {
    case UInt8(ascii: "'"), UInt8(ascii: "\""):
      return .string(try parseString())
    case UInt8(ascii: "("):
      return try parseTuple(depth: depth)
    case UInt8(ascii: "["):
      position += 1
      return .list(try parseSequence(closing: UInt8(ascii: "]"), depth: depth).items)
    case UInt8(ascii: "{"):
      return try parseDictionary(depth: depth)
    case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return try parseInteger()
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "_"):
      return try parseKeyword()
    default:
      throw error("unexpected \(describeCurrent())")
    }
  }

  private mutating func parseString() throws(HeaderSyntaxError) -> String {
    let quote = bytes[position]
    let start = position
    position += 1
    var content: [UInt8] = []
    while true {
      guard let b = current else {
        position = start
        throw error("unterminated string")
      }
      position += 1
      if b == quote { break }
      if b == 0x0A || b == 0x0D { throw error("line break inside a string") }
      if b == UInt8(ascii: "\\") {
        guard let e = current, e == UInt8(ascii: "\\") || e == UInt8(ascii: "'") || e == UInt8(ascii: "\"") else {
          throw error("unsupported escape sequence in a string")
        }
        content.append(e)
        position += 1
      } else {
        content.append(b)
      }
    }
    if utf8 {
      guard let s = String(validating: content, as: UTF8.self) else {
        position = start
        throw error("string is not valid UTF-8")
      }
      return s
    }
    var s = String.UnicodeScalarView()
    for b in content { s.append(Unicode.Scalar(b)) }  // Latin-1: every byte is a scalar
    return String(s)
  }

  private mutating func parseInteger() throws(HeaderSyntaxError) -> PythonLiteral {
    var negative = false
    if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") {
      negative = current == UInt8(ascii: "-")
      position += 1
    }
    var digits = ""
    while let b = current, b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
      digits.unicodeScalars.append(Unicode.Scalar(b))
      position += 1
    }
    guard !digits.isEmpty else { throw error("expected digits, found \(describeCurrent())") }
    if allowLongSuffix, current == UInt8(ascii: "L") || current == UInt8(ascii: "l") { position += 1 }
    if let b = current,
      b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") || b == UInt8(ascii: "_")
        || b == UInt8(ascii: "x") || b == UInt8(ascii: "j") || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    {
      throw error("only plain decimal integers are supported, found \(describeCurrent()) in a number")
    }
    // Normalise: strip leading zeros so that "-0" and "007" convert predictably.
    let trimmed = digits.drop { $0 == "0" }
    let magnitude = trimmed.isEmpty ? "0" : String(trimmed)
    return .integer(negative && magnitude != "0" ? "-" + magnitude : magnitude)
  }

  private mutating func parseKeyword() throws(HeaderSyntaxError) -> PythonLiteral {
    let start = position
    var word = ""
    while let b = current,
      (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
        || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    {
      word.unicodeScalars.append(Unicode.Scalar(b))
      position += 1
      if word.utf8.count > 16 { break }
    }
    switch word {
    case "True": return .boolean(true)
    case "False": return .boolean(false)
    case "None": return .none
    default:
      position = start
      throw error("unknown name '\(word)'; only True, False and None are literals")
    }
  }

  /// Parses `value (, value)* [,]` up to `closing`; the opening bracket is already consumed.
  private mutating func parseSequence(
    closing: UInt8, depth: Int
  ) throws(HeaderSyntaxError) -> (items: [PythonLiteral], sawComma: Bool) {
    var items: [PythonLiteral] = []
    var sawComma = false
    while true {
      skipWhitespace()
      if current == closing {
        position += 1
        return (items, sawComma)
      }
      items.append(try parseValue(depth: depth + 1))
      if try endsContainer(closing) { return (items, sawComma) }
      sawComma = true
    }
  }

  /// After an item of a sequence or dictionary: skips white space, then consumes `,` (more items
  /// may follow: `false`) or `closing` (the container ends: `true`); anything else is an error.
  private mutating func endsContainer(_ closing: UInt8) throws(HeaderSyntaxError) -> Bool {
    skipWhitespace()
    if current == UInt8(ascii: ",") {
      position += 1
      return false
    } else if current == closing {
      position += 1
      return true
    } else {
      throw error("expected ',' or '\(Character(Unicode.Scalar(closing)))', found \(describeCurrent())")
    }
  }

  private mutating func parseTuple(depth: Int) throws(HeaderSyntaxError) -> PythonLiteral {
    position += 1
    let (items, sawComma) = try parseSequence(closing: UInt8(ascii: ")"), depth: depth)
    if items.count == 1 && !sawComma { return items[0] }  // `(x)` is just `x`
    return .tuple(items)
  }

  private mutating func parseDictionary(depth: Int) throws(HeaderSyntaxError) -> PythonLiteral {
    position += 1
    var entries: [PythonLiteral.Entry] = []
    while true {
      skipWhitespace()
      if current == UInt8(ascii: "}") {
        position += 1
        return .dictionary(entries)
      }
      guard current == UInt8(ascii: "'") || current == UInt8(ascii: "\"") else {
        throw error("expected a string key or '}', found \(describeCurrent())")
      }
      let keyOffset = position
      let key = try parseString()
      try expect(UInt8(ascii: ":"), "':' after key '\(quotedForMessage(key))'")
      let value = try parseValue(depth: depth + 1)
      entries.append(PythonLiteral.Entry(key: key, value: value, offset: keyOffset))
      if try endsContainer(UInt8(ascii: "}")) { return .dictionary(entries) }
    }
  }
}
