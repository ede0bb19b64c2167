#!/usr/bin/env python3
"""Reference token ids for the Swift WordPiece tokenizer, from Hugging Face `tokenizers`.

Writes two generated files into Tests/AttractorModelsTests/Reference/:

  wordpiece_tiny.json     ids for TRICKY (below) under a small vocabulary written by this script
                          (tiny_vocab.txt, committed), with the normaliser, pre-tokeniser, model and
                          post-processor of all-MiniLM-L6-v2's tokenizer.json (BertNormalizer with
                          lowercase and accent stripping, BertPreTokenizer, WordPiece with `##` and
                          100 characters per word, [CLS] … [SEP]).
  wordpiece_minilm.json   ids for TRICKY under the model's own tokenizer.json (needs
                          Data/all-MiniLM-L6-v2 from Scripts/fetch_minilm.py).

Both truncate to 512 tokens (tokenizers' LongestFirst on one sequence: the first 510 word pieces
and [CLS], [SEP]). `tokenizers` is needed only here, for example in a throw-away venv:

    python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tokenizers
    /tmp/tokvenv/bin/python Scripts/wordpiece_reference.py
"""
import json
import pathlib

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "AttractorModelsTests" / "Reference"
MODEL = ROOT / "Data" / "all-MiniLM-L6-v2"

TRICKY = [
    "",
    "   ",
    "Hello, world!",
    "HELLO World hello",
    "The café served crème brûlée and jalapeño naïvely.",
    "Ångström, Øresund, Straße, İstanbul, ΣΊΣΥΦΟΣ",
    "Wait...what?!?! (really) [yes] {no} <maybe>",
    "--- *** ### $$$ %%% ^^^ ~~~ ``` ||| @@@",
    "e-mail: someone@example.com, url: https://example.org/a_b?c=d&e=f",
    "It's 3.14159, 2,718 and 1e-10; 42nd 1st 007 x86_64",
    "unbelievably antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "a" * 99,
    "b" * 100,
    "c" * 101,
    "supercalifragilisticexpialidocious" * 3,
    "中文字符测试 and 日本語のテキスト, 한국어 텍스트",
    "mixed中文text",
    "emoji 😀👍🏽 and family 👨‍👩‍👧 and flag 🇫🇷 ❤️",
    "tabs\tand\nnewlines\r\nand\u000bvertical\u000cfeeds",
    "zero\u200bwidth\u200djoiner\u00a0nbsp\u2003em space",
    "control\u0000null\u0001soh\u007fdel\ufffdreplacement",
    "combining e\u0301 vs é, n\u0303 vs ñ",
    "ﬁne ligature, ① circled, ＦＵＬＬＷＩＤＴＨ, ½",
    "[CLS] literal [SEP] and [MASK] tokens [UNK]",
    "don't won't can't y'all o'clock",
    "Dr. Smith met Mrs. O'Neil at 5:30 p.m. on Jan. 3rd.",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 letters",
    "¿Qué? ¡Sí! «quotes» „low“ ‘single’ — dash – en",
    "€100 £50 ¥1000 © ® ™ ° ± × ÷",
    " ".join(["token"] * 600),
]

TINY_VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "hello", "world", "the", "cafe", "served", "and", "it", "'", "s", ",", ".", "!", "?", "(", ")", "[", "]",
    "-", "3", "1", "4", "##1", "##4", "##5", "##9", "un", "##be", "##lie", "##va", "##bly", "##liev", "##able",
    "a", "##a", "b", "##b", "c", "##c", "中", "文", "e", "##e", "x", "##8", "##6", "_", "6", "t", "##o", "##k",
    "##en", "token", "don", "won", "can", "y", "all", "o", "clock", "wait", "what", "really", "yes", "no",
    "maybe", "<", ">", "{", "}", ":", ";", "@", "/", "=", "&", "##s", "##ed", "##ing", "mixed", "text",
    "dr", "smith", "met", "mrs", "at", "on", "jan", "p", "m", "5", "30", "##rd", "emoji", "family", "and", "flag",
]


def bert_pipeline(tokenizer):
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tokenizer


def references(tokenizer, label):
    tokenizer.no_padding()
    tokenizer.enable_truncation(512)
    cases = []
    for text in TRICKY:
        enc = tokenizer.encode(text)
        cases.append({"text": text, "ids": enc.ids, "tokens": enc.tokens})
    return {"generated": f"by Scripts/wordpiece_reference.py ({label}); do not edit", "maxLength": 512,
            "cases": cases}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    vocab_lines = []
    seen = set()
    for t in TINY_VOCAB:
        if t not in seen:
            seen.add(t)
            vocab_lines.append(t)
    (OUT / "tiny_vocab.txt").write_text("\n".join(vocab_lines) + "\n", encoding="utf-8")
    vocab = {t: i for i, t in enumerate(vocab_lines)}
    tiny = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##",
                                      max_input_chars_per_word=100))
    bert_pipeline(tiny)
    tiny.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tiny.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    (OUT / "wordpiece_tiny.json").write_text(
        json.dumps(references(tiny, "tiny_vocab.txt with the BERT pipeline"), ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8")
    if (MODEL / "tokenizer.json").exists():
        real = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
        (OUT / "wordpiece_minilm.json").write_text(
            json.dumps(references(real, "all-MiniLM-L6-v2 tokenizer.json"), ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8")
    else:
        print(f"{MODEL} absent: wordpiece_minilm.json not regenerated (run Scripts/fetch_minilm.py first)")
    print(f"wrote references for {len(TRICKY)} strings to {OUT}")


if __name__ == "__main__":
    main()
