// libFuzzer target: study-file JSON through `StudySpec.parse(_:registry:file:baseDirectory:)`.
// Relative dataset paths resolve against an empty temporary folder. Built by `Scripts/fuzz.sh`.
import AttractorStudies
import Foundation

let baseDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("attractors-fuzz-study-empty")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  _ = try? StudySpec.parse(Data(bytes: data, count: size), file: "fuzz.json", baseDirectory: baseDirectory)
  return 0
}
