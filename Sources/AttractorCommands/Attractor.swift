import ArgumentParser

/// The `attractor` command-line tool: energy-based associative memories from the shell.
///
/// Subcommands live in their own files; add new ones to `subcommands` below.
public struct Attractor: ParsableCommand {
  /// Version string printed by `attractor --version`.
  public static let version = "0.1.0-dev"

  public static let configuration = CommandConfiguration(
    commandName: "attractor",
    abstract: "Energy-based associative memories: Hopfield networks and transformer attention.",
    discussion: """
      Every run is seeded (--seed) and reproducible on any machine with the same BLAS thread count \
      (OpenBLAS results differ in the last bits between thread counts).
      """,
    version: version,
    subcommands: [
      Recall.self, Analyze.self, Capacity.self, Compare.self, Train.self, Reproduce.self, Bench.self,
      Heads.self, Embed.self,
    ]
  )

  public init() {}
}
