import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

/// The catalogue of bad inputs (issue 16): one table of arguments, the files they name, and the
/// exit status and message each ends with. `$D` in an argument is the case's own temporary folder.
/// Docs/Reliability.md summarises it; run it with `swift test --filter BadInputCatalogue`.
struct BadInput: Sendable, CustomStringConvertible {
  /// The command line, `$D` standing for the case's temporary folder.
  var arguments: [String]
  /// Files written into `$D` first (a name may hold folders: `m/config.json`).
  var files: [String: Data]
  /// 64 for usage, validation and study-file errors; 1 for runtime failures.
  var code: Int32
  /// A fragment of the message.
  var fragment: String

  init(_ arguments: [String], files: [String: Data] = [:], _ code: Int32, _ fragment: String) {
    self.arguments = arguments
    self.files = files
    self.code = code
    self.fragment = fragment
  }

  var description: String {
    let contents = files.keys.sorted().map { name in
      // FNV-1a of the bytes: rows that differ only in a file's contents stay distinct.
      let hash = files[name]!.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }
      return "\(name):\(String(hash, radix: 16))"
    }
    return arguments.joined(separator: " ") + (contents.isEmpty ? "" : " [\(contents.joined(separator: ", "))]")
  }
}

// MARK: - Files

/// A `.npy` file with the given header dictionary and payload (for headers NumPyFile.encode never writes).
private func npy(header: String, payload: Data = Data()) -> Data {
  var text = header
  let unpadded = 10 + text.utf8.count + 1
  text += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
  var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
  let length = UInt16(text.utf8.count)
  data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
  data.append(contentsOf: Array(text.utf8))
  data.append(payload)
  return data
}

/// A float64 `.npy` array.
private func npy(_ values: [Double], shape: [Int]) -> Data {
  NumPyFile.encode(try! Tensor(shape: shape, storage: .float64(values)))
}

/// A K × d float64 `.npy` array of ±1 patterns.
private func patterns(_ k: Int, _ d: Int) -> Data {
  npy((0..<(k * d)).map { ($0 * 7 + $0 / d) % 3 == 0 ? -1 : 1 }, shape: [k, d])
}

private func int64s(_ values: [Int64]) -> Data {
  NumPyFile.encode(try! Tensor(shape: [values.count], storage: .int64(values)))
}

private func text(_ s: String) -> Data { Data(s.utf8) }

/// The config.json of a tiny valid iterative-attention folder (width 4, one layer, stored memory),
/// with `replacing` substituted.
private func modelConfig(_ replacements: [(String, String)] = []) -> Data {
  var s = """
    {"format": "attractors.iterative-attention", "formatVersion": 1,
     "configuration": {"heads": 1, "layers": 1, "temperature": 1, "width": 4},
     "dataDimension": 4, "memory": {"stored": {}}, "task": "t", "seed": 0, "command": "c",
     "history": {"initialValidationLoss": 1, "trainingLoss": [], "validationLoss": [], "bestEpoch": 0,
                 "stoppedEarly": false},
     "trainingSeconds": 0}
    """
  for (a, b) in replacements { s = s.replacingOccurrences(of: a, with: b) }
  return Data(s.utf8)
}

/// The weights of the tiny folder; `change` edits the tensors first.
private func modelWeights(_ change: (inout [String: Tensor]) -> Void = { _ in }) -> Data {
  func square(_ seed: Int) -> Tensor {
    try! Tensor(shape: [4, 4], storage: .float32((0..<16).map { Float(($0 + seed) % 5) / 10 - 0.2 }))
  }
  var tensors: [String: Tensor] = [
    "layers.0.query": square(0), "layers.0.key": square(1), "layers.0.value": square(2), "layers.0.output": square(3),
    "memory.keys": try! Tensor(shape: [3, 4], storage: .float32((0..<12).map { $0 % 4 == $0 / 4 ? 1 : 0 })),
  ]
  change(&tensors)
  return try! SafeTensorsFile.encode(SafeTensors(tensors: tensors))
}

/// A model folder `m` with these files (the valid ones unless replaced; nil drops a file).
private func modelFolder(config: Data? = modelConfig(), weights: Data? = modelWeights()) -> [String: Data] {
  var files: [String: Data] = ["m/CARD.md": text("# tiny\n")]
  if let config { files["m/config.json"] = config }
  if let weights { files["m/weights.safetensors"] = weights }
  return files
}

/// A tiny valid study, with `replacing` substituted.
private func study(_ replacements: [(String, String)] = []) -> [String: Data] {
  var s = """
    {"name": "tiny", "queries": 4, "seeds": [0], "steps": [1], "tolerance": 1e-6,
     "models": [{"model": "classical"}],
     "datasets": [{"kind": "gaussian", "count": 4, "dimension": 8}],
     "corruptions": [{"kind": "noise", "levels": [0.5]}]}
    """
  for (a, b) in replacements { s = s.replacingOccurrences(of: a, with: b) }
  return ["s.json": Data(s.utf8)]
}

/// The partial file of a run of another study (another spec hash).
private let otherRun: [String: Data] = [
  "o/cells.partial.jsonl": text("{\"format\":1,\"specHash\":\"0123456789abcdef\",\"totalCells\":1,\"version\":\"0\"}\n")
]

// MARK: - The catalogue

enum BadInputCatalogue {
  static let recall: [BadInput] = [
    BadInput(["recall", "--count", "0"], 64, "--count must be at least 1, got 0"),
    BadInput(["recall", "--count", "ten"], 64, "--count"),
    BadInput(["recall", "--dimension", "0"], 64, "--dimension must be at least 1, got 0"),
    BadInput(["recall", "--dimension", "2.5"], 64, "--dimension"),
    BadInput(["recall", "--query-count", "0"], 64, "--query-count must be at least 1, got 0"),
    BadInput(["recall", "--beta", "nan"], 64, "--beta must be a finite number > 0"),
    BadInput(["recall", "--beta", "0"], 64, "--beta must be a finite number > 0"),
    BadInput(["recall", "--tolerance", "inf"], 64, "--tolerance must be a finite number ≥ 0"),
    BadInput(["recall", "--level", "1.5", "--corruption", "mask"], 64, "--level"),
    BadInput(["recall", "--level", "2", "--corruption", "flip"], 64, "--level"),
    BadInput(["recall", "--corruption", "blur"], 64, "--corruption"),
    BadInput(["recall", "--model", "dense-rectified"], 64, "--model"),
    BadInput(["recall", "--precision", "half"], 64, "--precision"),
    BadInput(["recall", "--threads", "0"], 64, "--threads must be at least 1, got 0"),
    BadInput(["recall", "--seed", "1.5"], 64, "--seed"),
    BadInput(["recall", "--beta", "1e300", "--precision", "float"], 64, "exceeds the range of Float"),
    BadInput(["recall", "--patterns", "$D/p.npy", "--count", "3"], files: ["p.npy": patterns(3, 4)], 64, "--count"),
    BadInput(["recall", "--targets", "$D/t.npy"], files: ["t.npy": int64s([0])], 64, "--targets"),
    BadInput(["recall", "--model-folder", "$D/m", "--beta", "2"], files: modelFolder(), 64, "--beta"),
    BadInput(["recall", "--output", ""], 64, "--output"),
    BadInput(["recall", "--bogus"], 64, "Unknown option '--bogus'"),
    BadInput(["recall", "--count"], 64, "Missing value for '--count"),
    // .npy files
    BadInput(["recall", "--patterns", "$D/missing.npy"], 1, "it does not exist"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"], files: ["p.npy": patterns(3, 4).dropLast(5)], 1, "p.npy"),
    BadInput(["recall", "--patterns", "$D/p.npy"], files: ["p.npy": text("not an array")], 1, "p.npy"),
    BadInput(["recall", "--patterns", "$D/p.npy"], files: ["p.npy": Data()], 1, "p.npy"),
    BadInput(["recall", "--patterns", "$D/p.npy"], files: ["p.npy": npy([1, -1, 1, -1], shape: [4])], 1, "2-D"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"], files: ["p.npy": npy([1, -1, 1, -1, 1, -1, 1, -1], shape: [2, 2, 2])], 1,
      "2-D"),
    BadInput(["recall", "--patterns", "$D/p.npy"], files: ["p.npy": npy([], shape: [0, 4])], 1, "p.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"], files: ["p.npy": npy([1, .nan, 1, -1, 1, 1], shape: [2, 3])], 1,
      "finite"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"], files: ["p.npy": npy([1, .infinity, 1, -1, 1, 1], shape: [2, 3])], 1,
      "finite"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"],
      files: [
        "p.npy": npy(header: "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }", payload: Data(count: 32))
      ],
      1, "p.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"],
      files: [
        "p.npy": npy(header: "{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }", payload: Data(count: 32))
      ],
      1, "p.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"],
      files: [
        "p.npy": npy(header: "{'descr': '<c16', 'fortran_order': False, 'shape': (1, 2), }", payload: Data(count: 32))
      ],
      1, "p.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"],
      files: [
        "p.npy": npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, -2), }", payload: Data(count: 32))
      ],
      1, "p.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"],
      files: ["p.npy": npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }")],
      1, "p.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"],
      files: ["p.npy": npy(header: "{'descr': '<f8', 'shape': (2, 2), }", payload: Data(count: 32))], 1, "p.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy"],
      files: [
        "p.npy": npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", payload: Data(count: 40))
      ],
      1, "p.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy", "--queries", "$D/q.npy"],
      files: ["p.npy": patterns(3, 4), "q.npy": patterns(2, 5)], 1, "queries have 5 columns but patterns have 4"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy", "--queries", "$D/q.npy", "--targets", "$D/t.npy"],
      files: ["p.npy": patterns(3, 4), "q.npy": patterns(2, 4), "t.npy": int64s([0, 7])], 1, "t.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy", "--queries", "$D/q.npy", "--targets", "$D/t.npy"],
      files: ["p.npy": patterns(3, 4), "q.npy": patterns(2, 4), "t.npy": int64s([0, 1, 2])], 1, "t.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy", "--queries", "$D/q.npy", "--targets", "$D/t.npy"],
      files: ["p.npy": patterns(3, 4), "q.npy": patterns(2, 4), "t.npy": npy([0, 1], shape: [2])], 1, "t.npy"),
    BadInput(
      ["recall", "--patterns", "$D/p.npy", "--queries", "$D/q.npy", "--targets", "$D/t.npy"],
      files: ["p.npy": patterns(3, 4), "q.npy": patterns(2, 4), "t.npy": int64s([0, -1])], 1, "t.npy"),
    // model folders
    BadInput(["recall", "--model-folder", "$D/nothing"], 1, "is not a model folder: it does not exist"),
    BadInput(["recall", "--model-folder", "$D/m"], files: modelFolder(config: nil), 1, "config.json does not exist"),
    BadInput(
      ["recall", "--model-folder", "$D/m"], files: modelFolder(weights: nil), 1, "weights.safetensors does not exist"),
    BadInput(
      ["recall", "--model-folder", "$D/m"], files: modelFolder(config: text("{\"format\": ")), 1, "not valid JSON"),
    BadInput(["recall", "--model-folder", "$D/m"], files: modelFolder(config: text("[1, 2]")), 1, "cannot be read"),
    BadInput(
      ["recall", "--model-folder", "$D/m"],
      files: modelFolder(config: modelConfig([("attractors.iterative-attention", "attractors.hopfield")])), 1,
      "declares"),
    BadInput(
      ["recall", "--model-folder", "$D/m"],
      files: modelFolder(config: modelConfig([("\"formatVersion\": 1", "\"formatVersion\": 9")])), 1, "formatVersion"),
    BadInput(
      ["recall", "--model-folder", "$D/m"],
      files: modelFolder(config: modelConfig([("\"dataDimension\": 4", "\"dataDimension\": 9")])), 1,
      "dataDimension 9 must be in 1…width (4)"),
    BadInput(
      ["recall", "--model-folder", "$D/m"],
      files: modelFolder(config: modelConfig([("\"task\": \"t\", ", "")])), 1, "is invalid: missing key task"),
    BadInput(
      ["recall", "--model-folder", "$D/m"],
      files: modelFolder(config: modelConfig([("\"heads\": 1", "\"heads\": 3")])), 1,
      "must be a positive multiple of heads (3)"),
    BadInput(
      ["recall", "--model-folder", "$D/m"], files: modelFolder(weights: modelWeights { $0["layers.0.key"] = nil }), 1,
      "tensor layers.0.key is missing"),
    BadInput(
      ["recall", "--model-folder", "$D/m"],
      files: modelFolder(
        weights: modelWeights {
          $0["layers.0.value"] = try! Tensor(shape: [4, 4], storage: .float64(Array(repeating: 0, count: 16)))
        }), 1, "layers.0.value has"),
    BadInput(
      ["recall", "--model-folder", "$D/m"],
      files: modelFolder(
        weights: modelWeights {
          $0["layers.0.query"] = try! Tensor(shape: [4, 3], storage: .float32(Array(repeating: 0, count: 12)))
        }), 1, "layers.0.query has"),
    BadInput(
      ["recall", "--model-folder", "$D/m"],
      files: modelFolder(
        weights: modelWeights {
          $0["layers.1.query"] = try! Tensor(shape: [4, 4], storage: .float32(Array(repeating: 0, count: 16)))
        }), 1, "layers.1.query has no place in this model"),
    BadInput(
      ["recall", "--model-folder", "$D/m"], files: modelFolder(weights: modelWeights().dropLast(7)), 1,
      "weights.safetensors"),
    BadInput(
      ["recall", "--model-folder", "$D/m"], files: modelFolder(weights: text("garbage")), 1, "weights.safetensors"),
    BadInput(
      ["recall", "--model-folder", "$D/m"],
      files: modelFolder(
        weights: modelWeights {
          $0["memory.keys"] = try! Tensor(shape: [2, 4], storage: .float32([1, .nan, 0, 0, 0, 1, 0, 0]))
        }), 1, "memory.keys has values that cannot be used: Tensor element 1 (row 0, column 1) is nan"),
  ]

  static let analyze: [BadInput] = [
    BadInput(["analyze", "--correlation", "1"], 64, "--correlation must be in [0, 1), got 1"),
    BadInput(["analyze", "--beta", "0"], 64, "--beta"),
    BadInput(["analyze", "--noise", "-0.5"], 64, "--noise"),
    BadInput(["analyze", "--mass", "1.5"], 64, "--mass"),
    BadInput(["analyze", "--global-fraction", "0"], 64, "--global-fraction"),
    BadInput(["analyze", "--merge-tolerance", "nan"], 64, "--merge-tolerance"),
    BadInput(["analyze", "--max-steps", "0"], 64, "--max-steps must be between 1 and 1000000, got 0"),
    BadInput(["analyze", "--noisy-starts", "1001"], 64, "--noisy-starts must be between 0 and 1000, got 1001"),
    BadInput(["analyze", "--model-folder", "$D/m", "--count", "3"], files: modelFolder(), 64, "brings its own memory"),
    BadInput(
      ["analyze", "--patterns", "$D/p.npy", "--dimension", "4"], files: ["p.npy": patterns(3, 4)], 64, "--dimension"),
    BadInput(["analyze", "--output-dir", ""], 64, "--output-dir"),
    BadInput(["analyze", "--patterns", "$D/p.npy"], files: ["p.npy": npy([1, 2], shape: [2])], 1, "2-D"),
    BadInput(["analyze", "--model-folder", "$D/m"], files: modelFolder(config: text("{}")), 1, "config.json"),
    BadInput(["analyze", "phase-diagram", "--beta-range", "1:2"], 64, "--beta-range"),
    BadInput(["analyze", "phase-diagram", "--beta-range", "2:1:5"], 64, "--beta-range needs 0 < lo < hi"),
    BadInput(["analyze", "phase-diagram", "--beta-range", "1:2:0"], 64, "--beta-range"),
    BadInput(["analyze", "phase-diagram", "--beta-range", "a:b:c"], 64, "--beta-range"),
    BadInput(["analyze", "phase-diagram", "--file-prefix", ""], 64, "--file-prefix"),
    BadInput(["analyze", "phase-diagram", "--file-prefix", "a/b"], 64, "--file-prefix"),
  ]

  static let capacity: [BadInput] = [
    BadInput(["capacity", "--model", "modern"], 64, "--model"),
    BadInput(["capacity", "--model", ""], 64, "'--model <list>': the list is empty; give one or more values"),
    BadInput(
      ["capacity", "--model", "classical,classical"], 64,
      "'--model <list>': item 2 of 2, 'classical', repeats item 1; give each value once"),
    BadInput(
      ["capacity", "--model", "classical,modern"], 64,
      "item 2 of 2, 'modern', is not one of classical, dense-polynomial"),
    BadInput(["capacity", "--degree", "0"], 64, "--degree n must be an integer from 1 to 64"),
    BadInput(
      ["capacity", "--degree", "3,3"], 64, "'--degree <n-list>': item 2 of 2, '3', repeats item 1; give each value once"
    ),
    BadInput(["capacity", "--degree", "3,,4"], 64, "'--degree <n-list>': item 2 of 3 is empty (two commas in a row"),
    BadInput(
      ["capacity", "--degree", "3,"], 64, "item 2 of 2 is empty (two commas in a row, or a comma at either end)"),
    BadInput(
      ["capacity", "--degree", "2,x"], 64, "item 2 of 2, 'x', is not an integer; give each value as an integer"),
    BadInput(["capacity", "--dimension", "100,,200"], 64, "'--dimension <N-list>': item 2 of 3 is empty"),
    BadInput(["capacity", "--dimension", ",100"], 64, "item 1 of 2 is empty"),
    BadInput(["capacity", "--count", "10,20,10"], 64, "'--count <K-list>': item 3 of 3, '10', repeats item 1"),
    BadInput(["capacity", "--count", ","], 64, "'--count <K-list>': the list is empty"),
    BadInput(["capacity", "--relative-count", "0.5,x"], 64, "item 2 of 2, 'x', is not a number"),
    BadInput(
      ["capacity", "--relative-count", "0.5,0.5"], 64, "'--relative-count <c-list>': item 2 of 2, '0.5', repeats item 1"
    ),
    BadInput(["capacity", "--count", "5,5"], 64, "--count"),
    BadInput(
      ["capacity", "--start", "random", "--flip-fraction", "0.1"], 64, "--flip-fraction applies to --start stored"),
    BadInput(["capacity", "--relative-count", "0"], 64, "--relative-count multiples must be finite and > 0"),
    BadInput(["capacity", "--flip-fraction", "1.5"], 64, "--flip-fraction must be a fraction in [0, 1]"),
    BadInput(["capacity", "--start", "middle"], 64, "--start"),
    BadInput(["capacity", "--beta", "-2"], 64, "--beta"),
    BadInput(["capacity", "--starts", "0"], 64, "--starts must be between 1 and"),
    BadInput(["capacity", "--workers", "0"], 64, "--workers must be between 1 and 1024, got 0"),
    BadInput(["capacity", "--file-prefix", "a/b"], 64, "--file-prefix"),
    BadInput(
      ["capacity", "--patterns", "$D/p.npy", "--starts", "1"], files: ["p.npy": npy([0.5, 1, -1, 1], shape: [2, 2])],
      1, "±1"),
    BadInput(
      ["capacity", "--patterns", "$D/p.npy", "--dimension", "5"], files: ["p.npy": patterns(2, 4)], 1,
      "--dimension 5 does not match the patterns file"),
    BadInput(["capacity", "xor", "--model", "attention"], 64, "--model"),
    BadInput(["capacity", "xor", "--degree", "65"], 64, "--degree"),
    BadInput(["capacity", "xor", "--beta", "inf"], 64, "--beta"),
  ]

  static let compare: [BadInput] = [
    BadInput(["compare", "--study", "$D/missing.json"], 64, "it does not exist"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("{\"model\": \"classical\"}", "{\"model\": \"global-workspace\", \"folder\": \"/no-ait-folder\"}")]
      ),
      64, "$.models[0].folder: /no-ait-folder is not a readable AiT model folder"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([
        (
          "{\"kind\": \"gaussian\", \"count\": 4, \"dimension\": 8}",
          "{\"kind\": \"ait-priors\", \"folder\": \"/no-ait-folder\"}"
        )
      ]), 64, "$.datasets[0].folder: /no-ait-folder is not a readable AiT model folder"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: ["s.json": text("{")], 64, "not valid JSON"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: study([("classical", "hopfield")]), 64,
      "unknown model \"hopfield\""),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: study([("{\"model\": \"classical\"}", "{}")]),
      64, "$.models[0].model"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("{\"model\": \"classical\"}", "{\"model\": \"modern\"}")]), 64, "is required"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("{\"model\": \"classical\"}", "{\"model\": \"classical\", \"beta\": 2}")]), 64,
      "unknown parameter \"beta\""),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("{\"model\": \"classical\"}", "{\"model\": \"modern\", \"beta\": -1}")]), 64, "$.models[0].beta"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("\"models\": [{\"model\": \"classical\"}],", "")]),
      64, "$.models"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("\"noise\", \"levels\": [0.5]", "\"mask\", \"levels\": [1.5]")]), 64,
      "$.corruptions[0].levels[0]"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: study([("[0.5]", "[0.5, 0.5]")]), 64,
      "appears twice"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: study([("\"noise\"", "\"blur\"")]), 64,
      "unknown corruption \"blur\""),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("\"levels\": [0.5]", "\"levels\": []")]),
      64, "$.corruptions[0].levels"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("\"queries\": 4", "\"queries\": 4, \"queries\": 5")]),
      64, "appears more than once"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: study([("\"queries\": 4", "\"queries\": 0")]),
      64,
      "$.queries"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("\"seeds\": [0]", "\"seeds\": [0, 0]")]),
      64, "seed 0 appears twice"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: study([("\"steps\": [1]", "\"steps\": [0]")]),
      64,
      "$.steps[0]"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: study([("1e-6", "-1")]), 64,
      "$.tolerance"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: study([("\"gaussian\"", "\"imagenet\"")]), 64,
      "$.datasets[0]"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: study([("\"count\": 4", "\"count\": 0")]), 64,
      "$.datasets[0].count"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("\"dimension\": 8", "\"dimension\": \"8\"")]),
      64, "$.datasets[0].dimension"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"],
      files: study([("\"name\": \"tiny\"", "\"nmae\": \"tiny\"")]),
      64, "nmae"),
    BadInput(["compare", "--shard", "3/2"], 64, "--shard"),
    BadInput(["compare", "--shard", "0/2"], 64, "--shard"),
    BadInput(["compare", "--shard", "one"], 64, "--shard"),
    BadInput(["compare", "--max-cells", "0"], 64, "--max-cells must be at least 1, got 0"),
    BadInput(["compare", "--output-dir", ""], 64, "--output-dir"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o"], files: study().merging(otherRun) { a, _ in a }, 64,
      "holds a run that belongs to a different study"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o", "--resume"],
      files: study().merging(otherRun) { a, _ in a },
      64, "holds a run that belongs to a different study"),
    BadInput(
      ["compare", "--study", "$D/s.json", "--output-dir", "$D/o", "--resume"],
      files: study().merging(["o/cells.partial.jsonl": text("not a header\n")]) { a, _ in a }, 1, "cells.partial.jsonl"),
    BadInput(["compare", "merge"], 64, "merge"),
    BadInput(["compare", "merge", "$D/none-1", "$D/none-2", "--output-dir", "$D/o"], 1, "none-1"),
    BadInput(
      ["compare", "merge", "$D/a", "$D/b", "--output-dir", "$D/o"],
      files: ["a/x.txt": text("x"), "b/x.txt": text("x")], 1,
      "a"),
    BadInput(
      ["compare", "print-study", "--study", "$D/s.json"], files: study([("classical", "clasical")]), 64, "clasical"),
    BadInput(["compare", "print-study", "--study", "$D/s.json"], files: ["s.json": text("[]")], 64, "$"),
  ]

  static let train: [BadInput] = [
    BadInput(["train", "iterative-attention", "--config", "huge"], 64, "--config"),
    BadInput(["train", "iterative-attention", "--heads", "3", "--dimension", "8"], 64, "--heads"),
    BadInput(["train", "iterative-attention", "--task", "cifar"], 64, "--task"),
    BadInput(["train", "iterative-attention", "--epochs", "0"], 64, "--epochs must be at least 1, got 0"),
    BadInput(["train", "iterative-attention", "--learning-rate", "nan"], 64, "--learning-rate"),
    BadInput(["train", "iterative-attention", "--temperature", "0"], 64, "--temperature must be finite and positive"),
    BadInput(["train", "iterative-attention", "--count", "5"], 64, "--count must be at least 10"),
    BadInput(
      ["train", "iterative-attention", "--dimension", "8", "--data-dimension", "9"], 64, "--data-dimension"),
    BadInput(["train", "iterative-attention", "--batch-size", "0"], 64, "--batch-size must be at least 1, got 0"),
    BadInput(["train", "iterative-attention", "--output-dir", ""], 64, "--output-dir"),
    BadInput(
      [
        "train", "iterative-attention", "--task", "mnist", "--mnist", "$D/nomnist", "--epochs", "1", "--output-dir",
        "$D/o",
      ],
      1, "nomnist"),
    BadInput(
      [
        "train", "iterative-attention", "--count", "20", "--dimension", "8", "--data-dimension", "4", "--epochs", "1",
        "--output-dir", "$D/o",
      ], files: ["o/notes.txt": text("mine")], 1, "o"),
  ]

  static let reproduce: [BadInput] = [
    BadInput(["reproduce", "ait", "--workers", "0"], 64, "--workers must be between 1 and 1024, got 0"),
    BadInput(["reproduce", "ait", "--workers", "2", "--threads", "2"], 64, "--threads 2 cannot be honoured"),
    BadInput(["reproduce", "ait", "--dataset", "cifar"], 64, "--dataset"),
    BadInput(
      ["reproduce", "iterative-attention", "--seeds", "0,0"], 64, "'--seeds <list>': item 2 of 2, '0', repeats item 1"),
    BadInput(["reproduce", "iterative-attention", "--seeds", ""], 64, "'--seeds <list>': the list is empty"),
    BadInput(
      ["reproduce", "iterative-attention", "--seeds", "0,x"], 64, "item 2 of 2, 'x', is not a non-negative integer"),
    BadInput(["reproduce", "iterative-attention", "--seeds", "1,,2"], 64, "'--seeds <list>': item 2 of 3 is empty"),
    BadInput(
      ["reproduce", "iterative-attention", "--only-models", "small,small"], 64,
      "'--only-models <list>': item 2 of 2, 'small', repeats item 1"),
    BadInput(
      ["reproduce", "iterative-attention", "--ablation-seeds", "0,0"], 64,
      "--ablation-seeds must be seeds separated by commas, or 'all': item 2 of 2, '0', repeats item 1"),
    BadInput(["reproduce", "iterative-attention", "--only-models", "huge"], 64, "unknown configuration"),
    BadInput(["reproduce", "iterative-attention", "--epochs", "0"], 64, "--epochs must be at least 1"),
    BadInput(["reproduce", "iterative-attention", "--output-dir", ""], 64, "--output-dir must not be empty"),
    BadInput(
      ["reproduce", "iterative-attention", "--from-results", "$D/none.json", "--output-dir", "$D/o"], 1, "none.json"),
    BadInput(
      ["reproduce", "iterative-attention", "--from-results", "$D/r.json", "--output-dir", "$D/o"],
      files: ["r.json": text("{\"x\": 1}")], 1, "cannot read the results file $D/r.json: missing key settings"),
  ]

  static let bench: [BadInput] = [
    BadInput(
      ["bench", "update", "--dimension", "64,64"], 64, "'--dimension <d-list>': item 2 of 2, '64', repeats item 1"),
    BadInput(["bench", "update", "--dimension", ""], 64, "'--dimension <d-list>': the list is empty"),
    BadInput(["bench", "update", "--dimension", "64,,256"], 64, "'--dimension <d-list>': item 2 of 3 is empty"),
    BadInput(["bench", "update", "--count", "0"], 64, "--count must be between 1 and"),
    BadInput(["bench", "update", "--repetitions", "0"], 64, "--repetitions must be at least 1, got 0"),
    BadInput(["bench", "update", "--query-count", "x"], 64, "--query-count"),
    BadInput(["bench", "classify", "--points", "0"], 64, "--points must be between 1 and 100000, got 0"),
    BadInput(["bench", "classify", "--beta", "0"], 64, "--beta"),
    BadInput(["bench", "classify", "--save-inputs", ""], 64, "--save-inputs"),
    BadInput(
      ["bench", "classify", "--patterns", "$D/p.npy", "--points", "1", "--repetitions", "1"],
      files: [
        "p.npy": npy(header: "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 2), }", payload: Data(count: 8))
      ],
      1, "p.npy"),
    BadInput(
      ["bench", "compare", "--study", "$D/s.json"], files: study([("\"seeds\": [0]", "\"seeds\": [-1]")]), 64,
      "$.seeds[0]"),
    BadInput(["bench", "compare", "--query-count", "0"], 64, "--query-count must be between 1 and"),
    BadInput(["bench", "dense-sweep", "--model", "modern"], 64, "--model"),
    BadInput(["bench", "dense-sweep", "--degree", "65"], 64, "--degree must be between 1 and 64, got 65"),
    BadInput(["bench", "dense-sweep", "--starts", "0"], 64, "--starts must be between 1 and"),
    BadInput(["bench", "dense-sweep", "--beta", "nan"], 64, "--beta"),
    BadInput(["bench", "iterative-attention", "--heads", "3", "--dimension", "8"], 64, "--heads"),
    BadInput(["bench", "iterative-attention", "--layers", "0"], 64, "--layers"),
    BadInput(["bench", "iterative-attention", "--temperature", "-1"], 64, "--temperature"),
    BadInput(["bench", "iterative-attention", "--count", "0"], 64, "--count must be between 1 and"),
    BadInput(["bench", "nothing"], 64, "nothing"),
  ]

  static let all: [BadInput] = recall + analyze + capacity + compare + train + reproduce + bench
}

/// Runs one case in its own temporary folder: the exit status and message, or nil if it succeeded.
private func outcome(of input: BadInput) throws -> (code: Int32, message: String)? {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-bad-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  for (name, data) in input.files {
    let url = dir.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try data.write(to: url)
  }
  let arguments = input.arguments.map { $0.replacingOccurrences(of: "$D", with: dir.path) }
  // A study file's problems are printed to standard error before the command exits with 64, so
  // the message is the thrown one followed by what went to standard error.
  let log = dir.appendingPathExtension("stderr")
  _ = FileManager.default.createFile(atPath: log.path, contents: nil)
  defer { try? FileManager.default.removeItem(at: log) }
  let logDescriptor = open(log.path, O_WRONLY)
  fflush(nil)
  let savedDescriptor = dup(2)
  dup2(logDescriptor, 2)
  func restore() -> String {
    fflush(nil)
    dup2(savedDescriptor, 2)
    close(savedDescriptor)
    close(logDescriptor)
    return (try? String(contentsOf: log, encoding: .utf8)) ?? ""
  }
  do {
    var command = try Attractor.parseAsRoot(arguments)
    try command.run()
    _ = restore()
    return nil
  } catch {
    let printed = restore()
    let message = (Attractor.message(for: error) + "\n" + printed).replacingOccurrences(of: dir.path, with: "$D")
    return (Attractor.exitCode(for: error).rawValue, message)
  }
}

@Suite("The catalogue of bad inputs (issue 16): every case ends with its exit status and message", .serialized)
struct BadInputCatalogueTests {
  @Test("At least 100 distinct cases across every command")
  func size() {
    let all = BadInputCatalogue.all
    #expect(all.count >= 100)
    #expect(Set(all.map(\.description)).count == all.count, "duplicate rows")
  }

  @Test(
    "Each bad input is refused with its exit status and a message that says what is wrong",
    arguments: BadInputCatalogue.all)
  func refused(_ input: BadInput) throws {
    let result = try outcome(of: input)
    #expect(result?.code == input.code, "\(input): \(result?.message ?? "accepted")")
    #expect(result?.message.contains(input.fragment) == true, "\(input): \(result?.message ?? "accepted")")
    #expect(result?.message.contains("NSCocoaErrorDomain") != true, "\(input)")
  }

  @Test("The tiny model folder and study the cases break are valid")
  func baselinesAreValid() throws {
    let folder = BadInput(
      ["recall", "--model-folder", "$D/m", "--query-count", "2", "--max-steps", "1"], files: modelFolder(), 0, "")
    #expect(try outcome(of: folder) == nil)
    let spec = BadInput(["compare", "print-study", "--study", "$D/s.json"], files: study(), 0, "")
    #expect(try outcome(of: spec) == nil)
  }
}
