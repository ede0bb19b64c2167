import Attractors
import AttractorCommands
import Foundation
import Testing

/// The tool starts on OpenBLAS kernels that match the CPU (``FastBLASKernels``).
@Suite("OpenBLAS kernel set")
struct BLASKernelTests {
  @Test("a kernel set chosen by the user is kept")
  func userChoiceWins() {
    #expect(BLAS.recommendedCoreType(environment: ["OPENBLAS_CORETYPE": "Prescott"]) == nil)
  }

  @Test("the recommendation names a kernel set the CPU runs, and only when OpenBLAS chose a legacy one")
  func recommendation() {
    let recommended = BLAS.recommendedCoreType(environment: [:])
    let legacy = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom"].contains(BLAS.coreName.lowercased())
    if !legacy { #expect(recommended == nil) }
    if let recommended { #expect(["SkylakeX", "Haswell"].contains(recommended)) }
  }

  @Test(
    "attractor runs on the recommended kernels without being told, and on the user's when told",
    .enabled(if: attractorBinary != nil, skipReason))
  func binaryRelaunches() throws {
    let arguments = [
      "bench", "update", "--count", "64", "--dimension", "8", "--query-count", "4", "--repetitions", "1",
      "--threads", "1",
    ]
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_CORETYPE"] = nil
    let directory = FileManager.default.temporaryDirectory
    let automatic = try runAttractor(arguments, in: directory, environment: environment)
    #expect(automatic.status == 0, "\(automatic.stderr)")
    // This test process inherited the same environment, so its own recommendation says what the
    // child should have switched to.
    if let expected = BLAS.recommendedCoreType(environment: environment) {
      #expect(automatic.output.contains("(kernels: \(expected))"), "\(automatic.output)")
    } else {
      #expect(automatic.output.contains("(kernels: \(BLAS.coreName))"), "\(automatic.output)")
    }
    environment["OPENBLAS_CORETYPE"] = "Prescott"
    let chosen = try runAttractor(arguments, in: directory, environment: environment)
    #expect(chosen.status == 0, "\(chosen.stderr)")
    #expect(chosen.output.contains("(kernels: Prescott)"), "\(chosen.output)")
  }
}
