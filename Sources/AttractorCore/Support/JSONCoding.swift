import Foundation

/// The one JSON encoding of the project: sorted keys, unescaped slashes, non-finite numbers as the
/// strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
///
/// Every report file, `--json` output and fingerprint uses it, so the same value always gives the
/// same bytes (fingerprints of study files rely on this).
public enum JSONCoding {
  /// A new encoder with the project's settings; `pretty` adds indentation and line breaks.
  public static func encoder(pretty: Bool = true) -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting =
      pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return encoder
  }

  /// A decoder that reads what ``encoder(pretty:)`` writes (non-finite numbers included).
  public static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return decoder
  }

  /// `value` encoded with ``encoder(pretty:)``.
  public static func encode<T: Encodable>(_ value: T, pretty: Bool = true) throws -> Data {
    try encoder(pretty: pretty).encode(value)
  }

  /// `value` encoded with ``encoder(pretty:)`` as UTF-8 text, with a final newline when pretty.
  public static func string<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
    String(decoding: try encode(value, pretty: pretty), as: UTF8.self) + (pretty ? "\n" : "")
  }
}
