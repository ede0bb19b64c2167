// libFuzzer target: a model folder's `config.json` bytes through the checks and decoding that
// `IterativeAttentionModelFolder.load` applies (`ModelFolder.decodeConfig`), then the tensor list
// the record expects. Built by `Scripts/fuzz.sh`.
import AttractorIO
import AttractorModels
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(bytes: data, count: size)
  _ = try? ModelFolder.checkConfig(bytes, kind: nil, path: "config.json")
  if let record = try? ModelFolder.decodeConfig(
    IterativeAttentionModelFolder.self, from: bytes, kind: IterativeAttentionModelFolder.kind, path: "config.json")
  {
    _ = record.expectedTensors.count
  }
  return 0
}
