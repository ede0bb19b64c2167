// What the two header parsers (JSON for .safetensors, Python literals for .npy) share.

/// A syntax error at a byte offset of a header (a `.safetensors` JSON header, a `.npy` Python
/// literal).
struct HeaderSyntaxError: Error, Equatable {
  var reason: String
  var offset: Int
}

/// How a header parser names the byte it stopped at (`nil`: the end of the header).
func describeHeaderByte(_ byte: UInt8?) -> String {
  guard let b = byte else { return "end of header" }
  if b >= 0x21 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
  return "byte 0x" + String(b, radix: 16)
}
