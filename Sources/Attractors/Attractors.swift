// The umbrella module: `import Attractors` gives the whole public API.
@_exported import AttractorAnalysis
@_exported import AttractorCore
@_exported import AttractorExperiments
@_exported import AttractorIO
@_exported import AttractorLinearAlgebra
@_exported import AttractorModels
@_exported import AttractorPlots
@_exported import AttractorStudies
@_exported import ComplexModule
@_exported import RealModule
