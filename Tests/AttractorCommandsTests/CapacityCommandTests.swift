import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

/// A fresh temporary directory for a capacity test, removed by the caller.
private func capacityDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-capacity-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// The message ArgumentParser would print for `capacity <arguments>`, or nil if they parse.
private func capacityRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Capacity.parse(arguments)
    return nil
  } catch {
    return Capacity.message(for: error)
  }
}

@Suite("attractor capacity")
struct CapacityCommandTests {
  @Test("a small scan runs in process, writes CSV, JSON and SVG, and reports K_max and K½")
  func scan() throws {
    let dir = try capacityDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let command = try Capacity.parse([
      "--model", "classical,polynomial", "--degree", "3", "--units", "40", "--patterns", "4,30,400",
      "--starts", "60", "--seed", "2", "--output-dir", dir.path,
    ])
    let report = try command.scan()
    #expect(report.curves.count == 2)
    #expect(report.curves.map(\.model) == [.classical, .polynomial(degree: 3)])
    for name in ["capacity.csv", "capacity.json", "capacity-recall.svg"] {
      #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
    }
    // Classical: K = 4 ≪ 40/(2 ln 40) ≈ 5.4 works, 400 does not; n = 3 recalls more than classical at K = 30.
    let classical = report.curves[0].points, cubic = report.curves[1].points
    #expect(classical[0].errorFreeFraction > 0.9 && classical[2].errorFreeFraction == 0)
    #expect(cubic[1].errorFreeFraction > classical[1].errorFreeFraction)
    let printing = try Capacity.parse(["--units", "20", "--patterns", "3", "--starts", "5", "--json"])
    try printing.run()  // prints the JSON report
  }

  @Test("--xor prints the truth table; --bench prints unit updates per second")
  func xorAndBench() throws {
    let text = try Capacity.parse(["--xor", "--model", "polynomial,rectified", "--degree", "2,3"]).xorTable()
    let lines = text.split(separator: "\n")
    #expect(lines.contains { $0.contains("x^2") && $0.hasSuffix("| no |") })
    #expect(lines.contains { $0.contains("x^3") && $0.contains("sum -48") && $0.hasSuffix("| yes |") })
    #expect(lines.contains { $0.contains("max(x, 0)^2") && $0.hasSuffix("| yes |") })
    let bench = try Capacity.parse(["--bench", "--units", "30", "--patterns", "50", "--starts", "20", "--threads", "2"]).benchmark()
    #expect(bench.contains("unit updates / s"))
    #expect(bench.split(separator: "\n").filter { $0.hasPrefix("| 1 |") || $0.hasPrefix("| 2 |") }.count == 2)
  }

  @Test("bad input gives clear messages")
  func badInput() throws {
    #expect(capacityRejection(["--degree", "0"])?.contains("--degree n must be an integer from 1 to 64") == true)
    #expect(capacityRejection(["--degree", "3,x"])?.contains("'x'") == true)
    #expect(capacityRejection(["--units", "0"])?.contains("--units N must be between 1") == true)
    #expect(capacityRejection(["--patterns", "10,0"])?.contains("--patterns K must be between 1") == true)
    #expect(capacityRejection(["--flip-fraction", "1.5"])?.contains("--flip-fraction must be a fraction in [0, 1]") == true)
    #expect(capacityRejection(["--flip-fraction", "-0.1"])?.contains("[0, 1]") == true)
    #expect(capacityRejection(["--start", "random", "--flip-fraction", "0.1"]) != nil)
    #expect(capacityRejection(["--model", "quadratic"]) != nil)
    #expect(capacityRejection(["--starts", "0"]) != nil)
    #expect(capacityRejection(["--max-errors", "-1"]) != nil)
    #expect(capacityRejection(["--beta", "0", "--model", "exponential"]) != nil)
    #expect(capacityRejection(["--model", "exponential", "--relative-patterns", "1,2"]) != nil)
    #expect(capacityRejection(["--units", "50", "--relative-patterns", "1,2"]) == nil)

    // A pattern file with a non-±1 entry.
    let dir = try capacityDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("p.npy")
    try NumPyFile.write(Tensor(Matrix<Double>(rowArrays: [[1, -1, 1, 1], [1, 0, -1, 1]])), to: file)
    let command = try Capacity.parse(["--patterns", file.path, "--units", "4"])
    #expect(throws: CommandFailure("the patterns file \(file.path) has 0.0 in pattern 1, unit 1; capacity runs store ±1 patterns (binarise with sign first)")) {
      _ = try command.scan()
    }
    // A valid ±1 file is used as given (one K = its rows, N = its columns).
    let good = dir.appendingPathComponent("good.npy")
    try NumPyFile.write(Tensor(Matrix<Double>(rowArrays: [[1, -1, 1, 1], [1, 1, -1, 1]])), to: good)
    let report = try Capacity.parse(["--patterns", good.path, "--units", "4", "--starts", "4"]).scan()
    #expect(report.curves[0].units == 4 && report.curves[0].points[0].patterns == 2)
    #expect(throws: CommandFailure.self) { _ = try Capacity.parse(["--patterns", good.path, "--units", "5"]).scan() }
    #expect(throws: CommandFailure.self) { _ = try Capacity.parse(["--patterns", dir.appendingPathComponent("missing.npy").path]).scan() }
  }
}
