import AttractorIO
import Foundation
import Testing

/// Seeded random mutations of valid files: the readers must succeed or throw, never trap.
@Suite("Random mutations")
struct FuzzTests {
  static let mutationsPerFormat = 2_000

  /// Applies one to four random edits: byte overwrite, bit flip, digit swap, truncation,
  /// insertion, deletion, or an extreme value written over a length field.
  static func mutate(_ input: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
    var bytes = input
    for _ in 0..<Int.random(in: 1...4, using: &rng) {
      guard !bytes.isEmpty else { return bytes }
      let i = Int.random(in: 0..<bytes.count, using: &rng)
      switch Int.random(in: 0..<8, using: &rng) {
      case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
      case 1: bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
      case 2:  // Replace a digit by another digit: shapes, offsets and lengths change plausibly.
        let digits = bytes.indices.filter { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }
        if let d = digits.randomElement(using: &rng) { bytes[d] = UInt8.random(in: 0x30...0x39, using: &rng) }
      case 3: bytes.removeSubrange(i...)
      case 4: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
      case 5: bytes.remove(at: i)
      case 6:  // Extreme values in the first 12 bytes (the length fields of both formats).
        let j = Int.random(in: 0..<min(12, bytes.count), using: &rng)
        bytes[j] = [0x00, 0xFF, 0x7F, 0x80].randomElement(using: &rng)!
      default:
        bytes.append(
          contentsOf: (0..<Int.random(in: 1...9, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
      }
    }
    return bytes
  }

  @Test("mutated .npy files are accepted or refused, never crash")
  func numpy() throws {
    let seeds: [[UInt8]] = [
      Array(try fixtureData("f32_2x3.npy")),
      Array(try fixtureData("f64_v3.npy")),
      Array(try fixtureData("i64_scalar.npy")),
      Array(NumPyFile.encode(try sampleTensor(.int32, shape: [3, 0, 2]))),
    ]
    var rng = SplitMix64(seed: 0x5EED_0001)
    var accepted = 0
    var refused = 0
    for k in 0..<Self.mutationsPerFormat {
      let data = Data(Self.mutate(seeds[k % seeds.count], using: &rng))
      do {
        let tensor = try NumPyFile.read(data: data)
        #expect(tensor.elementCount == tensor.shape.reduce(1, *))
        accepted += 1
      } catch {
        #expect(!error.description.isEmpty)
        refused += 1
      }
    }
    #expect(accepted + refused == Self.mutationsPerFormat)
    #expect(refused > 0)
  }

  @Test("mutated .safetensors files are accepted or refused, never crash")
  func safetensors() throws {
    let seeds: [[UInt8]] = [
      Array(try fixtureData("example.safetensors")),
      Array(
        try SafeTensorsFile.encode(
          ["a": try sampleTensor(.float32, shape: [2, 2]), "b": try sampleTensor(.int64, shape: [])],
          metadata: ["k": "v"])),
    ]
    var rng = SplitMix64(seed: 0x5EED_0002)
    var accepted = 0
    var refused = 0
    for k in 0..<Self.mutationsPerFormat {
      let data = Data(Self.mutate(seeds[k % seeds.count], using: &rng))
      do {
        let file = try SafeTensorsFile.read(data: data)
        for tensor in file.tensors.values { #expect(tensor.elementCount == tensor.shape.reduce(1, *)) }
        accepted += 1
      } catch {
        #expect(!error.description.isEmpty)
        refused += 1
      }
    }
    #expect(accepted + refused == Self.mutationsPerFormat)
    #expect(refused > 0)
  }
}
