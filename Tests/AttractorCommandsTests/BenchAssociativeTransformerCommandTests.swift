import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

/// `attractor bench ait`: parses, refuses bad options with a clear message, prints one JSON object.
@Suite("attractor bench ait")
struct BenchAssociativeTransformerCommandTests {
  /// The message ArgumentParser would print for `bench <arguments>`, or nil if they parse.
  func rejection(_ arguments: [String]) -> String? {
    do {
      _ = try Bench.parseAsRoot(arguments)
      return nil
    } catch {
      return Bench.message(for: error)
    }
  }

  @Test("a tiny run prints the table with the thread count, and --json one object with both models")
  func tinyRun() throws {
    let table = try #require(
      try Bench.parseAsRoot(["ait", "--batch-size", "2", "--repetitions", "1"]) as? BenchAssociativeTransformer)
    let text = try table.printed()
    #expect(text.contains("OpenBLAS threads") && text.contains("plain ViT (--workspace none)"))
    let json = try #require(
      try Bench.parseAsRoot(["ait", "--batch-size", "2", "--repetitions", "1", "--workspace", "none", "--json"])
        as? BenchAssociativeTransformer)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.printed().utf8)) as? [String: Any])
    let rows = try #require(object["rows"] as? [[String: Any]])
    #expect(rows.count == 1 && rows[0]["workspace"] as? String == "none")
    #expect(object["blasThreads"] as? Int ?? 0 >= 1)
  }

  @Test("bad options are refused with a message naming the option")
  func refusals() {
    #expect(rejection(["ait", "--workspace", "gw,transformer"])?.contains("--workspace") == true)
    #expect(rejection(["ait", "--workspace", "gw,gw"])?.contains("--workspace") == true)
    #expect(rejection(["ait", "--batch-size", "0"])?.contains("--batch-size") == true)
    #expect(rejection(["ait", "--repetitions", "0"])?.contains("--repetitions") == true)
    #expect(rejection(["ait", "--save-inputs", ""])?.contains("--save-inputs") == true)
    #expect(rejection(["ait", "--workspace", "gw", "--batch-size", "4"]) == nil)
  }
}
