// libFuzzer target: IDX bytes through `IDXFile.read(data:)`. Built by `Scripts/fuzz.sh`.
import AttractorIO
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  _ = try? IDXFile.read(data: Data(bytes: data, count: size))
  return 0
}
