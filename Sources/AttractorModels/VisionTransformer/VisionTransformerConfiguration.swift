import AttractorCore
import AttractorLinearAlgebra

/// Shape of a ``VisionTransformer``: a small vision transformer for square grey images, optionally
/// with the Associative Transformer's global-workspace layer between two of its blocks.
public struct VisionTransformerConfiguration: Sendable, Equatable, Codable {
  /// Side of the square input image, in pixels (28 for MNIST).
  public var imageSize: Int
  /// Side of a square patch; must divide `imageSize`. N = (imageSize / patchSize)² tokens.
  public var patchSize: Int
  /// Token width E.
  public var width: Int
  /// Number of pre-LayerNorm transformer blocks.
  public var depth: Int
  /// Self-attention heads per block (a divisor of E).
  public var heads: Int
  /// Hidden width of each block's feed-forward layer.
  public var hidden: Int
  /// Number of classes of the linear head.
  public var classes: Int
  /// ε of every LayerNorm.
  public var layerNormEpsilon: Double
  /// The global-workspace layer (the AiT), or `nil` for the plain vision transformer. Its
  /// `imageSize`, `patchSize` and `width` must equal this configuration's.
  public var workspace: GlobalWorkspaceConfiguration?
  /// The workspace layer acts on the token stream after this many blocks (1 … depth).
  public var workspaceAfterBlock: Int

  public init(
    imageSize: Int = 28, patchSize: Int = 4, width: Int = 64, depth: Int = 2, heads: Int = 4, hidden: Int = 128,
    classes: Int = 10, layerNormEpsilon: Double = 1e-5, workspace: GlobalWorkspaceConfiguration? = nil,
    workspaceAfterBlock: Int = 1
  ) {
    self.imageSize = imageSize
    self.patchSize = patchSize
    self.width = width
    self.depth = depth
    self.heads = heads
    self.hidden = hidden
    self.classes = classes
    self.layerNormEpsilon = layerNormEpsilon
    self.workspace = workspace
    self.workspaceAfterBlock = workspaceAfterBlock
  }

  /// Tokens per image N = (imageSize / patchSize)².
  public var patchCount: Int { (imageSize / max(1, patchSize)) * (imageSize / max(1, patchSize)) }

  /// Pixels per patch p².
  public var patchPixels: Int { patchSize * patchSize }

  /// Pixels per image.
  public var pixels: Int { imageSize * imageSize }

  /// Checks every setting; the first violated one is thrown.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)``.
  public func validate() throws(ModelError) {
    func fail(_ name: String, _ value: Any, _ requirement: String) -> ModelError {
      .invalidParameter(name: name, value: "\(value)", requirement: requirement)
    }
    guard patchSize >= 1 else { throw fail("patchSize", patchSize, "at least 1") }
    guard imageSize >= 1, imageSize % patchSize == 0 else {
      throw fail("imageSize", imageSize, "a positive multiple of the patch size (\(patchSize))")
    }
    guard width >= 1 else { throw fail("width", width, "at least 1") }
    guard depth >= 1 else { throw fail("depth", depth, "at least 1 block") }
    guard heads >= 1, width % heads == 0 else {
      throw fail("heads", heads, "at least 1 and a divisor of the width E = \(width)")
    }
    guard hidden >= 1 else { throw fail("hidden", hidden, "at least 1") }
    guard classes >= 2 else { throw fail("classes", classes, "at least 2") }
    guard layerNormEpsilon.isFinite, layerNormEpsilon > 0 else {
      throw fail("layerNormEpsilon", layerNormEpsilon, "finite and positive")
    }
    if let w = workspace {
      try w.validate()
      guard w.imageSize == imageSize, w.patchSize == patchSize, w.width == width else {
        throw fail(
          "workspace", "image \(w.imageSize), patch \(w.patchSize), width \(w.width)",
          "the transformer's image size \(imageSize), patch size \(patchSize) and width \(width)")
      }
      guard workspaceAfterBlock >= 1, workspaceAfterBlock <= depth else {
        throw fail("workspaceAfterBlock", workspaceAfterBlock, "between 1 and the depth \(depth)")
      }
    }
  }
}
