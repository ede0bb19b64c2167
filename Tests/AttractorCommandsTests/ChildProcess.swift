import Foundation
import Testing

/// Running the `attractor` binary of this build as a child process.

/// The `attractor` executable of this build: next to the test bundle, or in the package's
/// `.build/debug`; nil when it was not built.
let attractorBinary: URL? = {
  let manager = FileManager.default
  var folders: [URL] = []
  if let executable = Bundle.main.executableURL { folders.append(executable.deletingLastPathComponent()) }
  folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
  var dir = Bundle.main.bundleURL
  for _ in 0..<4 {
    folders.append(dir)
    dir = dir.deletingLastPathComponent()
  }
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  folders.append(root.appendingPathComponent(".build/debug"))
  return folders.map { $0.appendingPathComponent("attractor") }.first { manager.isExecutableFile(atPath: $0.path) }
}()

let skipReason: Comment =
  "the attractor binary of the test build was not found next to the test bundle or in .build/debug (run swift build first)"

/// What a child run of `attractor` did.
struct ChildRun {
  var status: Int32
  var output: String
  var stderr: String
}

/// Runs `attractor arguments` in `directory`, with writes limited to `fileSizeKiB` KiB per file
/// when given (and SIGXFSZ ignored), with `environment` replacing the inherited one when given, and
/// returns its status and output.
func runAttractor(
  _ arguments: [String], in directory: URL, fileSizeKiB: Int? = nil, environment: [String: String]? = nil
) throws -> ChildRun {
  let binary = try #require(attractorBinary)
  let process = Process()
  if let environment { process.environment = environment }
  process.executableURL = URL(fileURLWithPath: "/bin/bash")
  let limit = fileSizeKiB.map { "ulimit -f \($0); " } ?? ""
  process.arguments = ["-c", "trap '' XFSZ; \(limit)exec \"$0\" \"$@\"", binary.path] + arguments
  process.currentDirectoryURL = directory
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  // Read before waiting so that a full pipe cannot stall the child.
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  let errData = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return ChildRun(
    status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData, as: UTF8.self))
}
