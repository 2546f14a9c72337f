#!/usr/bin/env python3
"""Writes small synthetic SentencePiece-style BPE tokenizer.json files (Llama 2 layout family) for the
transformers.js reference (hf_spm_reference.mjs) and the Java tests.

A tiny BPE is trained here from scratch on the corpus below: words start with U+2581 ("▁"), the most
frequent adjacent pair is merged (ties: lexicographically smallest pair), 300 merges. Vocabulary layout
as Llama 2: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, then single characters, then merged
pieces in merge order, then two whitespace pieces ("▁▁", "▁▁▁▁"). Newline and tab are left out of the
characters so that they go through byte fallback; so are most CJK characters and emoji.

Variants (the layouts the Java loader accepts):
  legacy         normalizer Sequence[Prepend ▁, Replace " "->▁], decoder Replace/ByteFallback/Fuse/Strip
  ms_first       pre_tokenizer Metaspace prepend_scheme first, decoder Metaspace (no ByteFallback step)
  ms_always      pre_tokenizer Metaspace prepend_scheme always, decoder Replace/ByteFallback/Fuse/Strip
  ms_never       pre_tokenizer Metaspace prepend_scheme never, decoder Replace/ByteFallback/Fuse (no Strip)
  ms_split       pre_tokenizer Metaspace prepend_scheme first with split true, decoder as legacy
  legacy_nobytes as legacy but byte_fallback false (unknown characters -> fused <unk>)
  legacy_normtok as legacy but the user-defined token [[x]] is "normalized": true (matched after Prepend)
Usage: python3 make_spm_bpe.py OUT_DIR
"""
import json
import sys
from collections import Counter

META = "\u2581"
CORPUS = """
The quick brown fox jumps over the lazy dog. The dog sleeps in the sun and the fox runs in the field.
Hello world! Hello there, how are you doing today? I am doing well, thank you for asking.
Tokenizers split text into pieces; the pieces are mapped to numbers that a model reads.
def main(): return the_value * 2 + other_value  # code has underscores and operators
Numbers like 123, 4567 and 89 appear in text, and so do dates such as 2024-01-15.
Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber sch\u00f6n gr\u00fc\u00dfe, \u00e0 la carte.
\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440, \u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442.
\u4f60\u597d \u4e16\u754c
Don't stop believing; it's what we're told. They'll see, won't they?
the the the and and and of of to to in in is is that that it it was was for for on on
"""
N_MERGES = 300


def train(corpus):
    words = Counter()
    for line in corpus.split("\n"):
        for w in line.split(" "):
            if w:
                words[META + w] += 1
    chars = Counter()
    for w, c in words.items():
        for ch in w:
            chars[ch] += c
    seqs = {w: list(w) for w in words}
    merges = []
    for _ in range(N_MERGES):
        pairs = Counter()
        for w, c in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], tuple(-ord(ch) for ch in kv[0][0] + "\0" + kv[0][1])))[0]
        merges.append(best)
        for w in words:
            s = seqs[w]
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return chars, merges


def build(chars, merges):
    vocab = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    for ch, _ in sorted(chars.items(), key=lambda kv: (-kv[1], kv[0])):
        if ch not in vocab:
            vocab.append(ch)
    for a, b in merges:
        if a + b not in vocab:
            vocab.append(a + b)
    merges = list(merges) + [(META, META), (META * 2, META * 2)]
    vocab += [META * 2, META * 4]
    return vocab, merges


def tokenizer_json(vocab, merges, variant):
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(vocab[:3])]
    n = len(vocab)
    added.append({"id": n, "content": "<|tool|>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True})
    added.append({"id": n + 1, "content": "[[x]]", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": variant == "legacy_normtok", "special": False})
    legacy = variant.startswith("legacy")
    scheme = {"ms_first": "first", "ms_always": "always", "ms_never": "never", "ms_split": "first"}.get(variant)
    normalizer = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": META},
        {"type": "Replace", "pattern": {"String": " "}, "content": META}]} if legacy else None
    pre = None if legacy else {"type": "Metaspace", "replacement": META, "prepend_scheme": scheme,
                               "split": variant == "ms_split"}
    steps = [{"type": "Replace", "pattern": {"String": META}, "content": " "}, {"type": "ByteFallback"},
             {"type": "Fuse"}]
    if variant != "ms_never":
        steps.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    decoder = ({"type": "Metaspace", "replacement": META, "prepend_scheme": "first", "split": False}
               if variant == "ms_first" else {"type": "Sequence", "decoders": steps})
    post = {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    # Llama 2's own file stores merges as "left right" strings; newer files as [left, right] arrays.
    merge_list = [a + " " + b for a, b in merges] if legacy else [[a, b] for a, b in merges]
    model = {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": variant != "legacy_nobytes",
             "ignore_merges": False, "vocab": {t: i for i, t in enumerate(vocab)}, "merges": merge_list}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": normalizer, "pre_tokenizer": pre, "post_processor": post, "decoder": decoder,
            "model": model}


def main():
    out = sys.argv[1]
    chars, merges = train(CORPUS)
    vocab, merges = build(chars, merges)
    assert len(set(vocab)) == len(vocab)
    for variant in ["legacy", "ms_first", "ms_always", "ms_never", "ms_split", "legacy_nobytes", "legacy_normtok"]:
        with open(f"{out}/spm_bpe_{variant}.json", "w", encoding="utf-8") as f:
            json.dump(tokenizer_json(vocab, merges, variant), f, ensure_ascii=False, separators=(",", ":"))
    print(f"{len(vocab)} pieces, {len(merges)} merges")


if __name__ == "__main__":
    main()
