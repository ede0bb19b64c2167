import AttractorCore
import AttractorLinearAlgebra

/// The small Associative Transformer (AiT) trained here: a ``VisionTransformer`` with one
/// ``GlobalWorkspaceLayer`` between its blocks.
///
/// ```
/// patches → embedding + positions → block 1 → GlobalWorkspaceLayer → block 2 … → mean pool → LN → head
/// ```
///
/// Where and why: the workspace acts after the first block (``VisionTransformerConfiguration/workspaceAfterBlock``
/// = 1), so that the patches it selects and reconstructs are already contextualised by one round of
/// self-attention (raw patch embeddings of a 4 × 4 patch carry little beyond local stroke pieces),
/// and at least one block follows it, so that the rest of the network can use the retrieved
/// reconstruction rather than only the head. The paper places a global-workspace layer in every
/// block; one layer keeps the study's ablations attributable to a single memory.
public enum AssociativeTransformer {
  /// The AiT configuration: `base` (a plain ViT configuration) with a workspace of M priors of
  /// width D, `heads` bottleneck heads of k admitted patches, Hopfield retrieval at β with T steps,
  /// the memory's training step `memoryUpdate` (``MemoryUpdate``), the scope of the top-k
  /// selection (``SelectionScope``) and the priors' competition (``PriorCompetition``).
  public static func configuration(
    base: VisionTransformerConfiguration, priorCount: Int = 32, priorWidth: Int = 32, heads: Int = 4,
    bottleneck: Int = 16, beta: Double = 1, hopfieldSteps: Int = 3, memoryMomentum: Double? = 0.9,
    balanceCoefficient: Double = 0.01, priorInitialization: PriorInitialization = .gaussian, afterBlock: Int = 1,
    memoryUpdate: MemoryUpdate = .ema, selectionScope: SelectionScope = .image, competition: PriorCompetition = .none
  ) -> VisionTransformerConfiguration {
    var c = base
    c.workspace = GlobalWorkspaceConfiguration(
      imageSize: base.imageSize, patchSize: base.patchSize, width: base.width, priorCount: priorCount,
      priorWidth: priorWidth, heads: heads, bottleneck: bottleneck, beta: beta, hopfieldSteps: hopfieldSteps,
      memoryMomentum: memoryMomentum, balanceCoefficient: balanceCoefficient, priorInitialization: priorInitialization,
      memoryUpdate: memoryUpdate, selectionScope: selectionScope, competition: competition)
    c.workspaceAfterBlock = afterBlock
    return c
  }
}

extension VisionTransformer {
  /// The same trained model with the workspace's retrieval changed for testing: β and T replaced
  /// when given, or the retrieval switched off (`enabled` false; see ``retrievalEnabled``). The
  /// weights and the memory are kept.
  ///
  /// - Throws: ``ModelError`` for a plain transformer (no workspace) or an invalid β or T.
  public func withRetrieval(beta: Double? = nil, steps: Int? = nil, enabled: Bool = true) throws(ModelError)
    -> VisionTransformer
  {
    guard let layer = workspace else {
      throw .invalidParameter(name: "workspace", value: "none", requirement: "an AiT (a model with a workspace layer)")
    }
    var c = layer.configuration
    if let beta { c.beta = beta }
    if let steps { c.hopfieldSteps = steps }
    var model = self
    model.workspace = try GlobalWorkspaceLayer(configuration: c, parameters: layer.parameters, memory: layer.memory)
    model.configuration.workspace = c
    model.retrievalEnabled = enabled
    return model
  }
}
