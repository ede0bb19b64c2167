import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

/// The exit code and message `attractor <arguments>` ends with when the arguments are refused
/// before any work (parsing and validation), or nil if they are accepted.
private func commandRejection(_ arguments: [String]) -> (code: Int32, message: String)? {
  do {
    _ = try Attractor.parseAsRoot(arguments)
    return nil
  } catch {
    return (Attractor.exitCode(for: error).rawValue, Attractor.message(for: error))
  }
}

@Suite("Bad command-line values get a clear message (issue 16)")
struct InputRejectionTests {
  /// A negative number is read as the option's value and refused with its range, never as a
  /// missing value; every numeric option of every command is listed.
  static let negativeNumbers: [(arguments: [String], fragment: String)] = [
    (["recall", "--count", "-5"], "--count must be at least 1, got -5"),
    (["recall", "--dimension", "-5"], "--dimension must be at least 1, got -5"),
    (["recall", "--seed", "-5"], "--seed must be a whole number from 0 to 18446744073709551615, got -5"),
    (["recall", "--threads", "-5"], "--threads must be at least 1, got -5"),
    (["recall", "--query-count", "-3"], "--query-count must be at least 1, got -3"),
    (["recall", "--max-steps", "-1"], "--max-steps must be at least 0, got -1"),
    (["recall", "--tolerance", "-1"], "--tolerance must be a finite number ≥ 0"),
    (["recall", "--level", "-1"], "--level for noise"),
    (["recall", "--beta", "-1"], "--beta must be a finite number > 0"),
    (["compare", "--max-cells", "-5"], "--max-cells must be at least 1, got -5"),
    (["analyze", "--count", "-5"], "--count must be at least 1, got -5"),
    (["analyze", "--seed", "-1"], "--seed must be a whole number"),
    (["analyze", "--noisy-starts", "-1"], "--noisy-starts must be between 0 and 1000, got -1"),
    (["analyze", "--mixtures", "-1"], "--mixtures must be between 0 and 100000, got -1"),
    (["analyze", "--random-starts", "-1"], "--random-starts must be between 0 and 100000, got -1"),
    (["analyze", "--max-starts", "-1"], "--max-starts must be between 0 (every pattern) and 100000, got -1"),
    (["analyze", "--max-steps", "-1"], "--max-steps must be between 1 and 1000000, got -1"),
    (["analyze", "--correlation", "-1"], "--correlation must be in [0, 1), got -1"),
    (["analyze", "phase-diagram", "--beta-range", "-1:2:3"], "--beta-range needs 0 < lo < hi"),
    (["bench", "classify", "--points", "-1"], "--points must be between 1 and 100000, got -1"),
    (["bench", "dense-sweep", "--degree", "-1"], "--degree must be between 1 and 64, got -1"),
    (["bench", "dense-sweep", "--dimension", "-1"], "--dimension must be between 1 and"),
    (["bench", "dense-sweep", "--count", "-1"], "--count must be between 1 and"),
    (["bench", "dense-sweep", "--starts", "-1"], "--starts must be between 1 and"),
    (["bench", "dense-sweep", "--max-steps", "-1"], "--max-steps must be between 1 and"),
    (["bench", "dense-sweep", "--workers", "-1"], "--workers must be between 1 and 1024, got -1"),
    (["bench", "iterative-attention", "--count", "-1"], "--count must be between 1 and"),
    (["bench", "iterative-attention", "--query-count", "-1"], "--query-count must be between 1 and"),
    (["bench", "compare", "--query-count", "-1"], "--query-count must be between 1 and"),
    (["bench", "update", "--count", "-1"], "--count must be between 1 and"),
    (["bench", "update", "--dimension", "-1"], "--dimension must be between 1 and"),
    (["bench", "update", "--repetitions", "-1"], "--repetitions must be at least 1, got -1"),
    (["capacity", "--degree", "-1"], "--degree n must be an integer from 1 to 64"),
    (["capacity", "--dimension", "-1"], "--dimension N must be between 1 and"),
    (["capacity", "--count", "-1"], "--count K must be between 1 and"),
    (["capacity", "--relative-count", "-1"], "--relative-count multiples must be finite and > 0"),
    (["capacity", "--starts", "-1"], "--starts must be between 1 and"),
    (["capacity", "--max-errors", "-1"], "--max-errors must be at least 0, got -1"),
    (["capacity", "--max-steps", "-1"], "--max-steps must be at least 1, got -1"),
    (["capacity", "--workers", "-1"], "--workers must be between 1 and 1024, got -1"),
    (["train", "iterative-attention", "--epochs", "-1"], "--epochs must be at least 1, got -1"),
    (["train", "iterative-attention", "--learning-rate", "-1"], "--learning-rate must be a positive number"),
    (["train", "iterative-attention", "--batch-size", "-1"], "--batch-size must be at least 1, got -1"),
    (["train", "iterative-attention", "--layers", "-1"], "--layers must be between 1 and 64, got -1"),
    (["train", "iterative-attention", "--heads", "-1"], "--heads must be at least 1, got -1"),
    (["train", "iterative-attention", "--dimension", "-1"], "--dimension must be at least 1, got -1"),
    (["train", "iterative-attention", "--count", "-1"], "--count must be at least 10"),
    (["train", "iterative-attention", "--data-dimension", "-1"], "--data-dimension must be between 1 and"),
    (["train", "iterative-attention", "--temperature", "-1"], "--temperature must be finite and positive"),
    (["reproduce", "iterative-attention", "--seeds", "-1"], "'-1' is invalid for '--seeds"),
    (["reproduce", "iterative-attention", "--ablation-seeds", "-1"], "--ablation-seeds must be seeds"),
  ]

  @Test("A negative number is validated with the option's range (exit 64), not read as a missing value")
  func negativeNumbersAreValues() {
    for (arguments, fragment) in Self.negativeNumbers {
      let refused = commandRejection(arguments)
      #expect(refused?.code == 64, "\(arguments)")
      #expect(refused?.message.contains(fragment) == true, "\(arguments): \(refused?.message ?? "accepted")")
      #expect(refused?.message.contains("Missing value") == false, "\(arguments)")
    }
  }

  @Test("--beta beyond Float's range with --precision float is a validation error naming the range")
  func betaBeyondFloat() {
    let refused = commandRejection(["recall", "--beta", "1e300", "--precision", "float"])
    #expect(refused?.code == 64)
    #expect(refused?.message.contains("exceeds the range of Float") == true, "\(refused?.message ?? "accepted")")
    #expect(commandRejection(["recall", "--beta", "1e300", "--precision", "double"]) == nil)
  }

  /// A path that is a directory, missing, or a file where a folder is expected: said in words.
  @Test("A bad path is described in words (directory, missing, not a folder), never as an NSCocoaErrorDomain code")
  func badPathsDescribed() throws {
    let directory = FileManager.default.temporaryDirectory.path
    let missing = directory + "/attractor-missing-\(UUID().uuidString).npy"
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-file-\(UUID().uuidString)")
    try Data("x".utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let cases: [(arguments: [String], fragment: String)] = [
      (["recall", "--patterns", directory], "\(directory): it is a directory, not a file"),
      (["recall", "--patterns", missing], "\(missing): it does not exist"),
      (["recall", "--count", "4", "--dimension", "3", "--queries", directory], "it is a directory, not a file"),
      (["recall", "--model-folder", missing], "is not a model folder: it does not exist"),
      (["recall", "--model-folder", file.path], "is not a model folder: it is a file, not a folder"),
      (["analyze", "--model-folder", file.path], "is not a model folder: it is a file, not a folder"),
      (["capacity", "--patterns", directory, "--starts", "1"], "it is a directory, not a file"),
    ]
    for (arguments, fragment) in cases {
      var message = "accepted"
      var code: Int32 = 0
      do {
        var command = try Attractor.parseAsRoot(arguments)
        try command.run()
      } catch {
        message = Attractor.message(for: error)
        code = Attractor.exitCode(for: error).rawValue
      }
      #expect(message.contains(fragment), "\(arguments): \(message)")
      #expect(!message.contains("NSCocoaErrorDomain"), "\(arguments)")
      #expect(code != 0, "\(arguments)")
    }
  }
}
