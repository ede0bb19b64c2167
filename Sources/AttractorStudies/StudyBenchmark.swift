import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra

extension Study {
  /// Seconds per batch of the dynamics of model `model` on the first dataset, first seed, first
  /// corruption at its first level, with ``StudySpec/queries`` queries and the largest T steps
  /// (converged states frozen, no energies recorded): the median of `repetitions` runs after one
  /// warm-up, monotonic clock; model construction and query generation are not timed.
  public func benchmark(model m: Int, repetitions: Int) throws(StudyRunError) -> Double {
    try benchmark(model: m, factory: factories[m], repetitions: repetitions)
  }

  /// ``benchmark(model:repetitions:)`` with the factory given (opened from the existential).
  public func benchmark(model m: Int, factory: any StudyModelFactory, repetitions: Int) throws(StudyRunError) -> Double {
    let inputs = try self.inputs(dataset: 0, seed: 0, corruption: 0, level: 0, patterns: nil)
    return try timeDynamics(factory, model: m, inputs: inputs, repetitions: max(1, repetitions))
  }

  private func timeDynamics<Factory: StudyModelFactory>(
    _ factory: Factory, model m: Int, inputs: CellInputs, repetitions: Int
  ) throws(StudyRunError) -> Double {
    let binary = factory.encoding == .binary
    let patterns = binary ? Binarization.binarized(inputs.patterns) : inputs.patterns
    let queries = binary ? Binarization.binarized(inputs.queries, keepingZeros: true) : inputs.queries
    let model: Factory.Model
    do { model = try factory.make(patterns: patterns, seed: modelSeed(dataset: 0, seed: 0, model: m)) } catch {
      throw .cellFailed(cell: -1, message: "cannot build \(spec.models[m].label): \(error)")
    }
    let dynamics = SynchronousDynamics(maxSteps: spec.steps.last ?? 1, tolerance: spec.tolerance, recordEnergies: false)
    let clock = ContinuousClock()
    var times: [Double] = []
    for k in 0...repetitions {
      let start = clock.now
      do { _ = try dynamics.run(model, from: queries) } catch {
        throw .cellFailed(cell: -1, message: "\(spec.models[m].label): \(error)")
      }
      if k > 0 { times.append((clock.now - start).seconds) }  // k = 0 is the warm-up
    }
    times.sort()
    return times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
  }
}
