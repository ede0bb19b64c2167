import AttractorCore
import AttractorLinearAlgebra

/// How a model reads and writes states: real vectors, or ±1 units.
public enum StateEncoding: String, Sendable, Codable, Equatable {
  /// Patterns and queries are used as given.
  case real
  /// Patterns and queries are binarised with ``/AttractorExperiments/Binarization`` first: patterns
  /// by sign (0 ↦ +1), queries by sign keeping exact zeros (a masked unit stays "unknown").
  case binary
}

/// How the regime of an end state (single pattern, metastable mixture, global average) is judged
/// for a model.
public enum RegimeRule: String, Sendable, Codable, Equatable {
  /// From the model's ``/AttractorCore/AssociativeMemory/separation(_:)`` weights, which for
  /// attention-type models are the softmax attention p over the stored patterns:
  /// k₉₀ = fewest patterns holding 90 % of the weight; k₉₀ = 1 single pattern,
  /// global average when every pattern carries at least a tenth of 1/N, else metastable (the
  /// weight part of ``/AttractorAnalysis/ClassificationThresholds``' default rule).
  case attentionWeights
  /// Not reported ("n/a"): the model's weights are not a distribution over retrieved patterns
  /// (for ±1 models they are shares of squared overlaps, spread even at an exact retrieval).
  case notApplicable
}

/// The type of a model parameter in a study file.
public enum StudyParameterKind: Sendable, Equatable {
  case number
  case integer
  case boolean
  /// A string from a fixed list.
  case choice([String])
  /// Any string (for example a file path).
  case string

  var summary: String {
    switch self {
    case .number: "a number"
    case .integer: "an integer"
    case .boolean: "true or false"
    case .choice(let options): "one of " + options.map { "\"\($0)\"" }.joined(separator: ", ")
    case .string: "a string"
    }
  }
}

/// One parameter a ``StudyModelFactory`` accepts: name, type, default, and the rule its value must
/// satisfy.
public struct StudyParameter: Sendable {
  /// Key in the model's object in the study file.
  public var name: String
  public var kind: StudyParameterKind
  /// One line for `attractor compare list-models` and error messages.
  public var summary: String
  /// Value used when the key is absent; `nil` makes the parameter required.
  public var defaultValue: StudyValue?
  /// What a valid value is, in words ("finite and > 0"); checked by ``isValid``.
  public var requirement: String?
  /// Extra check of a value of the right kind (`nil`: any value of the kind).
  public var isValid: (@Sendable (StudyValue) -> Bool)?

  public init(
    name: String, kind: StudyParameterKind, summary: String, defaultValue: StudyValue? = nil,
    requirement: String? = nil,
    isValid: (@Sendable (StudyValue) -> Bool)? = nil
  ) {
    self.name = name
    self.kind = kind
    self.summary = summary
    self.defaultValue = defaultValue
    self.requirement = requirement
    self.isValid = isValid
  }

  /// A number that must be finite and > 0.
  public static func positiveNumber(_ name: String, summary: String, default value: Double? = nil) -> StudyParameter {
    StudyParameter(
      name: name, kind: .number, summary: summary, defaultValue: value.map { .number($0) },
      requirement: "finite and > 0",
      isValid: { v in (v.number ?? 0) > 0 && (v.number ?? .infinity).isFinite })
  }

  /// An integer in `range`.
  public static func integer(_ name: String, summary: String, default value: Int? = nil, range: ClosedRange<Int>)
    -> StudyParameter
  {
    StudyParameter(
      name: name, kind: .integer, summary: summary, defaultValue: value.map { .number(Double($0)) },
      requirement: "from \(range.lowerBound) to \(range.upperBound)",
      isValid: { v in v.integer.map(range.contains) ?? false })
  }
}

/// The validated parameter values of one model entry (defaults filled in).
public struct StudyParameterValues: Sendable, Equatable, Codable {
  /// Value of each parameter of the factory's schema.
  public var values: [String: StudyValue]

  public init(_ values: [String: StudyValue]) { self.values = values }

  /// A number parameter (validated, so present when the schema declares it with a default or as required).
  public func number(_ name: String) -> Double { values[name]?.number ?? .nan }
  public func integer(_ name: String) -> Int { values[name]?.integer ?? 0 }
  public func string(_ name: String) -> String { values[name]?.string ?? "" }
  public func boolean(_ name: String) -> Bool { values[name]?.boolean ?? false }
}

/// A problem with a model's parameters found by the factory itself (beyond the schema's per-value
/// checks), such as a combination of values that is not allowed.
public struct StudyParameterError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The parameter at fault.
  public var parameter: String
  public var message: String

  public init(parameter: String, message: String) {
    self.parameter = parameter
    self.message = message
  }

  public var description: String { "\(parameter): \(message)" }
}

/// Makes one kind of associative memory for comparative studies: its name in study files, its
/// parameters, how it encodes states, and how to build it on a set of patterns.
///
/// The study runner knows models only through this protocol and the
/// ``/AttractorCore/UpdateRule`` and ``/AttractorCore/AssociativeMemory`` protocols of the model
/// it makes, so a new model joins every study by conforming and being registered in a
/// ``StudyModelRegistry``; the study code does not change.
///
/// ```
/// study file entry  {"model": name, "label"?: text, <parameters>}
///   → schema check (types, ranges, unknown keys)  → init(parameters)  → check(dimension:patternCount:)
///   → per cell: make(patterns: encoded patterns, seed:)  → SynchronousDynamics on encoded queries
/// ```
///
/// Properties the runner relies on: `make` is deterministic given `patterns` and `seed`; the
/// model's `patterns` are the rows accuracy is measured against (nearest by cosine); its
/// `Scalar` is `Double`. The energy column is reported for models that are
/// ``/AttractorCore/EnergyDescending`` (decided at compile time, when the factory conforms: a
/// factory generic over its model gets the column only if its constraints say `EnergyDescending`).
public protocol StudyModelFactory: Sendable {
  /// The model built for a cell.
  associatedtype Model: UpdateRule & AssociativeMemory where Model.Scalar == Double

  /// Name in study files (`"model": "modern"`).
  static var name: String { get }
  /// One line describing the model, with its formula.
  static var summary: String { get }
  /// The parameters a study file may give (any other key is an error).
  static var parameters: [StudyParameter] { get }

  /// A factory from validated parameter values (each present and of its kind).
  ///
  /// - Throws: ``StudyParameterError`` for combinations the schema cannot express.
  init(parameters: StudyParameterValues) throws(StudyParameterError)

  /// Short label in tables and legends (`modern β=0.25`); a study file may override it.
  var label: String { get }
  /// Real or ±1 states.
  var encoding: StateEncoding { get }
  /// How end states are classified into regimes.
  var regimeRule: RegimeRule { get }
  /// Problems with using this model on patterns of this shape (for example heads not dividing d);
  /// empty when fine.
  func check(dimension: Int, patternCount: Int) -> [String]
  /// The model storing `patterns` (already encoded); `seed` drives any random parameters.
  func make(patterns: Matrix<Double>, seed: UInt64) throws -> Model
  /// The model's theoretical capacity at dimension d by a published formula (default `nil`).
  func capacity(dimension: Int) -> StudyCapacity?

  /// Builds the model for one cell and runs it. Provided: do not implement. The runner calls it so
  /// that the cell is run where `Model`'s concrete type is known; the default is picked when the
  /// factory declares its conformance: with the energy column E(q₀) − E(q_T) when `Model` is
  /// ``/AttractorCore/EnergyDescending``, without it (n/a) otherwise.
  func run(_ cell: StudyCellRun) throws(StudyRunError) -> StudyCellResult
}

/// A model's theoretical storage capacity at dimension d: the number of patterns K it can store
/// and retrieve, by a published formula, for the load figure of a study.
public struct StudyCapacity: Sendable, Equatable, Codable {
  /// K at dimension d.
  public var patterns: Double
  /// The formula and its source, in one line ("0.138·d (Amit, Gutfreund & Sompolinsky 1985)").
  public var formula: String

  public init(patterns: Double, formula: String) {
    self.patterns = patterns
    self.formula = formula
  }
}

extension StudyModelFactory {
  public var regimeRule: RegimeRule { encoding == .real ? .attentionWeights : .notApplicable }
  /// The model's theoretical capacity at dimension d, when a published formula gives one
  /// (default: none).
  public func capacity(dimension: Int) -> StudyCapacity? { nil }
  public func check(dimension: Int, patternCount: Int) -> [String] { [] }
}

/// The models a study may name, by ``StudyModelFactory/name``.
///
/// ```swift
/// var registry = StudyModelRegistry.standard
/// registry.register(MyModelFactory.self)
/// let spec = try StudySpec.parse(data, registry: registry)
/// ```
public struct StudyModelRegistry: Sendable {
  /// Factories in registration order.
  public private(set) var factories: [any StudyModelFactory.Type]

  public init(_ factories: [any StudyModelFactory.Type] = []) { self.factories = factories }

  /// The built-in models: classical, modern, dense-polynomial, dense-exponential, attention,
  /// pseudo-likelihood, global-workspace (the last needs a trained AiT folder, so the built-in
  /// study does not use it).
  public static let standard = StudyModelRegistry([
    ClassicalHopfieldFactory.self, ModernHopfieldFactory.self, DensePolynomialFactory.self,
    DenseExponentialFactory.self,
    IterativeAttentionFactory.self,
    PseudoLikelihoodFactory.self,
    GlobalWorkspaceFactory.self,
  ])

  /// Adds a factory; a later factory with the same name replaces the earlier one.
  public mutating func register(_ factory: any StudyModelFactory.Type) {
    factories.removeAll { $0.name == factory.name }
    factories.append(factory)
  }

  /// The factory type named `name`, if registered.
  public func factory(named name: String) -> (any StudyModelFactory.Type)? { factories.first { $0.name == name } }

  /// Registered names, in order.
  public var names: [String] { factories.map { $0.name } }
}
