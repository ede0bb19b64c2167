import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file write that failed: the destination and the system's reason in words (such as "No space
/// left on device" or "File too large").
public struct FileWriteError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file that was to be written.
  public var path: String
  /// Why the write failed, in words.
  public var reason: String

  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  public var description: String { "could not write \(path): \(reason)" }
}

/// Atomic file writes with failures described in words.
public enum AtomicFile {
  /// Writes `data` to `url` atomically: the bytes go to a new hidden temporary file in the
  /// destination's folder (`.<name>.tmp-<uuid>`), are flushed to the disk and the file is renamed
  /// over `url`. A reader sees the old file or the complete new one; when any step fails (a full
  /// disk, a file-size limit, a folder that cannot be written) the temporary file is removed, any
  /// old file at `url` is left as it was, and the error names the system's reason.
  ///
  /// - Throws: ``FileWriteError``.
  public static func write(_ data: Data, to url: URL) throws(FileWriteError) {
    let path = url.path
    let temporary = url.deletingLastPathComponent().appendingPathComponent(
      ".\(url.lastPathComponent).tmp-\(UUID().uuidString)"
    ).path
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw FileWriteError(path: path, reason: systemReason(errno)) }
    var failure: Int32? = data.withUnsafeBytes { raw -> Int32? in
      guard let base = raw.baseAddress else { return nil }
      var offset = 0
      while offset < raw.count {
        let n = Foundation.write(fd, base + offset, raw.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          return errno
        }
        offset += n
      }
      return nil
    }
    if failure == nil, fsync(fd) != 0 { failure = errno }
    if close(fd) != 0, failure == nil { failure = errno }
    if failure == nil, rename(temporary, path) != 0 { failure = errno }
    if let failure {
      unlink(temporary)
      throw FileWriteError(path: path, reason: systemReason(failure))
    }
  }

  /// The words for a failed file operation's error: the POSIX reason when the error (or an error
  /// under it) carries one, otherwise its description.
  public static func reason(for error: any Error) -> String {
    if let error = error as? FileWriteError { return error.reason }
    let ns = error as NSError
    if ns.domain == NSPOSIXErrorDomain { return systemReason(Int32(ns.code)) }
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? any Error { return reason(for: underlying) }
    if ns.domain != NSCocoaErrorDomain { return "\(error)" }
    return ns.localizedDescription
  }

  /// `strerror` of `code`, with a hint for the two ways a disk refuses more bytes.
  static func systemReason(_ code: Int32) -> String {
    let words = String(cString: strerror(code))
    switch code {
    case ENOSPC: return "\(words) (the disk is full; free some space and run again)"
    case EFBIG: return "\(words) (a file-size limit was reached; the disk or `ulimit -f` refuses more bytes)"
    case EDQUOT: return "\(words) (the disk quota is used up)"
    default: return words
    }
  }
}

/// Writes `data` to `url` atomically (``AtomicFile/write(_:to:)``).
func writeAtomically(_ data: Data, to url: URL) throws(FileWriteError) {
  try AtomicFile.write(data, to: url)
}
