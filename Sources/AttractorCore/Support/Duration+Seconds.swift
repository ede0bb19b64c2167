extension Duration {
  /// The duration in seconds, as a `Double` (attosecond resolution of `Duration` kept to double
  /// precision).
  public var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) * 1e-18
  }
}

/// Times `body` on the continuous clock and returns its result with the elapsed seconds.
public func measureSeconds<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> (result: T, seconds: Double) {
  let clock = ContinuousClock()
  let start = clock.now
  let result = try body()
  return (result, (clock.now - start).seconds)
}
