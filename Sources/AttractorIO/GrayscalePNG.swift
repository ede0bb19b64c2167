import Foundation

/// A minimal 8-bit greyscale PNG encoder (stored, uncompressed deflate blocks; CRC-32 and Adler-32 as
/// in RFC 1950/1951 and the PNG specification), for grids of digits and other greyscale pictures.
public enum GrayscalePNG {
  /// The PNG bytes of a `width × height` image whose pixels (row-major, values in [0, 1], clamped)
  /// are drawn white on black.
  public static func encode(width: Int, height: Int, pixels: [Double]) -> Data {
    precondition(pixels.count == width * height && width > 0 && height > 0, "GrayscalePNG: bad size")
    var raw = [UInt8]()
    raw.reserveCapacity((width + 1) * height)
    for y in 0..<height {
      raw.append(0)  // filter: none
      for x in 0..<width { raw.append(UInt8((min(max(pixels[y * width + x], 0), 1) * 255).rounded())) }
    }
    var z: [UInt8] = [0x78, 0x01]
    var offset = 0
    repeat {
      let count = min(65535, raw.count - offset)
      let last: UInt8 = offset + count == raw.count ? 1 : 0
      z.append(last)
      z.append(UInt8(count & 0xff))
      z.append(UInt8(count >> 8))
      z.append(UInt8(~count & 0xff))
      z.append(UInt8((~count >> 8) & 0xff))
      z.append(contentsOf: raw[offset..<(offset + count)])
      offset += count
    } while offset < raw.count
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in raw {
      a = (a + UInt32(byte)) % 65521
      b = (b + a) % 65521
    }
    z.append(contentsOf: bigEndian((b << 16) | a))
    var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
    header += [8, 0, 0, 0, 0]  // depth 8, greyscale, deflate, no filter method, no interlace
    out += chunk("IHDR", header)
    out += chunk("IDAT", z)
    out += chunk("IEND", [])
    return Data(out)
  }

  static func bigEndian(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
  }

  static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let typeBytes = Array(type.utf8)
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in typeBytes + data { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
    return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc ^ 0xFFFF_FFFF)
  }
}
