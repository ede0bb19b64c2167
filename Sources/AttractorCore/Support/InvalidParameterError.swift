/// An error type with a case for a parameter out of range, so that the modules' validations share
/// one ``check(_:_:_:_:)`` and one sentence for it (``invalidParameterMessage(name:value:requirement:)``).
///
/// An enum conforms by having the case `invalidParameter(name:value:requirement:)`; each module
/// keeps its own typed error and its own description.
public protocol InvalidParameterError: Error {
  /// Parameter `name` has `value`, which does not meet `requirement` ("at least 1", "in (0, 1]").
  static func invalidParameter(name: String, value: String, requirement: String) -> Self
}

extension InvalidParameterError {
  /// Throws ``invalidParameter(name:value:requirement:)`` for `name` and `value` unless `condition`
  /// holds; `requirement` completes "must be …".
  public static func check(
    _ condition: Bool, _ name: String, _ value: some CustomStringConvertible, _ requirement: String
  ) throws(Self) {
    if !condition { throw invalidParameter(name: name, value: "\(value)", requirement: requirement) }
  }

  /// `name = value is invalid: must be requirement`: how most modules describe the case.
  public static func invalidParameterMessage(name: String, value: String, requirement: String) -> String {
    "\(name) = \(value) is invalid: must be \(requirement)"
  }
}
