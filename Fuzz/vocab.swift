// libFuzzer target: `vocab.txt` bytes through `WordPieceVocabulary.parse`, then a WordPiece
// tokenizer over the vocabulary (when it has [UNK], [CLS], [SEP]) tokenizing the same bytes as
// text. Built by `Scripts/fuzz.sh`.
import AttractorIO
import AttractorModels
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(bytes: data, count: size)
  guard let vocabulary = try? WordPieceVocabulary.parse(bytes, path: "vocab.txt") else { return 0 }
  if let tokenizer = try? WordPieceTokenizer(vocabulary: vocabulary) {
    let text = String(decoding: bytes, as: UTF8.self)
    let e = tokenizer.encode(text, maxLength: 64)
    precondition(e.ids.count <= 64 && e.ids.first == tokenizer.classID && e.ids.last == tokenizer.separatorID)
  }
  return 0
}
