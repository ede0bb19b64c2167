import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing

/// Reference values from Scripts/in_context_reference.py (Reference/in_context_reference.json,
/// GENERATED): NumPy's forward/backward pass of the attention, the context energy, and statistics
/// of the task generators drawn with NumPy's own generator.
@Suite("In-context denoising against the NumPy reference")
struct InContextReferenceTests {
  struct MeanSE: Decodable {
    var mean: Double
    var se: Double
  }
  struct AttentionCase: Decodable {
    var variant: String
    var contexts, queries, targets, keyQuery, projectionValue, outputs, keyQueryGradient,
      projectionValueGradient: [[Double]]
    var loss: Double
  }
  struct EnergyCase: Decodable {
    var context: [[Double]]
    var alpha, beta: Double
    var states: [[Double]]
    var energy: [Double]
    var gradient: [[Double]]
    var hessian: [[[Double]]]
  }
  struct TaskSpec: Decodable {
    var family: String
    var n, L: Int
    var d, p: Int?
    var signalVariance: Double?
    var noiseVariance: Double
    var R: Double?
  }
  struct GeneratorCase: Decodable {
    var task: TaskSpec
    var prompts: Int
    var signalPower, noisePower, sameOverlap, otherOverlap, bayesMSE, inContextMSE: MeanSE
  }
  struct Reference: Decodable {
    var attention: [AttentionCase]
    var energy: [EnergyCase]
    var generators: [GeneratorCase]
  }
  struct Prompts: AttentionPrompts {
    var contexts, queries, targets: Matrix<Double>
  }

  static let reference: Reference = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Reference/in_context_reference.json")
    return try! JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
  }()

  @Test("One forward and backward pass of linear and softmax attention match NumPy to rounding")
  func attention() throws {
    for c in Self.reference.attention {
      let model = try OneLayerAttention<Double>(
        variant: .init(rawValue: c.variant)!, keyQuery: Matrix(rowArrays: c.keyQuery),
        projectionValue: Matrix(rowArrays: c.projectionValue))
      let prompts = Prompts(
        contexts: Matrix(rowArrays: c.contexts), queries: Matrix(rowArrays: c.queries),
        targets: Matrix(rowArrays: c.targets))
      var ws = model.makeWorkspace(batchSize: prompts.queries.rows, contextLength: 5)
      let loss = model.lossAndGradients(prompts, workspace: &ws)
      #expect(abs(loss - c.loss) < 1e-12 * max(1, c.loss), "\(c.variant) loss")
      #expect(ws.outputs.maxAbsDifference(Matrix(rowArrays: c.outputs)) < 1e-12)
      #expect(ws.keyQueryGradient.maxAbsDifference(Matrix(rowArrays: c.keyQueryGradient)) < 1e-12)
      #expect(ws.projectionValueGradient.maxAbsDifference(Matrix(rowArrays: c.projectionValueGradient)) < 1e-12)
    }
  }

  @Test("The context energy, gradient and Hessian match NumPy to rounding")
  func energy() throws {
    for c in Self.reference.energy {
      let e = try ContextEnergy(context: Matrix(rowArrays: c.context), alpha: c.alpha, beta: c.beta)
      let states = Matrix(rowArrays: c.states)
      let values = e.energy(states)
      let gradient = e.gradient(states)
      for r in 0..<states.rows {
        #expect(abs(values[r] - c.energy[r]) < 1e-12 * max(1, abs(c.energy[r])))
        #expect(zip(gradient.row(r), c.gradient[r]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(e.hessian(at: states.row(r)).maxAbsDifference(Matrix(rowArrays: c.hessian[r])) < 1e-12)
      }
    }
  }

  @Test("Generator statistics and denoiser MSEs agree with NumPy's draws within 4.5 combined standard errors")
  func generators() throws {
    for c in Self.reference.generators {
      let t = c.task
      let task: DenoisingTask =
        switch t.family {
        case "subspace":
          try .subspace(
            dimension: t.n, subspaceDimension: t.d!, contextLength: t.L, signalVariance: t.signalVariance!,
            noiseVariance: t.noiseVariance)
        case "mixture":
          try .mixture(
            dimension: t.n, centreCount: t.p!, contextLength: t.L, clusterVariance: t.signalVariance!,
            noiseVariance: t.noiseVariance)
        default:
          try .spheres(
            dimension: t.n, subspaceDimension: t.d!, contextLength: t.L, radius: t.R!, noiseVariance: t.noiseVariance)
        }
      let batch: PromptBatch<Double> = DenoisingTaskSampler(task: task, seed: 77).batch(0, size: 3000)
      let n = t.n, l = t.L
      var power = [Double](), noise = [Double](), same = [Double](), other = [Double]()
      for b in 0..<batch.size {
        let x = batch.targets.row(b), q = batch.queries.row(b)
        power.append(x.reduce(0) { $0 + $1 * $1 })
        noise.append(zip(q, x).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) })
        let x0 = batch.contexts.row(b * l), x1 = batch.contexts.row(b * l + 1)
        same.append(pow(zip(x0, x1).reduce(0) { $0 + $1.0 * $1.1 }, 2))
        if b > 0 {
          let previous = batch.contexts.row((b - 1) * l)
          other.append(pow(zip(x0, previous).reduce(0) { $0 + $1.0 * $1.1 }, 2))
        }
      }
      func errors(_ m: Matrix<Double>) -> [Double] {
        (0..<batch.size).map { b in (0..<n).reduce(0) { $0 + pow(m[b, $1] - batch.targets[b, $1], 2) } }
      }
      let bayes = errors(BayesOptimalDenoiser.denoise(batch))
      let context = errors(try InContextDenoiser.denoise(batch))
      for (name, mine, ref) in [
        ("E‖x‖²", power, c.signalPower), ("E‖z‖²", noise, c.noisePower), ("same-prompt overlap", same, c.sameOverlap),
        ("other-prompt overlap", other, c.otherOverlap), ("Bayes MSE", bayes, c.bayesMSE),
        ("in-context MSE", context, c.inContextMSE),
      ] {
        let m = mine.reduce(0, +) / Double(mine.count)
        let v = mine.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(mine.count - 1)
        let se = (v / Double(mine.count) + ref.se * ref.se).squareRoot()
        #expect(abs(m - ref.mean) <= 4.5 * se + 1e-9, "\(t.family) \(name): Swift \(m), NumPy \(ref.mean) (SE \(se))")
      }
    }
  }
}
