// swift-tools-version:6.1
// The benchmark suite (ordo-one/benchmark): a package of its own beside the main one, so that
// `swift build` and `swift test` of Attractors neither fetch nor build the benchmark tooling.
// Run from this folder: `swift package benchmark` (Docs/Benchmarks.md, "Benchmark suite").
import Foundation
import PackageDescription

// The root package is a path dependency; SwiftPM names it after its folder (whatever the clone's
// folder is called), so the name is read here.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent.lowercased()

let package = Package(
  name: "AttractorsBenchmarks",
  platforms: [.macOS(.v13)],
  dependencies: [
    .package(path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "AttractorBenchmarks",
      dependencies: [
        .product(name: "Attractors", package: rootIdentity),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "Benchmarks/AttractorBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
  ]
)
