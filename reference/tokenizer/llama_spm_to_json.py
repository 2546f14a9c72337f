#!/usr/bin/env python3
"""Converts llama.cpp's ggml-vocab-llama-spm.gguf to a Llama-2-style tokenizer.json, written here
independently of the Java test's converter (LlamaTokenizerJson), following transformers' LlamaConverter
/ SentencePieceExtractor: vocab = pieces with their ids; merges = for every piece, every split into two
pieces both in the vocabulary, ordered within the piece by (left id, right id), then all merges stably
sorted by the piece's score, highest first (the first three pieces count as score 0).

Usage: python3 llama_spm_to_json.py GGUF OUT.json {legacy|metaspace}
(hf-rust/ then tokenizes llama.cpp's inputs with the result: see regenerate.sh.)
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chat"))
import gguf_meta  # noqa: E402  (GGUF metadata reader shared with the chat-template reference)

META = "\u2581"


def read_gguf_vocab(path):
    """tokenizer.ggml.tokens and .scores from a GGUF v2/v3 file (metadata only)."""
    md = read_gguf_metadata(path)
    return md["tokenizer.ggml.tokens"], md["tokenizer.ggml.scores"]


def read_gguf_metadata(path):
    """Every metadata key/value of a GGUF v2/v3 file (reference/chat/gguf_meta.py's reader)."""
    return gguf_meta.read_metadata(path)


def merges(pieces, scores):
    vocab = {p: i for i, p in enumerate(pieces)}
    out = []
    for i, piece in enumerate(pieces):
        score = 0.0 if i < 3 else scores[i]
        local = [(piece[:k], piece[k:], score) for k in range(1, len(piece))
                 if piece[:k] in vocab and piece[k:] in vocab]
        local.sort(key=lambda m: (vocab[m[0]], vocab[m[1]]))
        out.extend(local)
    out.sort(key=lambda m: m[2], reverse=True)
    return [[a, b] for a, b, _ in out]


def main():
    gguf, out, layout = sys.argv[1:4]
    pieces, scores = read_gguf_vocab(gguf)
    added = [{"id": i, "content": pieces[i], "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i in range(3)]
    if layout == "legacy":
        normalizer = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": META},
                      {"type": "Replace", "pattern": {"String": " "}, "content": META}]}
        pre = None
    else:
        normalizer = None
        pre = {"type": "Metaspace", "replacement": META, "prepend_scheme": "first", "split": False}
    root = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": normalizer, "pre_tokenizer": pre,
            "post_processor": {"type": "TemplateProcessing",
                               "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                          {"Sequence": {"id": "A", "type_id": 0}}],
                               "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": META}, "content": " "}, {"type": "ByteFallback"},
                {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
            "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                      "vocab": {p: i for i, p in enumerate(pieces)}, "merges": merges(pieces, scores)}}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(root, f, ensure_ascii=False)
    print(f"{len(pieces)} pieces, {len(root['model']['merges'])} merges -> {out}")


if __name__ == "__main__":
    main()
