// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "Attractors",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "Attractors", targets: ["Attractors"]),
    .executable(name: "attractor", targets: ["attractor"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    // Test-only: property-based tests (seeded generators with shrinking).
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
  ],
  targets: [
    // CBLAS + LAPACKE from Debian's libopenblas-dev and liblapacke-dev.
    .systemLibrary(
      name: "CLinearAlgebra",
      pkgConfig: "lapacke",
      providers: [.apt(["liblapacke-dev", "libopenblas-dev"])]
    ),
    // Vectorised exp/softmax kernels (clang auto-vectorises them; AVX2 chosen at run time).
    .target(name: "CAttractorKernels"),
    // Test support: a counting malloc for the allocation checks (Tests/CAllocationCounter/include).
    .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
    .target(
      name: "AttractorLinearAlgebra",
      dependencies: [
        "CLinearAlgebra",
        "CAttractorKernels",
        .product(name: "RealModule", package: "swift-numerics"),
        .product(name: "ComplexModule", package: "swift-numerics"),
      ]
    ),
    .target(
      name: "AttractorCore",
      dependencies: ["AttractorLinearAlgebra", .product(name: "RealModule", package: "swift-numerics")]
    ),
    // Models depend on IO for their model folders (`IterativeAttention+ModelFolder.swift`).
    .target(name: "AttractorModels", dependencies: ["AttractorCore", "AttractorLinearAlgebra", "AttractorIO"]),
    .target(name: "AttractorIO", dependencies: ["AttractorLinearAlgebra"]),
    // SVG charts (no dependencies): used by analysis and experiments to write figures.
    .target(name: "AttractorPlots"),
    .target(
      name: "AttractorAnalysis",
      dependencies: [
        "AttractorLinearAlgebra", "AttractorCore", "AttractorModels", "AttractorPlots",
        .product(name: "RealModule", package: "swift-numerics"),
        .product(name: "ComplexModule", package: "swift-numerics"),
      ]
    ),
    // Building blocks of experiments: corruptions, metrics, recall and capacity runners, and the
    // dataset layer (`Datasets/`: synthetic Gaussian, MNIST reader and embeddings, DatasetError).
    .target(
      name: "AttractorExperiments",
      dependencies: [
        "AttractorLinearAlgebra", "AttractorCore", "AttractorModels", "AttractorIO", "AttractorAnalysis",
        "AttractorPlots",
      ]
    ),
    // Studies: the comparative-study framework (study files, the model registry, resumable and
    // sharded runs, reports) and the paper reproductions under `Reproductions/`.
    .target(
      name: "AttractorStudies",
      dependencies: [
        "AttractorLinearAlgebra", "AttractorCore", "AttractorModels", "AttractorExperiments", "AttractorAnalysis",
        "AttractorIO", "AttractorPlots",
      ]
    ),
    .target(
      name: "Attractors",
      dependencies: [
        "AttractorLinearAlgebra", "AttractorCore", "AttractorModels", "AttractorIO", "AttractorExperiments",
        "AttractorAnalysis", "AttractorPlots",
        "AttractorStudies",
        .product(name: "RealModule", package: "swift-numerics"),
        .product(name: "ComplexModule", package: "swift-numerics"),
      ]
    ),
    .target(
      name: "AttractorCommands",
      dependencies: ["Attractors", .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),
    .executableTarget(name: "attractor", dependencies: ["AttractorCommands"]),

    .testTarget(
      name: "AttractorLinearAlgebraTests",
      dependencies: ["AttractorLinearAlgebra", .product(name: "ComplexModule", package: "swift-numerics")]
    ),
    .testTarget(
      name: "AttractorCoreTests",
      dependencies: [
        "AttractorCore", "AttractorLinearAlgebra", .product(name: "PropertyBased", package: "swift-property-based"),
      ]),
    .testTarget(
      name: "AttractorModelsTests",
      dependencies: [
        "AttractorModels", "AttractorCore", "AttractorLinearAlgebra", "AttractorIO", "CAllocationCounter",
        .product(name: "RealModule", package: "swift-numerics"),
        .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      exclude: ["DAMReference"],
      resources: [.copy("Reference")]
    ),
    .testTarget(
      name: "AttractorIOTests",
      dependencies: [
        "AttractorIO", "AttractorLinearAlgebra", .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      exclude: ["Fixtures"]
    ),
    .testTarget(
      name: "AttractorExperimentsTests",
      dependencies: [
        "AttractorExperiments", "AttractorCore", "AttractorLinearAlgebra", "AttractorModels", "AttractorIO",
        "AttractorAnalysis",
      ],
      exclude: ["Reference"]
    ),
    .testTarget(
      name: "AttractorAnalysisTests",
      dependencies: [
        "AttractorAnalysis", "AttractorCore", "AttractorLinearAlgebra", "AttractorModels",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      exclude: ["Reference"]
    ),
    .testTarget(name: "AttractorPlotsTests", dependencies: ["AttractorPlots"]),
    .testTarget(
      name: "AttractorStudiesTests",
      dependencies: [
        "AttractorStudies", "AttractorAnalysis", "AttractorCore", "AttractorExperiments", "AttractorIO",
        "AttractorLinearAlgebra", "AttractorModels",
      ]
    ),
    .testTarget(name: "AttractorsTests", dependencies: ["Attractors"]),
    .testTarget(
      name: "AttractorCommandsTests",
      dependencies: [
        "AttractorCommands", "Attractors", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
  ]
)
