import AttractorIO
import Foundation
import Testing

@Suite("Greyscale PNG writer")
struct GrayscalePNGTests {
  @Test("signature, header, and pixel rows that decode back from the stored deflate block")
  func encodes() throws {
    let data = [UInt8](GrayscalePNG.encode(width: 3, height: 2, pixels: [0, 0.5, 1, 1, 0.5, -2]))
    #expect(data.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    #expect(Array(data[12..<16]) == Array("IHDR".utf8))
    #expect(Array(data[16..<29]) == [0, 0, 0, 3, 0, 0, 0, 2, 8, 0, 0, 0, 0])
    // IHDR's CRC-32 (over type and data), computed here bit by bit.
    #expect(Array(data[29..<33]) == bigEndian(crc32(Array(data[12..<29]))))
    // IDAT: length, type, zlib header, one final stored block (LEN, NLEN), the filtered rows, Adler-32.
    let length = Int(data[33]) << 24 | Int(data[34]) << 16 | Int(data[35]) << 8 | Int(data[36])
    #expect(Array(data[37..<41]) == Array("IDAT".utf8))
    let z = Array(data[41..<(41 + length)])
    #expect(z[0] == 0x78 && z[2] == 1)
    let count = Int(z[3]) | Int(z[4]) << 8
    #expect(count == 8 && (Int(z[5]) | Int(z[6]) << 8) == (~count & 0xffff))
    let rows = Array(z[7..<(7 + count)])
    #expect(rows == [0, 0, 128, 255, 0, 255, 128, 0])  // filter byte 0, then the pixels (clamped to [0, 1])
    var a: UInt32 = 1
    var b: UInt32 = 0
    for byte in rows {
      a = (a + UInt32(byte)) % 65521
      b = (b + a) % 65521
    }
    #expect(Array(z.suffix(4)) == bigEndian((b << 16) | a))
    #expect(Array(data.suffix(8).prefix(4)) == Array("IEND".utf8))
  }

  private func bigEndian(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
  }

  private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xffff_ffff
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
    }
    return ~crc
  }
}
