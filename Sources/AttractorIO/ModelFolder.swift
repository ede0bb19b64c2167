import Foundation

/// A model on disk: one folder holding a JSON configuration, a safetensors weights file and a model
/// card, validated when read and written atomically.
///
/// ```
/// <folder>/config.json           a JSON object naming the model kind (and a format version)
/// <folder>/weights.safetensors   the parameters
/// <folder>/CARD.md               how the model was made and what it scores
/// ```
///
/// The file names are a ``Layout``: ``Layout/attractors`` is the layout above (the folders of
/// `Models/`); ``Layout/huggingFace`` opens a Hugging Face Transformers folder such as a BERT
/// checkpoint (`config.json`, `model.safetensors`, `vocab.txt`); any other layout is a
/// `Layout(config:weights:card:requiredFiles:)` away. The kind string is looked up under a
/// caller-chosen key (``Kind``): `"format"` for this project's iterative-attention folders,
/// `"model"` or `"architecture"` for new formats, `"model_type"` or `"architectures"` for
/// Hugging Face configurations. What the tensors must be is the caller's ``TensorExpectation``
/// list, so the model code (for example `IterativeAttentionModelFolder` in AttractorModels)
/// states its names, shapes and dtypes and this type checks them.
public struct ModelFolder: Sendable, Equatable {
  /// The file names of a model folder.
  public struct Layout: Sendable, Equatable {
    /// The JSON configuration.
    public var config: String
    /// The safetensors weights.
    public var weights: String
    /// The model card, written by ``ModelFolder/write(to:layout:config:tensors:metadata:card:extraFiles:)``
    /// and never required when reading (nil: the layout has none).
    public var card: String?
    /// Other files that must exist when the folder is opened (such as a tokenizer vocabulary).
    public var requiredFiles: [String]

    public init(config: String, weights: String, card: String?, requiredFiles: [String] = []) {
      self.config = config
      self.weights = weights
      self.card = card
      self.requiredFiles = requiredFiles
    }

    /// This project's layout: `config.json`, `weights.safetensors`, `CARD.md`.
    public static let attractors = Layout(config: "config.json", weights: "weights.safetensors", card: "CARD.md")
    /// A Hugging Face Transformers folder (BERT): `config.json`, `model.safetensors` and `vocab.txt`,
    /// with `README.md` as the card.
    public static let huggingFace = Layout(
      config: "config.json", weights: "model.safetensors", card: "README.md", requiredFiles: ["vocab.txt"])
  }

  /// The model kind a configuration must declare.
  public struct Kind: Sendable, Equatable, CustomStringConvertible {
    /// The configuration key holding the kind: a string, or an array of strings that must contain
    /// ``name`` (Hugging Face's `"architectures"`).
    public var key: String
    /// The expected kind.
    public var name: String
    /// The key holding the integer format version, or nil when the format has none.
    public var versionKey: String?
    /// The versions this code reads.
    public var versions: ClosedRange<Int>

    public init(key: String, name: String, versionKey: String? = nil, versions: ClosedRange<Int> = 1...1) {
      self.key = key
      self.name = name
      self.versionKey = versionKey
      self.versions = versions
    }

    public var description: String {
      let v = versions.count == 1 ? "\(versions.lowerBound)" : "\(versions.lowerBound)…\(versions.upperBound)"
      return "\(key) \(name)" + (versionKey.map { " with \($0) \(v)" } ?? "")
    }
  }

  /// What one tensor of the weights file must be.
  public struct TensorExpectation: Sendable, Equatable {
    public var name: String
    /// The shape; nil entries accept any size on that axis.
    public var shape: [Int?]
    /// The element type, or nil for any.
    public var dtype: DType?
    /// Whether the tensor may be absent.
    public var isOptional: Bool

    public init(_ name: String, shape: [Int?], dtype: DType? = .float32, isOptional: Bool = false) {
      self.name = name
      self.shape = shape
      self.dtype = dtype
      self.isOptional = isOptional
    }
  }

  /// The folder.
  public let url: URL
  /// Its file names.
  public let layout: Layout

  /// Opens the folder at `url`: checks that the configuration, the weights and the layout's
  /// required files exist (nothing is read yet).
  ///
  /// - Throws: ``ModelFolderError/notAFolder(path:reason:)`` when `url` is missing or a file,
  ///   ``ModelFolderError/missingFile(path:)`` for the first missing file.
  public init(opening url: URL, layout: Layout = .attractors) throws(ModelFolderError) {
    self.url = url
    self.layout = layout
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
      throw .notAFolder(path: url.path, reason: "it does not exist")
    }
    guard isDirectory.boolValue else {
      throw .notAFolder(
        path: url.path,
        reason: "it is a file, not a folder (a model folder holds \(layout.config) and \(layout.weights))")
    }
    for name in [layout.config, layout.weights] + layout.requiredFiles {
      let path = url.appendingPathComponent(name).path
      guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path: path) }
    }
  }

  /// The URL of file `name` in the folder.
  public func file(_ name: String) -> URL { url.appendingPathComponent(name) }
  public var configURL: URL { file(layout.config) }
  public var weightsURL: URL { file(layout.weights) }

  /// The configuration's bytes, after checking that they are a JSON object declaring `kind`
  /// (when given) with a supported version.
  ///
  /// - Throws: ``ModelFolderError/unreadableConfig(path:reason:)``,
  ///   ``ModelFolderError/wrongKind(path:expected:found:)`` or
  ///   ``ModelFolderError/unsupportedVersion(path:expected:found:)``.
  public func configData(kind: Kind?) throws(ModelFolderError) -> Data {
    let path = configURL.path
    let data: Data
    if let problem = fileProblem(at: configURL) { throw .unreadableConfig(path: path, reason: problem) }
    do { data = try Data(contentsOf: configURL) } catch { throw .unreadableConfig(path: path, reason: "\(error)") }
    return try Self.checkConfig(data, kind: kind, path: path)
  }

  /// The checks of ``configData(kind:)`` on configuration bytes already in memory; `path` only
  /// names the file in errors. Returns `data` unchanged.
  public static func checkConfig(_ data: Data, kind: Kind?, path: String) throws(ModelFolderError) -> Data {
    let object: [String: Any]
    do {
      guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw ModelFolderError.unreadableConfig(path: path, reason: "the top level is not a JSON object")
      }
      object = o
    } catch let error as ModelFolderError {
      throw error
    } catch {
      // Foundation's JSON errors describe themselves as "NSCocoaErrorDomain error 3840"; the
      // debug description says where and what.
      let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
      throw .unreadableConfig(path: path, reason: "not valid JSON: \(detail)")
    }
    guard let kind else { return data }
    let declared = object[kind.key]
    let found: String
    switch declared {
    case let s as String:
      found = s
      guard s == kind.name else { throw .wrongKind(path: path, expected: kind.description, found: "\(kind.key) \(s)") }
    case let a as [Any]:
      let names = a.compactMap { $0 as? String }
      found = names.joined(separator: ", ")
      guard names.contains(kind.name) else {
        throw .wrongKind(path: path, expected: kind.description, found: "\(kind.key) [\(found)]")
      }
    default:
      throw .wrongKind(path: path, expected: kind.description, found: "no string \(kind.key)")
    }
    if let versionKey = kind.versionKey {
      guard let number = object[versionKey] as? NSNumber, let version = Int(exactly: number.doubleValue) else {
        throw .unsupportedVersion(path: path, expected: kind.description, found: "no integer \(versionKey)")
      }
      guard kind.versions.contains(version) else {
        throw .unsupportedVersion(path: path, expected: kind.description, found: "\(found) \(versionKey) \(version)")
      }
    }
    return data
  }

  /// The configuration decoded as `T`, after the checks of ``configData(kind:)``.
  ///
  /// - Throws: the errors of ``configData(kind:)``, or ``ModelFolderError/invalidConfig(path:reason:)``
  ///   when the JSON does not decode as `T`.
  public func config<T: Decodable>(
    _ type: T.Type, kind: Kind?, decoder: JSONDecoder = JSONDecoder()
  ) throws(ModelFolderError) -> T {
    let data = try configData(kind: kind)
    do {
      return try decoder.decode(T.self, from: data)
    } catch {
      throw .invalidConfig(path: configURL.path, reason: decodingErrorSummary(error))
    }
  }

  /// The configuration bytes `data` checked as in ``checkConfig(_:kind:path:)`` and decoded as `T`;
  /// `path` only names the file in errors.
  public static func decodeConfig<T: Decodable>(
    _ type: T.Type, from data: Data, kind: Kind?, path: String, decoder: JSONDecoder = JSONDecoder()
  ) throws(ModelFolderError) -> T {
    let data = try checkConfig(data, kind: kind, path: path)
    do {
      return try decoder.decode(T.self, from: data)
    } catch {
      throw .invalidConfig(path: path, reason: decodingErrorSummary(error))
    }
  }

  /// The weights, after checking every expectation (name present unless optional, shape, dtype).
  /// Tensors not in `expectations` are returned as well unless `allowingOthers` is false.
  ///
  /// - Throws: ``ModelFolderError/unreadableWeights(path:reason:)``,
  ///   ``ModelFolderError/missingTensor(path:name:)``,
  ///   ``ModelFolderError/tensorMismatch(path:name:reason:)``.
  public func tensors(
    expecting expectations: [TensorExpectation], allowingOthers: Bool = true
  ) throws(ModelFolderError) -> [String: Tensor] {
    let path = weightsURL.path
    let tensors: [String: Tensor]
    do { tensors = try SafeTensorsFile.read(from: weightsURL).tensors } catch {
      // A tensor deleted from the header leaves its bytes behind as a gap in the buffer: name the
      // missing tensor rather than the gap.
      if let names = Self.headerTensorNames(of: weightsURL),
        let missing = expectations.first(where: { !$0.isOptional && !names.contains($0.name) })
      {
        throw .missingTensor(path: path, name: missing.name)
      }
      throw .unreadableWeights(path: path, reason: "\(error)")
    }
    for e in expectations {
      guard let t = tensors[e.name] else {
        if e.isOptional { continue }
        throw .missingTensor(path: path, name: e.name)
      }
      let shapeMatches = t.rank == e.shape.count && zip(t.shape, e.shape).allSatisfy { $1 == nil || $0 == $1 }
      guard shapeMatches else {
        let expected = "[" + e.shape.map { $0.map(String.init) ?? "any" }.joined(separator: ", ") + "]"
        throw .tensorMismatch(path: path, name: e.name, reason: "shape \(t.shape), expected \(expected)")
      }
      if let dtype = e.dtype, t.dtype != dtype {
        throw .tensorMismatch(
          path: path, name: e.name, reason: "dtype \(t.dtype.safeTensorsName), expected \(dtype.safeTensorsName)")
      }
    }
    if !allowingOthers {
      let known = Set(expectations.map(\.name))
      if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
        throw .tensorMismatch(
          path: path, name: extra, reason: "no place in this model (its configuration expects no such tensor)")
      }
    }
    return tensors
  }

  /// The tensor names in the JSON header of the safetensors file at `url`, or nil when the header
  /// cannot be read (used only to explain a file the strict reader refused).
  static func headerTensorNames(of url: URL) -> Set<String>? {
    guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
    defer { try? handle.close() }
    guard let prefix = try? handle.read(upToCount: 8), prefix.count == 8 else { return nil }
    let length = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    guard length <= 100_000_000, let header = try? handle.read(upToCount: Int(length)), header.count == Int(length),
      let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any]
    else { return nil }
    return Set(object.keys.filter { $0 != "__metadata__" })
  }

  /// Writes a model folder at `url` atomically: every file goes into a new sibling folder which
  /// then replaces `url` as a whole, so a reader sees either the old folder or the complete new one.
  ///
  /// An existing `url` is replaced only when it is an empty folder or a model folder of this
  /// layout (nothing in it but the layout's files and `extraFiles`): a folder holding anything else
  /// is refused before anything is written, so pointing a save at the wrong folder loses nothing.
  ///
  /// - Parameters:
  ///   - url: The folder to write (created, or replaced as described above).
  ///   - layout: The file names (``Layout/attractors`` by default).
  ///   - config: The configuration's bytes (it should declare the kind the reader expects).
  ///   - tensors: The weights, written as the layout's safetensors file.
  ///   - metadata: The safetensors file's `__metadata__` strings.
  ///   - card: The model card, written when the layout has one.
  ///   - extraFiles: Other files by name (such as a vocabulary).
  /// - Throws: ``ModelFolderError/writeFailed(path:reason:)``.
  public static func write(
    to url: URL, layout: Layout = .attractors, config: Data, tensors: [String: Tensor],
    metadata: [String: String] = [:], card: String?, extraFiles: [String: Data] = [:]
  ) throws(ModelFolderError) {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    if manager.fileExists(atPath: url.path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        throw .writeFailed(path: url.path, reason: "a file of that name exists; choose a new folder")
      }
      let replaceable = Set([layout.config, layout.weights] + [layout.card].compactMap { $0 } + extraFiles.keys)
      let present = (try? manager.contentsOfDirectory(atPath: url.path)) ?? []
      let others = present.filter { !replaceable.contains($0) }.sorted()
      if !others.isEmpty {
        throw .writeFailed(
          path: url.path,
          reason:
            "the folder holds other files (\(others.prefix(3).joined(separator: ", "))\(others.count > 3 ? ", …" : "")) "
            + "and would be replaced; choose an empty or new folder")
      }
    }
    let url = url.standardizedFileURL
    let parent = url.deletingLastPathComponent()
    let token = UUID().uuidString
    let staging = parent.appendingPathComponent(".\(url.lastPathComponent).partial-\(token)")
    do {
      try manager.createDirectory(at: staging, withIntermediateDirectories: true)
      try SafeTensorsFile.write(tensors, metadata: metadata, to: staging.appendingPathComponent(layout.weights))
      try writeAtomically(config, to: staging.appendingPathComponent(layout.config))
      if let name = layout.card, let card {
        try writeAtomically(Data(card.utf8), to: staging.appendingPathComponent(name))
      }
      for (name, data) in extraFiles { try writeAtomically(data, to: staging.appendingPathComponent(name)) }
      if manager.fileExists(atPath: url.path) {
        let old = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(token)")
        try manager.moveItem(at: url, to: old)
        do {
          try manager.moveItem(at: staging, to: url)
        } catch {
          try? manager.moveItem(at: old, to: url)
          throw error
        }
        try? manager.removeItem(at: old)
      } else {
        try manager.moveItem(at: staging, to: url)
      }
    } catch {
      try? manager.removeItem(at: staging)
      throw .writeFailed(path: url.path, reason: AtomicFile.reason(for: error))
    }
  }
}

/// Errors reading or writing a ``ModelFolder``; each names the file and what is wrong.
public enum ModelFolderError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The folder itself does not exist or is not a folder.
  case notAFolder(path: String, reason: String)
  /// A file the layout requires does not exist.
  case missingFile(path: String)
  /// The configuration cannot be read or is not a JSON object.
  case unreadableConfig(path: String, reason: String)
  /// The configuration declares another kind of model.
  case wrongKind(path: String, expected: String, found: String)
  /// The configuration's format version is missing or not one this code reads.
  case unsupportedVersion(path: String, expected: String, found: String)
  /// The configuration's contents are invalid for the model.
  case invalidConfig(path: String, reason: String)
  /// The weights file cannot be read.
  case unreadableWeights(path: String, reason: String)
  /// An expected tensor is absent.
  case missingTensor(path: String, name: String)
  /// A tensor has the wrong shape or dtype, or is not expected.
  case tensorMismatch(path: String, name: String, reason: String)
  /// Writing the folder failed (nothing was replaced).
  case writeFailed(path: String, reason: String)

  public var description: String {
    switch self {
    case .notAFolder(let path, let reason):
      return "\(path) is not a model folder: \(reason)"
    case .missingFile(let path):
      return "the model folder is incomplete: \(path) does not exist"
    case .unreadableConfig(let path, let reason):
      return "the model configuration \(path) cannot be read: \(reason)"
    case .wrongKind(let path, let expected, let found):
      return "the model configuration \(path) declares \(found); this reader expects \(expected)"
    case .unsupportedVersion(let path, let expected, let found):
      return "the model configuration \(path) has \(found); this reader expects \(expected)"
    case .invalidConfig(let path, let reason):
      return "the model configuration \(path) is invalid: \(reason)"
    case .unreadableWeights(let path, let reason):
      return "the model weights \(path) cannot be read: \(reason)"
    case .missingTensor(let path, let name):
      return "the model weights \(path) are invalid: tensor \(name) is missing"
    case .tensorMismatch(let path, let name, let reason):
      return "the model weights \(path) are invalid: \(name) has \(reason)"
    case .writeFailed(let path, let reason):
      return "cannot write the model folder \(path): \(reason)"
    }
  }
}

/// A `Decodable` failure in words, with the JSON path of the problem ("missing key
/// history.bestEpoch", "configuration.width: expected Int"), instead of the `DecodingError` dump
/// with its coding keys; other errors as they describe themselves.
public func decodingErrorSummary(_ error: any Error) -> String {
  func path(_ keys: [any CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      .trimmingCharacters(in: CharacterSet(charactersIn: "."))
  }
  func at(_ keys: [any CodingKey]) -> String { keys.isEmpty ? "" : "\(path(keys)): " }
  guard let error = error as? DecodingError else { return "\(error)" }
  switch error {
  case .keyNotFound(let key, let context):
    return "missing key \(path(context.codingPath + [key]))"
  case .typeMismatch(let type, let context):
    return "\(at(context.codingPath))expected \(type)"
  case .valueNotFound(let type, let context):
    return "\(at(context.codingPath))expected \(type), found null"
  case .dataCorrupted(let context):
    let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
    return "\(at(context.codingPath))\(underlying ?? context.debugDescription)"
  @unknown default:
    return "\(error)"
  }
}
