import AttractorCore

/// Errors raised while reading or building a dataset: the one error type of the dataset layer
/// (``SyntheticGaussianDataset``, ``MNIST``, ``MNISTEmbedding`` and the data files of comparative
/// studies).
public enum DatasetError: InvalidParameterError, Equatable, Sendable, CustomStringConvertible {
  /// A size parameter is out of range.
  case invalidParameter(name: String, value: String, requirement: String)
  /// A data file is missing; `hint` says how to get it (empty when there is nothing to add).
  case missingFile(path: String, hint: String)
  /// A data file could not be read or has the wrong contents.
  case badFile(path: String, reason: String)
  /// A linear-algebra step (the PCA eigen-decomposition) failed.
  case numerics(String)

  public var description: String {
    switch self {
    case .invalidParameter(let name, let value, let requirement):
      return "dataset parameter \(name) = \(value) is invalid: it must be \(requirement)"
    case .missingFile(let path, let hint):
      return "no such file: \(path)" + (hint.isEmpty ? "" : "; \(hint)")
    case .badFile(let path, let reason):
      return "the data file \(path) is unusable: \(reason)"
    case .numerics(let reason):
      return "a linear-algebra step failed while building the dataset: \(reason)"
    }
  }
}
