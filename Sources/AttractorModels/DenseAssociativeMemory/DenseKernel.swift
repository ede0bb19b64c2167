// The concrete (non-generic) inner loops of the dense associative memory. Everything here works on
// Int32 ±1 states and exact Int32 overlaps, with the interaction reduced to a table of
// D(x) = F(x+1) − F(x−1) (or log D) over the integers |x| ≤ N − 1, so the hot path is specialised
// in this module whatever the interaction type (generic code called across modules runs
// unspecialised; see Docs/Architecture.md). The batched synchronous update works on ±1 doubles
// with two DGEMMs.

import AttractorLinearAlgebra

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
  /// ξ as doubles, pattern-major (K × N), for the GEMMs of `synchronousUpdate`.
  let patternDoubles: [Double]
  /// Whether the synchronous update of a batch runs through two GEMMs (`synchronousUpdate`):
  /// in table mode when every D(x) is an integer and K · max |D| ≤ 2⁵¹, so that every sum is
  /// exact and the decisions are those of `tableSum`, ties included; in log mode when
  /// |log D(x + 2) − log D(x)| ≤ 8 everywhere (no term of a unit is lost relative to the row's
  /// largest, and the split into A and C below loses at most e⁸ ulps of a term).
  let batchable: Bool

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
    self.patternDoubles = patterns.map { Double($0) }
    if useLog {
      batchable = width < 3 || (0..<(width - 2)).allSatisfy { abs(values[$0 + 2] - values[$0]) <= 8 }
    } else {
      let largest = values.reduce(0) { max($0, abs($1)) }
      batchable = values.allSatisfy { $0 == $0.rounded() } && Double(count) * largest <= 0x1p51
    }
  }

  /// Scratch of `synchronousUpdate` for a batch of B states.
  struct BatchBuffers: Sendable {
    /// ±1 states (B × N), then the decisions.
    var signs: [Double] = []
    /// Overlaps M = S Ξᵀ (B × K), then the weights A.
    var overlaps: [Double] = []
    /// A Ξ (B × N).
    var fields: [Double] = []
    /// c_r = Σ_μ C_μ (B).
    var rowTerms: [Double] = []
    /// exp(L(x) − L(key)) over the table (log mode), for the key `expKey`.
    var expRow: [Double] = []
    var expKey = -1
    /// Log mode: the exact overlaps (B × K) and Σ_μ (A_μ + |C_μ|) per row, for near-ties.
    var exact: [Int32] = []
    var bounds: [Double] = []
    /// Σ ξ^μᵢ per x for one unit (`groupedLogSum`), zero between uses.
    var counts: [Int32] = []
    var rows = -1

    mutating func fit(rows b: Int, units n: Int, count k: Int, width: Int) {
      guard rows != b else { return }
      signs = [Double](repeating: 0, count: b * n)
      overlaps = [Double](repeating: 0, count: b * k)
      fields = [Double](repeating: 0, count: b * n)
      rowTerms = [Double](repeating: 0, count: b)
      expRow = [Double](repeating: 0, count: width)
      expKey = -1
      exact = [Int32](repeating: 0, count: b * k)
      bounds = [Double](repeating: 0, count: b)
      if counts.count != width { counts = [Int32](repeating: 0, count: width) }
      rows = b
    }
  }

  /// The synchronous decisions of a batch in two GEMMs. For ±1 states, ξ^μᵢσᵢ = t = ±1 and
  ///
  /// ```
  /// ξ^μᵢ D(m_μ − t) = ξ^μᵢ A_μ + σᵢ C_μ,   A_μ = (D(m_μ − 1) + D(m_μ + 1))/2,   C_μ = (D(m_μ − 1) − D(m_μ + 1))/2
  /// σᵢ ← sign( Σ_μ A_μ ξ^μᵢ + σᵢ Σ_μ C_μ )    (a zero sum keeps σᵢ)
  /// ```
  ///
  /// so M = S Ξᵀ (GEMM), A and c_r = Σ_μ C_μ per row, and A Ξ (GEMM). At m_μ = ±N the value
  /// D(±(N + 1)) lies outside the table and is multiplied by zero (every t equals sign(m_μ)); it
  /// is replaced by D(±(N − 1)), which gives the same sum. In log mode every D is divided by the
  /// row's largest exp(L), a positive factor; there the sums are rounded (unlike the exact integer
  /// sums of table mode), so a unit whose sum is within 10⁻⁸ of the row's Σ_μ (A_μ + |C_μ|) of
  /// zero is decided again from its terms grouped by x (`groupedLogSum`), where terms that cancel
  /// exactly (equal x, opposite ξ) cancel in integers: an exact tie keeps σᵢ. `buffers.signs` holds the B × N ±1 states on
  /// entry and the decisions (±1) on return. Requires `batchable` and B ≥ 1.
  func synchronousUpdate(rows b: Int, buffers: inout BatchBuffers) {
    let n = units, k = count
    let width = 2 * n - 1
    buffers.signs.withUnsafeMutableBufferPointer { s in
      buffers.overlaps.withUnsafeMutableBufferPointer { m in
        buffers.fields.withUnsafeMutableBufferPointer { f in
          buffers.rowTerms.withUnsafeMutableBufferPointer { c in
            patternDoubles.withUnsafeBufferPointer { xi in
              Double.gemm(
                transposeA: false, transposeB: true, m: b, n: k, k: n, alpha: 1, a: s.baseAddress!, lda: n,
                b: xi.baseAddress!, ldb: n, beta: 0, c: m.baseAddress!, ldc: k)
              table.withUnsafeBufferPointer { t in
                for r in 0..<b {
                  let row = m.baseAddress! + r * k
                  if logMode {
                    // The largest log D among the two candidates of every pattern.
                    var top = 0
                    for mu in 0..<k {
                      let (lo, hi) = Self.neighbours(Int(row[mu].rounded()), units: n)
                      let j = t[lo] >= t[hi] ? lo : hi
                      if mu == 0 || t[j] > t[top] { top = j }
                    }
                    if top != buffers.expKey {
                      let l = t[top]
                      buffers.expRow.withUnsafeMutableBufferPointer { e in
                        for j in 0..<width { e[j] = _exp(t[j] - l) }
                      }
                      buffers.expKey = top
                    }
                    var sum = 0.0, bound = 0.0
                    buffers.expRow.withUnsafeBufferPointer { e in
                      buffers.exact.withUnsafeMutableBufferPointer { exact in
                        for mu in 0..<k {
                          let overlap = Int(row[mu].rounded())
                          exact[r * k + mu] = Int32(overlap)
                          let (lo, hi) = Self.neighbours(overlap, units: n)
                          row[mu] = 0.5 * (e[lo] + e[hi])
                          sum += 0.5 * (e[lo] - e[hi])
                          bound += e[lo] > e[hi] ? e[lo] : e[hi]
                        }
                      }
                    }
                    c[r] = sum
                    buffers.bounds[r] = bound
                  } else {
                    var sum = 0.0
                    for mu in 0..<k {
                      let (lo, hi) = Self.neighbours(Int(row[mu].rounded()), units: n)
                      row[mu] = 0.5 * (t[lo] + t[hi])
                      sum += 0.5 * (t[lo] - t[hi])
                    }
                    c[r] = sum
                  }
                }
              }
              Double.gemm(
                transposeA: false, transposeB: false, m: b, n: n, k: k, alpha: 1, a: m.baseAddress!, lda: k,
                b: xi.baseAddress!, ldb: n, beta: 0, c: f.baseAddress!, ldc: n)
              for r in 0..<b {
                let cr = c[r]
                let nearTie = logMode ? 1e-8 * buffers.bounds[r] : 0
                for i in 0..<n {
                  let sigma = s[r * n + i]
                  let v = f[r * n + i] + cr * sigma
                  if logMode && abs(v) <= nearTie {
                    let current: Int32 = sigma > 0 ? 1 : -1
                    let sum = buffers.exact.withUnsafeBufferPointer { exact in
                      buffers.counts.withUnsafeMutableBufferPointer { counts in
                        groupedLogSum(unit: i, current: current, overlaps: exact.baseAddress! + r * k, counts: counts)
                      }
                    }
                    s[r * n + i] = sum > 0 ? 1 : (sum < 0 ? -1 : sigma)
                  } else {
                    s[r * n + i] = v > 0 ? 1 : (v < 0 ? -1 : sigma)
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// Σ_μ ξ^μᵢ D(x_μ) / max D, x_μ = m_μ − ξ^μᵢ s, in log mode with the terms grouped by x first:
  /// n_x = Σ_{μ: x_μ = x} ξ^μᵢ (exact integers), then Σ_x n_x exp(L(x) − L_max) over the x with
  /// n_x ≠ 0 — exactly 0 when every group cancels. `counts` (width 2N − 1) must be zero on entry
  /// and is zero on return. O(K + N).
  func groupedLogSum(
    unit i: Int, current s: Int32, overlaps m: UnsafePointer<Int32>, counts: UnsafeMutableBufferPointer<Int32>
  ) -> Double {
    let k = count
    var low = Int.max, high = Int.min
    unitMajor.withUnsafeBufferPointer { xi in
      let row = xi.baseAddress! + i * k
      for mu in 0..<k {
        let j = Int(m[mu] &- row[mu] &* s) + units - 1
        counts[j] &+= row[mu]
        low = min(low, j)
        high = max(high, j)
      }
    }
    guard low <= high else { return 0 }
    return table.withUnsafeBufferPointer { t in
      var top = -Double.infinity
      for j in low...high where counts[j] != 0 { top = max(top, t[j]) }
      var sum = 0.0
      for j in low...high where counts[j] != 0 {
        if top > -.infinity { sum += Double(counts[j]) * _exp(t[j] - top) }
        counts[j] = 0
      }
      return sum
    }
  }

  /// Table indices of m − 1 and m + 1 for an overlap m of N ±1 units (|m| ≤ N, m ≡ N mod 2);
  /// at m = ±N the index outside the table is replaced by the other one (its weight is zero).
  @inline(__always)
  static func neighbours(_ m: Int, units n: Int) -> (Int, Int) {
    let lo = m - 1 + n - 1, hi = m + 1 + n - 1
    if m >= n { return (lo, lo) }
    if m <= -n { return (hi, hi) }
    return (lo, hi)
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
