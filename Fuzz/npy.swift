// libFuzzer target: `.npy` bytes through `NumPyFile.read(data:)`. Built by `Scripts/fuzz.sh`.
import AttractorIO
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(bytes: data, count: size)
  if let tensor = try? NumPyFile.read(data: bytes) {
    // A decoded array must encode and decode back to itself.
    let again = try? NumPyFile.read(data: NumPyFile.encode(tensor))
    precondition(again?.shape == tensor.shape, "npy round trip changed the shape")
  }
  return 0
}
