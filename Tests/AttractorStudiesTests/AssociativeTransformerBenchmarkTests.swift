import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import AttractorStudies
import Foundation
import Testing

/// Speed is never asserted: only that the benchmark runs on a tiny batch, times what it says, and
/// writes inputs from which the step it timed can be recomputed.
@Suite("bench ait: one training step of the small AiT and plain ViT")
struct AssociativeTransformerBenchmarkTests {
  @Test("both models run on a tiny batch; the report has their sizes, finite losses and --json round-trips")
  func tinyRun() throws {
    var b = AssociativeTransformerBenchmark()
    b.batchSize = 2
    b.repetitions = 2
    let report = try b.run()
    #expect(report.rows.map(\.workspace) == ["gw", "none"])
    #expect(report.rows.map(\.parameterCount) == [80_202, 71_946])
    for row in report.rows {
      #expect(row.stepRuns.count == 2 && row.stepSeconds > 0 && row.forwardSeconds > 0 && row.backwardSeconds > 0)
      #expect(row.forwardSeconds + row.backwardSeconds + row.updateSeconds <= row.stepRuns.max()! * 1.5)
      // An untrained ten-class model starts near log 10 (plus a small balance loss for the AiT).
      #expect(row.firstLoss.isFinite && abs(row.firstLoss - Foundation.log(10)) < 1.5)
    }
    #expect(report.markdown.contains("OpenBLAS threads") && report.markdown.contains("AiT (--workspace gw)"))
    let decoded = try JSONDecoder().decode(
      AssociativeTransformerBenchmark.Report.self, from: try JSONEncoder().encode(report))
    #expect(decoded == report)
  }

  @Test("the inputs written hold the model, the batch and one step: forward + backward + AdamW, recomputed here")
  func inputsRecomputed() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-ait-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    var b = AssociativeTransformerBenchmark()
    b.batchSize = 3
    b.repetitions = 1
    b.workspaces = ["gw"]
    b.inputsFolder = folder
    _ = try b.run()
    let dir = folder.appendingPathComponent("gw")
    let loaded = try VisionTransformerModelFolder.load(from: dir.appendingPathComponent("model")).model
    let fresh = try VisionTransformer<Float>(
      configuration: AssociativeTransformerBenchmark.configuration(workspace: "gw"), seed: 0)
    #expect(loaded.parameters == fresh.parameters)
    #expect(loaded.workspace?.memory == fresh.workspace?.memory)
    let step = try SafeTensorsFile.read(from: dir.appendingPathComponent("step.safetensors"))
    let images = try step.tensor(named: "images").matrix(as: Float.self)
    let batch = AssociativeTransformerBenchmark.batch(size: 3, seed: 0)
    #expect(images == batch.images)
    #expect(try step.tensor(named: "labels").int64Values() == batch.labels.map { Int64($0) })
    #expect(batch.labels.allSatisfy { (0..<10).contains($0) })
    #expect(batch.images.elements.allSatisfy { $0 >= 0 && $0 < 1 })

    // The step recomputed by hand: forward in training mode (EMA), backward, then AdamW's first step.
    var model = fresh
    var ws = model.makeWorkspace(batchSize: 3)
    let loss = try model.forward(images: batch.images, labels: batch.labels, training: true, workspace: &ws)
    var gradient = model.zeroGradient()
    model.backward(workspace: &ws, gradient: &gradient)
    let record = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("step.json")))
    let json = try #require(record as? [String: Any])
    // (JSONSerialization may read the last digit differently; the loss itself is the same computation.)
    #expect(abs(try #require(json["loss"] as? Double) - loss.loss) < 1e-12)
    // OpenBLAS's results depend on its thread count, which other suites running beside this one may
    // change, so the recomputed products agree to a tolerance, not bitwise.
    func close(_ a: Matrix<Float>, _ b: Matrix<Float>, _ what: String) {
      #expect(a.rows == b.rows && a.columns == b.columns, "\(what): shape")
      let scale = max(b.elements.map { abs($0) }.max() ?? 0, 1e-6)
      let gap = zip(a.elements, b.elements).map { abs($0 - $1) }.max() ?? 0
      #expect(gap <= 1e-4 * scale, "\(what): max |Δ| \(gap) at scale \(scale)")
    }
    close(
      try step.tensor(named: "updated.workspace.memory").matrix(as: Float.self), try #require(model.workspace).memory,
      "memory after the EMA")
    var saved: [Matrix<Float>] = []
    for (k, name) in model.parameterNames.enumerated() {
      let g = try step.tensor(named: "gradient.\(name)").matrix(as: Float.self)
      close(g, gradient.parameters[k], "gradient.\(name)")
      saved.append(g)
    }
    // AdamW's first step is elementwise: from the saved gradient it must give the saved update exactly.
    var optimizer = AdamW<Float>(learningRate: 2e-3, weightDecay: 0.05)
    var all = model.parameters
    optimizer.update(&all, gradients: saved)
    for (k, name) in model.parameterNames.enumerated() {
      #expect(try step.tensor(named: "updated.\(name)").matrix(as: Float.self) == all[k], "updated.\(name)")
    }
    // The bottleneck's value and output weights get no gradient (the memory is a state).
    #expect(try step.tensor(named: "gradient.workspace.value").matrix(as: Float.self).elements.allSatisfy { $0 == 0 })
    #expect(try step.tensor(named: "gradient.workspace.squash").matrix(as: Float.self).elements.contains { $0 != 0 })
  }

  @Test("bad settings are refused with a clear error")
  func refusals() throws {
    var b = AssociativeTransformerBenchmark()
    b.batchSize = 0
    #expect { try b.run() } throws: { "\($0)".contains("batchSize") }
    b.batchSize = 2
    b.workspaces = ["gw", "transformer"]
    #expect { try b.run() } throws: { "\($0)".contains("gw or none") }
    b.workspaces = []
    #expect { try b.run() } throws: { "\($0)".contains("workspace") }
    b.workspaces = ["none"]
    b.learningRate = .nan
    #expect { try b.run() } throws: { "\($0)".contains("learningRate") }
  }
}
