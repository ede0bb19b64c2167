import AttractorExperiments
import AttractorIO
import Foundation

extension StudySpec {
  /// Reads a study file and checks all of it: JSON syntax, unknown keys, types, ranges, model
  /// names and parameters (against `registry`), duplicate labels, levels, and that every data
  /// file exists and has a usable shape. Relative paths are resolved against `baseDirectory`.
  ///
  /// - Throws: ``StudySpecError`` with **every** problem found, each with its JSON path.
  public static func load(
    from url: URL, registry: StudyModelRegistry = .standard, baseDirectory: URL? = nil
  ) throws(StudySpecError) -> Study {
    if let problem = fileProblem(at: url) {
      throw StudySpecError(
        file: url.path, issues: [StudySpecIssue(path: "$", message: "cannot read the study file: \(problem)")])
    }
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw StudySpecError(
        file: url.path,
        issues: [StudySpecIssue(path: "$", message: "cannot read the study file: \(error.localizedDescription)")])
    }
    return try parse(
      data, registry: registry, file: url.path, baseDirectory: baseDirectory ?? url.deletingLastPathComponent())
  }

  /// Parses and checks a study file's bytes (see ``load(from:registry:baseDirectory:)``).
  public static func parse(
    _ data: Data, registry: StudyModelRegistry = .standard, file: String? = nil, baseDirectory: URL? = nil
  ) throws(StudySpecError) -> Study {
    let tree: StudyValue
    do {
      tree = try JSONDecoder().decode(StudyValue.self, from: data)
    } catch {
      throw StudySpecError(
        file: file, issues: [StudySpecIssue(path: "$", message: "not valid JSON: \(jsonErrorSummary(error))")])
    }
    // JSONDecoder keeps one value of a repeated key silently; a study file must say each thing once.
    let duplicates = (JSONDuplicateKeys.find(in: [UInt8](data)) ?? []).map {
      StudySpecIssue(path: $0, message: "this key appears more than once in its object; give each key once")
    }
    do throws(StudySpecError) {
      let study = try validate(tree, registry: registry, file: file, baseDirectory: baseDirectory)
      guard duplicates.isEmpty else { throw StudySpecError(file: file, issues: duplicates) }
      return study
    } catch {
      throw StudySpecError(file: file, issues: duplicates + error.issues.filter { !duplicates.contains($0) })
    }
  }

  /// Checks a parsed study file (see ``load(from:registry:baseDirectory:)``).
  public static func validate(
    _ tree: StudyValue, registry: StudyModelRegistry = .standard, file: String? = nil, baseDirectory: URL? = nil
  ) throws(StudySpecError) -> Study {
    var c = IssueCollector()
    guard let top = c.object(tree, at: "$", allowed: topLevelKeys) else {
      throw StudySpecError(file: file, issues: c.issues)
    }

    let name = c.string(top["name"], at: "$.name", default: "study") ?? "study"
    let queries = c.integer(top["queries"], at: "$.queries", default: 128, range: 1...maxQueries) ?? 1
    var tolerance = 1e-6
    if let t = c.number(top["tolerance"], at: "$.tolerance", default: 1e-6) {
      if t.isFinite && t >= 0 { tolerance = t } else { c.add("$.tolerance", "must be finite and ≥ 0, got \(t)") }
    }

    var precision = StudyPrecision.float
    if let text = c.string(top["precision"], at: "$.precision", default: StudyPrecision.float.rawValue) {
      if let p = StudyPrecision(rawValue: text) {
        precision = p
      } else {
        c.add(
          "$.precision",
          "unknown precision \"\(text)\"; use one of \(StudyPrecision.allCases.map(\.rawValue).joined(separator: ", "))"
        )
      }
    }

    var steps: [Int] = []
    if let items = c.array(top["steps"] ?? .array([1, 5, 10].map { .number($0) }), at: "$.steps") {
      for (i, v) in items.enumerated() {
        if let t = c.integer(v, at: "$.steps[\(i)]", range: 1...maxSteps) {
          if steps.contains(t) { c.add("$.steps[\(i)]", "T = \(t) appears twice") } else { steps.append(t) }
        }
      }
      steps.sort()
    }

    var seeds: [UInt64] = []
    if let items = c.array(top["seeds"] ?? .array([0, 1, 2].map { .number($0) }), at: "$.seeds") {
      for (i, v) in items.enumerated() {
        if let s = c.integer(v, at: "$.seeds[\(i)]", range: 0...(1 << 53)) {
          if seeds.contains(UInt64(s)) {
            c.add("$.seeds[\(i)]", "seed \(s) appears twice")
          } else {
            seeds.append(UInt64(s))
          }
        }
      }
    }

    // Datasets first: the models are checked against their shapes.
    var datasets: [StudyDataset] = []
    var sources: [DatasetSource] = []
    if let items = c.array(top["datasets"], at: "$.datasets") {
      for (i, v) in items.enumerated() {
        if let (dataset, source) = parseDataset(
          v, at: "$.datasets[\(i)]", baseDirectory: baseDirectory, precision: precision, into: &c)
        {
          if datasets.contains(where: { $0.label == dataset.label }) {
            c.add(
              "$.datasets[\(i)].label",
              "label \"\(dataset.label)\" is used by another dataset; give each a distinct \"label\"")
          }
          datasets.append(dataset)
          sources.append(source)
        }
      }
    }

    var corruptions: [StudyCorruption] = []
    if let items = c.array(top["corruptions"], at: "$.corruptions") {
      for (i, v) in items.enumerated() {
        let path = "$.corruptions[\(i)]"
        guard let o = c.object(v, at: path, allowed: ["kind", "levels"]) else { continue }
        let kindName = c.string(o["kind"], at: "\(path).kind")
        guard let kindName else { continue }
        guard let kind = Corruption.Kind(rawValue: kindName) else {
          c.add(
            "\(path).kind",
            "unknown corruption \"\(kindName)\"; use one of \(Corruption.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
          )
          continue
        }
        if kind == .none {
          if o["levels"] != nil { c.add("\(path).levels", "a \"none\" corruption has no levels; remove \"levels\"") }
          corruptions.append(StudyCorruption(kind: .none, levels: [0]))
          continue
        }
        guard let levels = c.array(o["levels"], at: "\(path).levels") else { continue }
        var good: [Double] = []
        for (j, lv) in levels.enumerated() {
          guard let x = c.number(lv, at: "\(path).levels[\(j)]") else { continue }
          if case .failure(let e) = Result(catching: { () throws(CorruptionError) in
            try Corruption(kind: kind, level: x).validate()
          }) {
            c.add("\(path).levels[\(j)]", "\(e)")
          } else if kind == .noise && x > maxNoiseLevel {
            c.add(
              "\(path).levels[\(j)]",
              "a noise σ of at most \(compactNumber(maxNoiseLevel)) is accepted (larger ones overflow the queries), got \(x)"
            )
          } else if good.contains(x) {
            c.add("\(path).levels[\(j)]", "level \(compactNumber(x)) appears twice")
          } else {
            good.append(x)
          }
        }
        if corruptions.contains(where: { $0.kind == kind }) {
          c.add("\(path).kind", "corruption \"\(kindName)\" appears twice; list all its levels in one entry")
        }
        corruptions.append(StudyCorruption(kind: kind, levels: good))
        if kind == .overlap {
          for (k, d) in datasets.enumerated() where sources[k].patternCount < 2 {
            c.add(
              "\(path).kind",
              "overlap blends two stored patterns, but dataset \(k) (\(d.label)) has \(sources[k].patternCount)")
          }
        }
      }
    }

    var models: [StudyModelEntry] = []
    var factories: [any StudyModelFactory] = []
    if let items = c.array(top["models"], at: "$.models") {
      for (i, v) in items.enumerated() {
        let path = "$.models[\(i)]"
        guard case .object(let o) = v else {
          c.add(path, "must be an object such as {\"model\": \"modern\", \"beta\": 0.25}, got \(v.typeName) \(v)")
          continue
        }
        guard let modelName = c.string(o["model"], at: "\(path).model") else { continue }
        guard let factoryType = registry.factory(named: modelName) else {
          c.add(
            "\(path).model",
            "unknown model \"\(modelName)\"; registered models: \(registry.names.joined(separator: ", "))")
          continue
        }
        let schema = factoryType.parameters
        let allowed = ["model", "label"] + schema.map(\.name)
        for key in o.keys.sorted() where !allowed.contains(key) {
          c.add(
            "\(path).\(key)",
            "unknown parameter \"\(key)\" for model \"\(modelName)\"; it takes \(schema.isEmpty ? "no parameters" : schema.map(\.name).joined(separator: ", "))"
          )
        }
        var values: [String: StudyValue] = [:]
        var valid = true
        for p in schema {
          let ppath = "\(path).\(p.name)"
          guard let value = o[p.name] ?? p.defaultValue else {
            c.add(ppath, "is required (\(p.summary), \(p.kind.summary))")
            valid = false
            continue
          }
          if let problem = check(value, against: p) {
            c.add(ppath, problem)
            valid = false
            continue
          }
          values[p.name] = value
        }
        let label = o["label"].map { c.string($0, at: "\(path).label") } ?? nil
        guard valid else { continue }
        let factory: any StudyModelFactory
        do {
          factory = try factoryType.init(parameters: StudyParameterValues(values))
        } catch {
          c.add("\(path).\(error.parameter)", error.message)
          continue
        }
        for (k, d) in datasets.enumerated() {
          for problem in factory.check(dimension: sources[k].dimension, patternCount: sources[k].patternCount) {
            c.add(path, "\(problem) (dataset \(k), \(d.label))")
          }
          if case .streamed = sources[k], !streams(factoryType) {
            c.add(
              "\(path).model",
              "model \"\(modelName)\" cannot run on the streamed dataset \(k) (\(d.label)): \(streamingRefusal(for: modelName)); streamed datasets run \(streamingModels(in: registry).joined(separator: ", ")) only"
            )
          }
        }
        let finalLabel = label ?? factory.label
        if models.contains(where: { $0.label == finalLabel }) {
          c.add(
            o["label"] == nil ? path : "\(path).label",
            "label \"\(finalLabel)\" is used by another model; give each a distinct \"label\"")
        }
        models.append(StudyModelEntry(model: modelName, label: finalLabel, parameters: StudyParameterValues(values)))
        factories.append(factory)
      }
    }

    // Matrices of a cell: queries × d, queries × K (similarities, attention weights), K × d.
    // A streamed dataset holds only B × d matrices (its patterns stay in the file).
    for (k, source) in sources.enumerated() {
      if case .streamed = source { continue }
      let (b, n, d) = (queries, source.patternCount, source.dimension)
      for (rows, columns, what) in [
        (b, n, "queries × patterns"), (b, d, "queries × dimension"), (n, d, "patterns × dimension"),
      ] {
        let (product, overflow) = rows.multipliedReportingOverflow(by: columns)
        if overflow || product > maxElements {
          c.add(
            "$.datasets[\(k)]",
            "\(what) = \(rows) × \(columns) is more than the \(maxElements) values one matrix may hold; use fewer queries or patterns"
          )
        }
      }
    }
    guard c.issues.isEmpty else {
      // Report in the order of the file's sections (the dictionary lost the key order).
      let order = ["$"] + topLevelKeys.map { "$.\($0)" }
      func rank(_ path: String) -> Int {
        order.lastIndex { path == $0 || path.hasPrefix($0 + ".") || path.hasPrefix($0 + "[") } ?? 0
      }
      let sorted = c.issues.enumerated().sorted {
        (rank($0.element.path), $0.offset) < (rank($1.element.path), $1.offset)
      }.map(\.element)
      throw StudySpecError(file: file, issues: sorted)
    }
    let spec = StudySpec(
      name: name, queries: queries, steps: steps, seeds: seeds, tolerance: tolerance, models: models,
      datasets: datasets,
      corruptions: corruptions, precision: precision)
    return Study(spec: spec, factories: factories, sources: sources)
  }

  /// Why `value` does not fit parameter `p`, or `nil` if it does.
  static func check(_ value: StudyValue, against p: StudyParameter) -> String? {
    let kindOK: Bool
    switch p.kind {
    case .number: kindOK = value.number != nil
    case .integer: kindOK = value.integer != nil
    case .boolean: kindOK = value.boolean != nil
    case .string: kindOK = value.string != nil
    case .choice(let options): kindOK = value.string.map(options.contains) ?? false
    }
    guard kindOK else { return "\(p.summary) must be \(p.kind.summary), got \(value.typeName) \(value)" }
    if let isValid = p.isValid, !isValid(value) {
      return "\(p.summary) must be \(p.requirement ?? "valid"), got \(value)"
    }
    return nil
  }

  static func parseDataset(
    _ value: StudyValue, at path: String, baseDirectory: URL?, precision: StudyPrecision, into c: inout IssueCollector
  ) -> (StudyDataset, DatasetSource)? {
    guard case .object(let o) = value else {
      c.add(
        path,
        "must be an object such as {\"kind\": \"gaussian\", \"count\": 32, \"dimension\": 64}, got \(value.typeName) \(value)"
      )
      return nil
    }
    guard let kindName = c.string(o["kind"], at: "\(path).kind") else { return nil }
    guard let kind = StudyDataset.Kind(rawValue: kindName) else {
      c.add("\(path).kind", "unknown dataset kind \"\(kindName)\"; use gaussian, npy, mnist or ait-priors")
      return nil
    }
    let label = o["label"].map { c.string($0, at: "\(path).label") } ?? nil
    let before = c.issues.count
    switch kind {
    case .gaussian:
      _ = c.object(value, at: path, allowed: ["kind", "label", "count", "dimension", "standardDeviation"])
      let count = c.integer(o["count"], at: "\(path).count", range: 1...maxCount)
      let dimension = c.integer(o["dimension"], at: "\(path).dimension", range: 1...maxDimension)
      var sd = 1.0
      if let s = c.number(o["standardDeviation"], at: "\(path).standardDeviation", default: 1) {
        if s.isFinite && s > 0 && s <= maxNoiseLevel {
          sd = s
        } else {
          c.add(
            "\(path).standardDeviation", "must be > 0 and at most \(compactNumber(maxNoiseLevel)), got \(s)")
        }
      }
      guard c.issues.count == before, let count, let dimension else { return nil }
      if count.multipliedReportingOverflow(by: dimension).partialValue > 1 << 31 || count > (1 << 31) / dimension {
        c.add(path, "count × dimension = \(count) × \(dimension) is more than 2³¹ values")
        return nil
      }
      let d = StudyDataset(
        kind: .gaussian,
        label: label ?? "gaussian K=\(count) d=\(dimension)\(sd == 1 ? "" : " σ=\(compactNumber(sd))")",
        count: count, dimension: dimension, standardDeviation: sd)
      return (d, .gaussian(count: count, dimension: dimension, standardDeviation: sd))
    case .npy:
      _ = c.object(value, at: path, allowed: ["kind", "label", "path", "standardize", "stream"])
      let file = c.string(o["path"], at: "\(path).path")
      let standardize = c.boolean(o["standardize"], at: "\(path).standardize", default: false)
      let stream = c.boolean(o["stream"], at: "\(path).stream", default: false)
      guard c.issues.count == before, let file, let standardize, let stream else { return nil }
      let url = resolve(file, against: baseDirectory)
      if stream {
        guard !standardize else {
          c.add(
            "\(path).standardize",
            "a streamed file is used as stored (every pass reads it again); standardise it once with NumPy, or leave out \"stream\""
          )
          return nil
        }
        do {
          let mapped = try StreamedPatternFile(path: url.path, precision: precision)
          let d = StudyDataset(
            kind: .npy, label: label ?? (file as NSString).lastPathComponent, path: file, standardize: false,
            stream: true)
          return (d, .streamed(mapped))
        } catch {
          c.add("\(path).path", "\(error)")
          return nil
        }
      }
      do {
        let matrix = try DatasetSource.readNumPy(url)
        let d = StudyDataset(
          kind: .npy, label: label ?? (file as NSString).lastPathComponent, path: file, standardize: standardize)
        return (d, .npy(matrix: matrix, standardize: standardize))
      } catch {
        c.add("\(path).path", "\(error)")
        return nil
      }
    case .aitPriors:
      _ = c.object(value, at: path, allowed: ["kind", "label", "folder"])
      let folder = c.string(o["folder"], at: "\(path).folder")
      guard c.issues.count == before, let folder else { return nil }
      do {
        // Relative to the current directory, as the global-workspace model reads it.
        let priors = try GlobalWorkspacePriors(folder: folder)
        let d = StudyDataset(kind: .aitPriors, label: label ?? priors.datasetLabel, folder: folder)
        return (d, .npy(matrix: priors.upscaledDouble, standardize: false))
      } catch {
        c.add("\(path).folder", "\(error)")
        return nil
      }
    case .mnist:
      _ = c.object(value, at: path, allowed: ["kind", "label", "count", "directory", "standardize"])
      let count = c.integer(o["count"], at: "\(path).count", range: 1...60_000)
      let directory = c.string(o["directory"], at: "\(path).directory", default: "Data/mnist")
      let standardize = c.boolean(o["standardize"], at: "\(path).standardize", default: true)
      guard c.issues.count == before, let count, let directory, let standardize else { return nil }
      let url = resolve(directory, against: baseDirectory).appendingPathComponent(MNIST.trainingImages)
      do {
        let images = try MNIST.images(at: url)
        guard images.rows >= 1 && images.columns >= 1 else {
          c.add(
            "\(path).directory",
            "\(url.path) holds \(images.rows) images of \(images.columns) pixels; a dataset needs at least one pixel per image"
          )
          return nil
        }
        guard count <= images.rows else {
          c.add("\(path).count", "must be at most the \(images.rows) images in \(url.path), got \(count)")
          return nil
        }
        let d = StudyDataset(
          kind: .mnist, label: label ?? "mnist K=\(count)", count: count, directory: directory, standardize: standardize
        )
        return (d, .mnist(images: images, count: count, standardize: standardize))
      } catch {
        c.add("\(path).directory", "\(error)")
        return nil
      }
    }
  }

  static func resolve(_ path: String, against base: URL?) -> URL {
    if path.hasPrefix("/") || base == nil { return URL(fileURLWithPath: path) }
    return base!.appendingPathComponent(path)
  }
}

/// A one-line summary of a JSONDecoder error.
func jsonErrorSummary(_ error: any Error) -> String {
  if case DecodingError.dataCorrupted(let context) = error {
    let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
    return underlying ?? context.debugDescription
  }
  return "\(error)"
}
