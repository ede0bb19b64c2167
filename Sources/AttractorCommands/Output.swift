import ArgumentParser
import Attractors
import Foundation

/// An error that ends a command with a message for the user and exit status 1.
///
/// ArgumentParser prints `Error: ` followed by ``description``.
public struct CommandFailure: Error, CustomStringConvertible, Equatable {
  /// What went wrong and, where possible, what to do about it.
  public let message: String

  public init(_ message: String) { self.message = message }

  public var description: String { message }
}

/// Writes a line to standard error (notes and warnings, kept off stdout so `--json` stays clean).
func printToStandardError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Prints a command's output, ending it with exactly one line break.
func printOutput(_ text: String) {
  print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
}

/// A command that computes its result (`execute()`, which tests call) and prints it as
/// `render(_:)` makes it (a table, or JSON with --json).
public protocol ResultPrintingCommand: ParsableCommand {
  associatedtype Result
  /// Runs the command without printing.
  func execute() throws -> Result
  /// What `run()` prints for `result`.
  func render(_ result: Result) throws -> String
}

extension ResultPrintingCommand {
  public func run() throws {
    printOutput(try render(execute()))
  }
}

/// The project's number formatter (``NumberFormat``), under the name the commands use.
typealias Format = NumberFormat

/// Runs `body`, turning a library's ``InputError`` (and any other error) into a ``CommandFailure``.
func failingAsCommand<T>(_ body: () throws -> T) throws -> T {
  do { return try body() } catch let error as CommandFailure { throw error } catch { throw CommandFailure("\(error)") }
}

/// Runs `body` during validation, turning a library's ``InputError`` into a `ValidationError`.
func failingAsValidation(_ body: () throws -> Void) throws {
  do { try body() } catch let error as InputError { throw ValidationError(error.message) }
}
