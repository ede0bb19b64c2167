import AttractorLinearAlgebra
import Testing
@testable import AttractorCore

/// A rule with no energy and no coordinate form (x ← x / 2).
struct Halving: UpdateRule {
  var dimension: Int { 3 }
  func update(_ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout Void) {
    next.assign(0.5 * states)
  }
}

@Suite("Capabilities resolved at compile time")
struct CapabilityTests {
  /// Generic contexts get what their constraints say.
  func energies<R: EnergyDescending, D: Dynamics>(_ dynamics: D, _ rule: R, _ x: Matrix<R.Scalar>) throws -> [R.Scalar]?
  {
    try dynamics.run(rule, from: x).trajectories[0].energies
  }

  func plain<R: UpdateRule, D: Dynamics>(_ dynamics: D, _ rule: R, _ x: Matrix<R.Scalar>) throws -> [R.Scalar]? {
    try dynamics.run(rule, from: x).trajectories[0].energies
  }

  @Test("GradientDescent through a function constrained to EnergyDescending records its energy")
  func gradientDescentRecordsEnergies() throws {
    let energy = quadratic(seed: 3, d: 4)
    let rule = GradientDescent(energy, stepSize: 0.05)
    let x = Matrix<Double>(rows: 1, columns: 4, repeating: 1)
    for dynamics in [SynchronousDynamics(maxSteps: 5) as any Dynamics, AsynchronousDynamics(maxSteps: 5, seed: 2)] {
      let e = try #require(try energies(dynamics, rule, x))
      #expect(abs(e[0] - energy.energy(at: x.elements)) < 1e-12)
      #expect(zip(e, e.dropFirst()).allSatisfy { $1 <= $0 + 1e-12 })
      // Through `UpdateRule` alone the energy is not visible: no energies.
      #expect(try plain(dynamics, rule, x) == nil)
    }
    // `recordEnergies: false` turns them off for an energy-descending rule too.
    #expect(
      try SynchronousDynamics(maxSteps: 5, recordEnergies: false).run(rule, from: x).trajectories[0].energies == nil)
    #expect(
      try AsynchronousDynamics(maxSteps: 5, recordEnergies: false).run(rule, from: x).trajectories[0].energies == nil)
  }

  @Test("a rule without an energy records none, concrete or not")
  func noEnergy() throws {
    let x = Matrix<Double>(rows: 2, columns: 3, repeating: 1)
    #expect(try SynchronousDynamics(maxSteps: 3).run(Halving(), from: x).trajectories.allSatisfy { $0.energies == nil })
    #expect(
      try AsynchronousDynamics(maxSteps: 3).run(Halving(), from: x).trajectories.allSatisfy { $0.energies == nil })
    let observed = try SynchronousDynamics(maxSteps: 3).run(Halving(), from: x) { step in #expect(step.energies == nil)
    }
    #expect(observed.finalStates[0, 0] == 0.125)
  }

  @Test("the observer overload of an EnergyDescending rule hands out its energies")
  func observerEnergies() throws {
    let energy = quadratic(seed: 4, d: 3)
    let rule = GradientDescent(energy, stepSize: 0.05)
    let x = Matrix<Double>(rows: 2, columns: 3, repeating: 0.5)
    var seen = 0
    _ = try SynchronousDynamics(maxSteps: 3).run(rule, from: x) { step in
      if let e = step.energies {
        seen += 1
        #expect(abs(e[0] - energy.energy(at: step.states.row(0))) < 1e-12)
      }
    }
    #expect(seen == 4)
  }
}
