// libFuzzer target: `.safetensors` bytes through `SafeTensorsFile.read(data:)`. Built by `Scripts/fuzz.sh`.
import AttractorIO
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(bytes: data, count: size)
  if let file = try? SafeTensorsFile.read(data: bytes) {
    // A decoded file must encode and decode back to the same tensor names.
    if let encoded = try? SafeTensorsFile.encode(file) {
      let again = try? SafeTensorsFile.read(data: encoded)
      precondition(again.map { Set($0.tensors.keys) } == Set(file.tensors.keys), "safetensors round trip")
    }
  }
  return 0
}
