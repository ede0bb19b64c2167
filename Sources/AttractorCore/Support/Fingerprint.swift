/// 64-bit FNV-1a hashes: fingerprints of study files, data sets and cells (not cryptographic).
///
/// ```
/// h₀ = 0xcbf29ce484222325,   hᵢ = (hᵢ₋₁ XOR bᵢ) · 0x100000001b3  (mod 2⁶⁴)
/// ```
public enum Fingerprint {
  /// The FNV-1a offset basis, the hash of no bytes.
  public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325

  /// FNV-1a of `bytes`, continuing from `seed` (pass a previous hash to chain several inputs).
  public static func fnv1a(_ bytes: some Sequence<UInt8>, seed: UInt64 = offsetBasis) -> UInt64 {
    var h = seed
    for b in bytes {
      h ^= UInt64(b)
      h = h &* 0x100_0000_01b3
    }
    return h
  }

  /// FNV-1a of raw memory (the bytes of a matrix, say), continuing from `seed`.
  public static func fnv1a(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = offsetBasis) -> UInt64 {
    var h = seed
    for b in bytes {
      h ^= UInt64(b)
      h = h &* 0x100_0000_01b3
    }
    return h
  }

  /// `value` as 16 lower-case hexadecimal digits.
  public static func hex(_ value: UInt64) -> String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
  }
}
