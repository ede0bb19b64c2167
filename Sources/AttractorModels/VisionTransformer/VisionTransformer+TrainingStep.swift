import AttractorCore
import AttractorLinearAlgebra

extension VisionTransformer {
  /// One training step on a labelled batch: the forward pass in training mode (the AiT's memory
  /// takes its EMA step), the gradient of the loss, and one ``AdamW`` update of every parameter.
  ///
  /// ```
  /// loss = CE(images, labels) (+ L_bal),   g = ∂loss/∂θ (memory held constant),   θ ← AdamW(θ, g)
  /// with MemoryUpdate.gradient:  γ ∈ θ (no weight decay),  then γ ← normalise_rows(γ)
  /// ```
  ///
  /// This is the step ``VisionTransformerTrainer`` takes for every minibatch, and what
  /// `attractor bench ait` times. `workspace` must be made for `images.rows` images and `gradient`
  /// be a model of the same shape (``zeroGradient()``; it is cleared here and holds this step's
  /// gradient afterwards). Inputs must be valid (``validate(images:labels:)``). A non-finite loss is
  /// returned without touching the parameters, for the caller to report.
  ///
  /// - Throws: ``ModelError`` if the workspace layer refuses its tokens (non-finite values).
  @discardableResult
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public mutating func trainingStep(
    images: Matrix<Scalar>, labels: [Int], optimizer: inout AdamW<Scalar>, workspace ws: inout Workspace,
    gradient: inout VisionTransformer
  ) throws(ModelError) -> (loss: Double, crossEntropy: Double, balance: Double) {
    let loss = try forward(images: images, labels: labels, training: true, workspace: &ws)
    guard loss.loss.isFinite else { return loss }
    gradient = zeroGradientReusing(gradient)
    backward(workspace: &ws, gradient: &gradient)
    var all = parameters
    // A trained memory (``MemoryUpdate/gradient``) gets no weight decay: its rows are renormalised
    // after the step, so shrinking them would only change the step's relative size.
    optimizer.undecayed = memoryParameterIndex.map { [$0] } ?? []
    optimizer.update(&all, gradients: gradient.parameters)
    parameters = all
    if trainsMemory { workspace!.projectMemoryOntoSphere() }
    return loss
  }
}
