// libFuzzer target: a Hugging Face BERT `config.json` through `BERTConfiguration.decode` (the
// JSON checks, decoding and validation `BERTCheckpoint` applies), then the tensor list the encoder
// expects from it. Built by `Scripts/fuzz.sh`.
import AttractorIO
import AttractorModels
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(bytes: data, count: size)
  if let config = try? BERTConfiguration.decode(bytes, path: "config.json"), config.layerCount <= 64 {
    _ = BERTEncoder.expectedTensors(config, prefix: "bert.").count
  }
  return 0
}
