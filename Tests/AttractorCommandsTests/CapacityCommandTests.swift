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

/// The message ArgumentParser would print for `attractor capacity <arguments>`, or nil if they parse.
private func capacityRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Attractor.parseAsRoot(["capacity"] + arguments)
    return nil
  } catch {
    return Attractor.message(for: error)
  }
}

/// Parses `attractor capacity scan <arguments>`.
private func scan(_ arguments: [String]) throws -> Capacity.Scan {
  try #require(try Attractor.parseAsRoot(["capacity", "scan"] + arguments) as? Capacity.Scan)
}

@Suite("attractor capacity")
struct CapacityCommandTests {
  @Test("a small scan runs in process, writes CSV, JSON and SVG, and reports K_max and K½")
  func scanWritesFiles() throws {
    let dir = try capacityDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let command = try scan([
      "--model", "classical,dense-polynomial", "--degree", "3", "--dimension", "40", "--count", "4,30,400",
      "--starts", "60", "--seed", "2", "--output-dir", dir.path,
    ])
    let report = try command.execute()
    #expect(report.curves.count == 2)
    #expect(report.curves.map(\.model) == [CapacityModel.classical, .polynomial(degree: 3)])
    for name in ["capacity.csv", "capacity.json", "capacity-recall.svg"] {
      #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
    }
    // Classical: K = 4 ≪ 40/(2 ln 40) ≈ 5.4 works, 400 does not; n = 3 recalls more than classical at K = 30.
    let classical = report.curves[0].points, cubic = report.curves[1].points
    #expect(classical[0].errorFreeFraction > 0.9 && classical[2].errorFreeFraction == 0)
    #expect(cubic[1].errorFreeFraction > classical[1].errorFreeFraction)
    #expect(try command.render(report).contains("| K_max (measured, scanned K) |"))
  }

  @Test("capacity without a subcommand runs scan; its --json prints valid JSON; --file-prefix names the files")
  func defaultAndJSON() throws {
    let dir = try capacityDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let parsed = try Attractor.parseAsRoot([
      "capacity", "--dimension", "20", "--count", "3", "--starts", "5", "--workers", "1", "--json",
      "--output-dir", dir.path, "--file-prefix", "cap",
    ])
    let command = try #require(parsed as? Capacity.Scan)
    let text = try command.render(command.execute())
    let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    #expect(object["threads"] as? Int == 1)
    #expect((object["curves"] as? [Any])?.count == 1)
    #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("cap.json").path))
  }

  @Test("capacity xor prints the truth table, and valid JSON with --json")
  func xor() throws {
    let command = try #require(
      try Attractor.parseAsRoot(["capacity", "xor", "--model", "dense-polynomial,dense-rectified", "--degree", "2,3"])
        as? Capacity.XOR)
    let text = try command.render(command.execute())
    let lines = text.split(separator: "\n")
    #expect(lines.contains { $0.contains("x^2") && $0.hasSuffix("| no |") })
    #expect(lines.contains { $0.contains("x^3") && $0.contains("sum -48") && $0.hasSuffix("| yes |") })
    #expect(lines.contains { $0.contains("max(x, 0)^2") && $0.hasSuffix("| yes |") })
    let json = try #require(try Attractor.parseAsRoot(["capacity", "xor", "--degree", "3", "--json"]) as? Capacity.XOR)
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.render(json.execute()).utf8)) as? [String: Any])
    let entries = try #require(object["entries"] as? [[String: Any]])
    #expect(entries.count == 1 && entries[0]["solved"] as? Bool == true)
  }

  @Test("bad input gives clear messages; old spellings are refused")
  func badInput() throws {
    #expect(capacityRejection(["--degree", "0"])?.contains("--degree n must be an integer from 1 to 64") == true)
    #expect(capacityRejection(["--degree", "3,x"])?.contains("3,x") == true)
    #expect(capacityRejection(["--dimension", "0"])?.contains("--dimension N must be between 1") == true)
    #expect(capacityRejection(["--count", "10,0"])?.contains("--count K must be between 1") == true)
    #expect(
      capacityRejection(["--flip-fraction", "1.5"])?.contains("--flip-fraction must be a fraction in [0, 1]") == true)
    #expect(capacityRejection(["--flip-fraction", "-0.1"])?.contains("[0, 1]") == true)
    #expect(capacityRejection(["--start", "random", "--flip-fraction", "0.1"]) != nil)
    #expect(capacityRejection(["--model", "polynomial"]) != nil)
    #expect(capacityRejection(["--starts", "0"]) != nil)
    #expect(capacityRejection(["--max-errors", "-1"]) != nil)
    #expect(capacityRejection(["--workers", "0"])?.contains("--workers") == true)
    #expect(capacityRejection(["--beta", "0", "--model", "dense-exponential"]) != nil)
    #expect(capacityRejection(["--model", "dense-exponential", "--relative-count", "1,2"]) != nil)
    #expect(capacityRejection(["--dimension", "50", "--relative-count", "1,2"]) == nil)
    #expect(
      capacityRejection(["--patterns", "10,20"])?.contains("give numbers of patterns with --count 10,20") == true)
    for old in [
      ["--units", "10"], ["--max-sweeps", "3"], ["--prefix", "x"], ["--xor"], ["--bench"], ["--patterns", "10,20"],
      ["--threads", "2"],
    ] {
      #expect(capacityRejection(old) != nil, "\(old) was accepted")
    }

    // A pattern file with a non-±1 entry.
    let dir = try capacityDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("p.npy")
    try NumPyFile.write(Tensor(Matrix<Double>(rowArrays: [[1, -1, 1, 1], [1, 0, -1, 1]])), to: file)
    #expect(
      throws: CommandFailure(
        "the patterns file \(file.path) has 0.0 in pattern 1, unit 1; capacity runs store ±1 patterns (binarise with sign first)"
      )
    ) {
      _ = try scan(["--patterns", file.path, "--dimension", "4"]).execute()
    }
    // A valid ±1 file is used as given (one K = its rows, N = its columns).
    let good = dir.appendingPathComponent("good.npy")
    try NumPyFile.write(Tensor(Matrix<Double>(rowArrays: [[1, -1, 1, 1], [1, 1, -1, 1]])), to: good)
    let report = try scan(["--patterns", good.path, "--dimension", "4", "--starts", "4"]).execute()
    #expect(report.curves[0].units == 4 && report.curves[0].points[0].patterns == 2)
    #expect(throws: CommandFailure.self) { _ = try scan(["--patterns", good.path, "--dimension", "5"]).execute() }
    #expect(throws: CommandFailure.self) {
      _ = try scan(["--patterns", dir.appendingPathComponent("missing.npy").path]).execute()
    }
  }
}
