// The concrete (non-generic) inner loops of the dense associative memory. Everything here works on
// Int32 ±1 states and exact Int32 overlaps, with the interaction reduced to a table of
// D(x) = F(x+1) − F(x−1) (or log D) over the integers |x| ≤ N − 1, so the hot path is specialised
// in this module whatever the interaction type (generic code called across modules runs
// unspecialised; see Docs/Architecture.md).

/// Cache of rows R_j[x] = exp(L[x] − L[j]) for log-space decisions (a few rows, round robin).
struct LogRowCache: Sendable {
  static let slots = 4
  var keys: [Int]
  var rows: [Double]
  var next = 0
  let width: Int

  init(width: Int, enabled: Bool) {
    self.width = width
    keys = [Int](repeating: -1, count: LogRowCache.slots)
    rows = enabled ? [Double](repeating: 0, count: LogRowCache.slots * width) : []
  }
}

struct DenseKernel: Sendable {
  /// Number of units N.
  let units: Int
  /// Number of patterns K.
  let count: Int
  /// ξ transposed: element i·K + μ is ξ^μ_i (unit-major, so one unit's K entries are contiguous).
  let unitMajor: [Int32]
  /// Pattern-major copy: element μ·N + i is ξ^μ_i.
  let patternMajor: [Int32]
  /// D(x) at index x + N − 1 (table mode), or log D(x) (log mode).
  let table: [Double]
  /// Whether `table` holds log D and decisions are made relative to the largest term.
  let logMode: Bool

  var offset: Int { units - 1 }

  /// Builds the tables. Returns `nil` if a tabulated value is not finite (the interaction must
  /// then provide `logDifference`).
  init?(patterns: [Int32], count: Int, units: Int, interaction: some InteractionFunction) {
    self.units = units
    self.count = count
    self.patternMajor = patterns
    var transposed = [Int32](repeating: 0, count: units * count)
    for mu in 0..<count {
      for i in 0..<units { transposed[i * count + mu] = patterns[mu * units + i] }
    }
    self.unitMajor = transposed
    let width = 2 * units - 1
    var values = [Double](repeating: 0, count: width)
    var useLog = interaction.logDifference(at: 0) != nil
    if useLog {
      for j in 0..<width {
        guard let l = interaction.logDifference(at: j - (units - 1)), !l.isNaN, l < .infinity else {
          useLog = false
          break
        }
        values[j] = l
      }
    }
    if !useLog {
      for j in 0..<width {
        let d = interaction.difference(at: j - (units - 1))
        guard d.isFinite else { return nil }
        values[j] = d
      }
    }
    self.table = values
    self.logMode = useLog
  }

  func makeCache() -> LogRowCache { LogRowCache(width: 2 * units - 1, enabled: logMode) }

  /// m_μ = Σ_i ξ^μ_i σ_i for all μ, from scratch (O(N·K)).
  func computeOverlaps(state: UnsafePointer<Int32>, into m: UnsafeMutablePointer<Int32>) {
    let k = count
    for mu in 0..<k { m[mu] = 0 }
    unitMajor.withUnsafeBufferPointer { xi in
      let base = xi.baseAddress!
      for i in 0..<units {
        let s = state[i]
        let row = base + i * k
        for mu in 0..<k { m[mu] &+= row[mu] &* s }
      }
    }
  }

  /// The new value of unit i (±1) given its current value `s` and the overlaps m of the current
  /// state: sign Σ_μ ξ^μ_i D(m_μ − ξ^μ_i s); a zero sum keeps `s`.
  @inline(__always)
  func decide(unit i: Int, current s: Int32, overlaps m: UnsafePointer<Int32>, cache: inout LogRowCache) -> Int32 {
    let sum =
      logMode ? logSum(unit: i, current: s, overlaps: m, cache: &cache) : tableSum(unit: i, current: s, overlaps: m)
    return sum > 0 ? 1 : (sum < 0 ? -1 : s)
  }

  /// Σ_μ ξ^μ_i D(x_μ), x_μ = m_μ − ξ^μ_i s, from the D table (four accumulators; for integer
  /// tables below 2⁵³ every order of summation gives the exact sum).
  @inline(__always)
  func tableSum(unit i: Int, current s: Int32, overlaps m: UnsafePointer<Int32>) -> Double {
    let k = count
    return unitMajor.withUnsafeBufferPointer { xi in
      table.withUnsafeBufferPointer { t in
        let row = xi.baseAddress! + i * k
        let d = t.baseAddress! + (units - 1)
        var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
        var mu = 0
        while mu + 4 <= k {
          let p0 = row[mu], p1 = row[mu + 1], p2 = row[mu + 2], p3 = row[mu + 3]
          a0 += Double(p0) * d[Int(m[mu] &- p0 &* s)]
          a1 += Double(p1) * d[Int(m[mu + 1] &- p1 &* s)]
          a2 += Double(p2) * d[Int(m[mu + 2] &- p2 &* s)]
          a3 += Double(p3) * d[Int(m[mu + 3] &- p3 &* s)]
          mu += 4
        }
        while mu < k {
          let p = row[mu]
          a0 += Double(p) * d[Int(m[mu] &- p &* s)]
          mu += 1
        }
        return (a0 + a1) + (a2 + a3)
      }
    }
  }

  /// Σ_μ ξ^μ_i exp(L(x_μ) − L_max): the same sum as `tableSum` divided by the largest |term|
  /// (a positive factor, so the sign is unchanged), with no overflow whatever the size of D.
  @inline(__always)
  func logSum(unit i: Int, current s: Int32, overlaps m: UnsafePointer<Int32>, cache: inout LogRowCache) -> Double {
    let k = count
    let width = 2 * units - 1
    return unitMajor.withUnsafeBufferPointer { xi in
      table.withUnsafeBufferPointer { t in
        let row = xi.baseAddress! + i * k
        let l = t.baseAddress! + (units - 1)
        // Pass 1: the index of the largest log D among the terms.
        var best = -Double.infinity
        var bestX: Int32 = 0
        for mu in 0..<k {
          let x = m[mu] &- row[mu] &* s
          let v = l[Int(x)]
          if v > best {
            best = v
            bestX = x
          }
        }
        if best == -Double.infinity { return 0 }
        let key = Int(bestX) + units - 1
        // The row exp(L[x] − L[key]) for every x, cached.
        var slot = -1
        for c in 0..<LogRowCache.slots where cache.keys[c] == key { slot = c }
        if slot < 0 {
          slot = cache.next
          cache.next = (cache.next + 1) % LogRowCache.slots
          cache.keys[slot] = key
          let top = t[key]
          cache.rows.withUnsafeMutableBufferPointer { r in
            for j in 0..<width { r[slot * width + j] = _exp(t[j] - top) }
          }
        }
        return cache.rows.withUnsafeBufferPointer { r in
          let e = r.baseAddress! + slot * width + (units - 1)
          var a0 = 0.0, a1 = 0.0
          var mu = 0
          while mu + 2 <= k {
            let p0 = row[mu], p1 = row[mu + 1]
            a0 += Double(p0) * e[Int(m[mu] &- p0 &* s)]
            a1 += Double(p1) * e[Int(m[mu + 1] &- p1 &* s)]
            mu += 2
          }
          if mu < k {
            let p = row[mu]
            a0 += Double(p) * e[Int(m[mu] &- p &* s)]
          }
          return a0 + a1
        }
      }
    }
  }

  /// After unit i changed to `newValue`: m_μ += 2 ξ^μ_i · newValue (O(K)).
  @inline(__always)
  func applyFlip(unit i: Int, newValue: Int32, overlaps m: UnsafeMutablePointer<Int32>) {
    let k = count
    let twice = 2 &* newValue
    unitMajor.withUnsafeBufferPointer { xi in
      let row = xi.baseAddress! + i * k
      for mu in 0..<k { m[mu] &+= row[mu] &* twice }
    }
  }

  /// One asynchronous sweep in the given order; returns the number of units that changed.
  @inline(__always)
  func sweep(
    state: UnsafeMutablePointer<Int32>, overlaps m: UnsafeMutablePointer<Int32>, order: UnsafeBufferPointer<Int>,
    cache: inout LogRowCache
  ) -> Int {
    var flips = 0
    for i in order {
      let s = state[i]
      let new = decide(unit: i, current: s, overlaps: m, cache: &cache)
      if new != s {
        state[i] = new
        applyFlip(unit: i, newValue: new, overlaps: m)
        flips += 1
      }
    }
    return flips
  }
}

@inline(__always)
func _exp(_ x: Double) -> Double {
  x == -.infinity ? 0 : exp(x)
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
