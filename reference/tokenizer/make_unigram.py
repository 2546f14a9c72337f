#!/usr/bin/env python3
"""Writes small synthetic SentencePiece Unigram tokenizer.json files for the references (hf-rust/ and
hf_spm_reference.mjs) and the Java tests.

Pieces are the characters and merged pieces that make_spm_bpe.py's tiny BPE learns on its corpus; each
piece gets a log-probability from how often it occurs in the ▁-joined corpus (a crude unigram estimate,
log((count + 1) / total)), with a tiny per-piece offset so that no two totals tie by accident. Layout as
a SentencePiece Unigram model converted by Hugging Face: <unk>, <s>, </s>, the 256 byte pieces (score
0), then pieces by descending score; vocab is a list of [piece, score], unk_id 0.

Variants:
  uni_always  pre_tokenizer Metaspace always + split (T5 style), decoder Metaspace, no byte fallback,
              template "$A </s>"
  uni_bytes   legacy normalizer Prepend/Replace, decoder Replace/ByteFallback/Fuse/Strip, byte fallback,
              template "<s> $A"
  uni_first   pre_tokenizer Metaspace first, no split, same decoder, byte fallback, template "<s> $A"
Usage: python3 make_unigram.py OUT_DIR
"""
import json
import math
import sys

import make_spm_bpe as bpe

META = bpe.META


def pieces_and_scores():
    chars, merges = bpe.train(bpe.CORPUS)
    vocab, _ = bpe.build(chars, merges)
    pieces = [p for p in vocab[3 + 256:]]
    text = "".join(META + w for line in bpe.CORPUS.split("\n") for w in line.split(" ") if w)
    total = len(text)
    scored = []
    for i, p in enumerate(pieces):
        count = text.count(p)
        scored.append((p, math.log((count + 1) / total) * len(p) ** 0.5 - i * 1e-4))
    scored.sort(key=lambda ps: -ps[1])
    return [["<unk>", 0.0], ["<s>", 0.0], ["</s>", 0.0]] + [["<0x%02X>" % b, 0.0] for b in range(256)] + \
        [[p, s] for p, s in scored]


def tokenizer_json(vocab, variant):
    n = len(vocab)
    added = [{"id": i, "content": vocab[i][0], "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i in range(3)]
    added.append({"id": n, "content": "<|tool|>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True})
    added.append({"id": n + 1, "content": "[[x]]", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": False})
    seq_decoder = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": META}, "content": " "}, {"type": "ByteFallback"},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    if variant == "uni_always":
        normalizer = None
        pre = {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True}
        decoder = {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True}
        single = [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}]
        specials = {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}
    else:
        if variant == "uni_bytes":
            normalizer = {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": META},
                {"type": "Replace", "pattern": {"String": " "}, "content": META}]}
            pre = None
        else:
            normalizer = None
            pre = {"type": "Metaspace", "replacement": META, "prepend_scheme": "first", "split": False}
        decoder = seq_decoder
        single = [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]
        specials = {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}
    post = {"type": "TemplateProcessing", "single": single, "pair": single + single, "special_tokens": specials}
    model = {"type": "Unigram", "unk_id": 0, "vocab": vocab, "byte_fallback": variant != "uni_always"}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": normalizer, "pre_tokenizer": pre, "post_processor": post, "decoder": decoder,
            "model": model}


def main():
    out = sys.argv[1]
    vocab = pieces_and_scores()
    for variant in ["uni_always", "uni_bytes", "uni_first"]:
        with open(f"{out}/{variant}.json", "w", encoding="utf-8") as f:
            json.dump(tokenizer_json(vocab, variant), f, ensure_ascii=False, separators=(",", ":"))
    print(f"{len(vocab)} pieces")


if __name__ == "__main__":
    main()
