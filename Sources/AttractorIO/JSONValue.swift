// A small strict JSON (RFC 8259) parser for safetensors headers.
//
// Foundation's JSONSerialization would hide two things the safetensors reader must see: duplicate
// object keys (it keeps one silently) and whether a number was written as an integer. This parser
// keeps object members in order, keeps number text, and limits nesting depth so hostile input
// cannot exhaust the stack. The input must already be valid UTF-8.

/// A parsed JSON value.
indirect enum JSONValue: Equatable {
  case object([Member])
  case array([JSONValue])
  case string(String)
  /// A number's text and whether it has neither fraction nor exponent.
  case number(String, isInteger: Bool)
  case boolean(Bool)
  case null

  struct Member: Equatable {
    var key: String
    var value: JSONValue
  }

  /// The JSON type name, for error messages.
  var typeName: String {
    switch self {
    case .object: "object"
    case .array: "array"
    case .string: "string"
    case .number: "number"
    case .boolean: "boolean"
    case .null: "null"
    }
  }

  /// A short rendering for error messages.
  var summary: String {
    switch self {
    case .object(let members): "{…} (\(members.count) members)"
    case .array(let items):
      items.count <= 8
        ? "[" + items.map(\.summary).joined(separator: ", ") + "]" : "[…] (\(items.count) items)"
    case .string(let s): "\"\(quotedForMessage(s, limit: 40))\""
    case .number(let t, _): quotedForMessage(t, limit: 40)
    case .boolean(let b): b ? "true" : "false"
    case .null: "null"
    }
  }
}

struct JSONParser {
  static let maxDepth = 64

  private let bytes: UnsafeRawBufferPointer
  private var position = 0

  private init(bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  /// Parses `bytes` (valid UTF-8) as exactly one JSON value surrounded by optional whitespace.
  static func parse(_ bytes: UnsafeRawBufferPointer) throws(HeaderSyntaxError) -> JSONValue {
    var parser = JSONParser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    guard parser.position == bytes.count else {
      throw parser.error("unexpected \(parser.describeCurrent()) after the JSON value")
    }
    return value
  }

  private func error(_ reason: String) -> HeaderSyntaxError {
    HeaderSyntaxError(reason: reason, offset: position)
  }

  private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  private func describeCurrent() -> String { describeHeaderByte(current) }

  private mutating func skipWhitespace() {
    while let b = current, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
      position += 1
    }
  }

  private mutating func parseValue(depth: Int) throws(HeaderSyntaxError) -> JSONValue {
    guard depth < Self.maxDepth else { throw error("JSON nested more than \(Self.maxDepth) levels deep") }
    skipWhitespace()
    guard let b = current else { throw error("expected a JSON value, found end of header") }
    switch b {
    case UInt8(ascii: "{"): return try parseObject(depth: depth)
    case UInt8(ascii: "["): return try parseArray(depth: depth)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    case UInt8(ascii: "t"): return try parseLiteral("true", .boolean(true))
    case UInt8(ascii: "f"): return try parseLiteral("false", .boolean(false))
    case UInt8(ascii: "n"): return try parseLiteral("null", .null)
    default: throw error("unexpected \(describeCurrent())")
    }
  }

  private mutating func parseLiteral(_ word: StaticString, _ value: JSONValue) throws(HeaderSyntaxError) -> JSONValue {
    let count = word.utf8CodeUnitCount
    guard bytes.count - position >= count else { throw error("invalid literal") }
    let start = word.utf8Start
    for i in 0..<count where bytes[position + i] != start[i] {
      throw error("invalid literal")
    }
    position += count
    return value
  }

  private mutating func parseObject(depth: Int) throws(HeaderSyntaxError) -> JSONValue {
    position += 1
    var members: [JSONValue.Member] = []
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      position += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard current == UInt8(ascii: "\"") else {
        throw error("expected a string key, found \(describeCurrent())")
      }
      let key = try parseString()
      skipWhitespace()
      guard current == UInt8(ascii: ":") else { throw error("expected ':', found \(describeCurrent())") }
      position += 1
      let value = try parseValue(depth: depth + 1)
      members.append(JSONValue.Member(key: key, value: value))
      if try endsContainer(UInt8(ascii: "}")) { return .object(members) }
    }
  }

  private mutating func parseArray(depth: Int) throws(HeaderSyntaxError) -> JSONValue {
    position += 1
    var items: [JSONValue] = []
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      position += 1
      return .array(items)
    }
    while true {
      items.append(try parseValue(depth: depth + 1))
      if try endsContainer(UInt8(ascii: "]")) { return .array(items) }
    }
  }

  /// After an item of an object or array: skips white space, then consumes `,` (more items follow:
  /// `false`) or `closing` (the container ends: `true`); anything else is an error.
  private mutating func endsContainer(_ closing: UInt8) throws(HeaderSyntaxError) -> Bool {
    skipWhitespace()
    switch current {
    case UInt8(ascii: ","):
      position += 1
      return false
    case closing:
      position += 1
      return true
    default:
      throw error("expected ',' or '\(Character(Unicode.Scalar(closing)))', found \(describeCurrent())")
    }
  }

  private mutating func parseHex4() throws(HeaderSyntaxError) -> UInt32 {
    guard bytes.count - position >= 4 else { throw error("truncated \\u escape") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let b = bytes[position]
      let digit: UInt32
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
      default: throw error("invalid hex digit in \\u escape")
      }
      v = v << 4 | digit
      position += 1
    }
    return v
  }

  private mutating func parseString() throws(HeaderSyntaxError) -> String {
    let start = position
    position += 1
    var out: [UInt8] = []
    while true {
      guard let b = current else {
        position = start
        throw error("unterminated string")
      }
      if b == UInt8(ascii: "\"") {
        position += 1
        break
      }
      if b < 0x20 { throw error("unescaped control character in a string") }
      if b != UInt8(ascii: "\\") {
        out.append(b)
        position += 1
        continue
      }
      position += 1
      guard let e = current else { throw error("unterminated escape") }
      position += 1
      switch e {
      case UInt8(ascii: "\""): out.append(0x22)
      case UInt8(ascii: "\\"): out.append(0x5C)
      case UInt8(ascii: "/"): out.append(0x2F)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        var code = try parseHex4()
        if (0xD800..<0xDC00).contains(code) {
          guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
            bytes[position + 1] == UInt8(ascii: "u")
          else { throw error("unpaired surrogate in \\u escape") }
          position += 2
          let low = try parseHex4()
          guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(code) {
          throw error("unpaired surrogate in \\u escape")
        }
        guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
      default:
        throw error("invalid escape sequence")
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  private mutating func parseNumber() throws(HeaderSyntaxError) -> JSONValue {
    let start = position
    var isInteger = true
    if current == UInt8(ascii: "-") { position += 1 }
    func isDigit(_ b: UInt8?) -> Bool { b.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
    guard isDigit(current) else { throw error("invalid number") }
    if current == UInt8(ascii: "0") {
      position += 1
      if isDigit(current) { throw error("leading zeros are not allowed in JSON numbers") }
    } else {
      while isDigit(current) { position += 1 }
    }
    if current == UInt8(ascii: ".") {
      isInteger = false
      position += 1
      guard isDigit(current) else { throw error("invalid number: digits must follow '.'") }
      while isDigit(current) { position += 1 }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      isInteger = false
      position += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
      guard isDigit(current) else { throw error("invalid number: digits must follow the exponent") }
      while isDigit(current) { position += 1 }
    }
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    return .number(text, isInteger: isInteger)
  }
}

/// Object keys written more than once in a JSON document.
public enum JSONDuplicateKeys {
  /// Every repeated key, in document order, as the JSON path of the repeated member (such as
  /// `$.models[0].beta`; keys that are not plain names are written `$["a b"]`). `nil` when `bytes`
  /// are not one valid UTF-8 JSON value (the caller's JSON reader reports that).
  public static func find(in bytes: [UInt8]) -> [String]? {
    guard String(decoding: bytes, as: UTF8.self).utf8.elementsEqual(bytes) else { return nil }
    let root: JSONValue? = bytes.withUnsafeBytes { try? JSONParser.parse($0) }
    guard let root else { return nil }
    var found: [String] = []
    collect(root, at: "$", into: &found)
    return found
  }

  /// `key` appended to the JSON path `path`.
  public static func path(_ path: String, key: String) -> String {
    let plain =
      !key.isEmpty
      && key.unicodeScalars.allSatisfy {
        $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0))
      }
      && !("0"..."9").contains(key.unicodeScalars.first!)
    return plain ? "\(path).\(key)" : "\(path)[\"\(key)\"]"
  }

  private static func collect(_ value: JSONValue, at path: String, into found: inout [String]) {
    switch value {
    case .object(let members):
      var seen = Set<String>()
      for m in members {
        let child = Self.path(path, key: m.key)
        if !seen.insert(m.key).inserted { found.append(child) }
        collect(m.value, at: child, into: &found)
      }
    case .array(let items):
      for (i, item) in items.enumerated() { collect(item, at: "\(path)[\(i)]", into: &found) }
    default:
      break
    }
  }
}
