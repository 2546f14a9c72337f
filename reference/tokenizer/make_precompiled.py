#!/usr/bin/env python3
"""Writes small Unigram tokenizer.json files with a SentencePiece `Precompiled` normalizer (the T5 / ALBERT /
XLM-R layout) and their reference outputs from Hugging Face's Rust tokenizers (the `tokenizers` wheel).

The charsmap is not written here: SentencePiece's own trainer compiles it (Darts double-array trie +
normalized strings) from the small rule table RULES below (`normalization_rule_tsv`), so the trie bytes
come from the reference implementation; the vocabulary is make_unigram.py's.

Variants:
  uni_t5      normalizer Sequence[Precompiled, Replace(Regex " {2,}" -> " ")],
              pre_tokenizer Sequence[WhitespaceSplit, Metaspace(always, split)], decoder Metaspace, "$A </s>"
  uni_albert  normalizer Sequence[Replace("``" -> "\\""), Replace("''" -> "\\""), Lowercase, Precompiled,
              Replace(Regex " {2,}" -> " ")], pre_tokenizer WhitespaceSplit + Metaspace(always, split) as a
              Sequence, decoder Metaspace, "<s> $A"
Texts: spm_texts.json plus TEXTS below (the rules' characters, graphemes the trie only half matches).

Needs: pip install --target /tmp/pytok tokenizers sentencepiece
Usage: PYTHONPATH=/tmp/pytok python3 make_precompiled.py OUT_DIR
"""
import base64
import json
import os
import sys
import tempfile

import sentencepiece as spm
import tokenizers

import make_unigram as uni

META = uni.META

# source code points -> target code points (hex), SentencePiece's normalization_rule_tsv format
RULES = [("FF21", "41"), ("FF22", "42"), ("FF23", "43"), ("FF41", "61"), ("FF42", "62"), ("FF43", "63"),
         ("FB01", "66 69"),            # ligature fi -> "fi"
         ("2460", "31"),               # circled 1 -> "1"
         ("3000", "20"),               # ideographic space -> space
         ("9", "20"),                  # tab -> space
         ("A0", "20"),                 # no-break space -> space
         ("AD", ""),                   # soft hyphen -> removed
         ("65 301", "E9"),             # e + combining acute -> é
         ("6F", "4F"),                 # o -> O, so that:
         ("6F 308", "F6"),             # o + combining diaeresis: HF takes the shortest trie match ("o" -> "O")
         ("2126", "3A9"),              # ohm sign -> omega
         ("FF01", "21")]               # fullwidth ! -> !

TEXTS = ["ＡＢＣ ａｂｃ", "ﬁne ﬁsh", "① two", "wide\u3000space", "tab\there", "no\u00a0break", "soft\u00adhyphen",
         "cafe\u0301", "zoo\u0308 o\u0308", "\u2126hm", "Ｈｉ！", "a  \t  b", "\n\nlines\n", "``quoted''",
         "MiXeD CaSe", "e\u0301\u0301", " \u3000 ", "x\u200by"]


def charsmap():
    """Trains a throwaway model with RULES and returns its normalizer_spec.precompiled_charsmap bytes."""
    with tempfile.TemporaryDirectory() as d:
        rules = os.path.join(d, "rules.tsv")
        with open(rules, "w", encoding="utf-8") as f:
            for src, dst in RULES:
                f.write(f"{src}\t{dst}\n")
        corpus = os.path.join(d, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("hello world\nthe quick brown fox\n" * 20)
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(d, "m"), vocab_size=40,
                                       normalization_rule_tsv=rules, model_type="unigram", hard_vocab_limit=False)
        with open(os.path.join(d, "m.model"), "rb") as f:
            model = f.read()
    spec = proto_field(model, 3)          # ModelProto.normalizer_spec
    return proto_field(spec, 2)           # NormalizerSpec.precompiled_charsmap


def proto_field(buf, number):
    """Bytes of the first length-delimited field `number` of a protobuf message."""
    pos = 0

    def varint():
        nonlocal pos
        shift = value = 0
        while True:
            b = buf[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value

    while pos < len(buf):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            varint()
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            n = varint()
            if field == number:
                return buf[pos:pos + n]
            pos += n
        else:
            raise ValueError(f"wire type {wire}")
    raise KeyError(number)


def tokenizer_json(vocab, variant, cmap):
    n = len(vocab)
    added = [{"id": i, "content": vocab[i][0], "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i in range(3)]
    added.append({"id": n, "content": "<|tool|>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True})
    precompiled = {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(cmap).decode("ascii")}
    spaces = {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}
    steps = [precompiled, spaces]
    if variant == "uni_albert":
        steps = [{"type": "Replace", "pattern": {"String": "``"}, "content": "\""},
                 {"type": "Replace", "pattern": {"String": "''"}, "content": "\""},
                 {"type": "Lowercase"}] + steps
    meta = {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True}
    pre = {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, meta]}
    if variant == "uni_t5":
        single = [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}]
        specials = {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}
    else:
        single = [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]
        specials = {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}
    post = {"type": "TemplateProcessing", "single": single, "pair": single + single, "special_tokens": specials}
    model = {"type": "Unigram", "unk_id": 0, "vocab": vocab, "byte_fallback": False}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "Sequence", "normalizers": steps}, "pre_tokenizer": pre,
            "post_processor": post, "decoder": meta, "model": model}


def main():
    out = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "spm_texts.json"), encoding="utf-8") as f:
        texts = json.load(f) + TEXTS
    cmap = charsmap()
    vocab = uni.pieces_and_scores()
    variants = {}
    for variant in ["uni_t5", "uni_albert"]:
        js = tokenizer_json(vocab, variant, cmap)
        with open(f"{out}/{variant}.json", "w", encoding="utf-8") as f:
            json.dump(js, f, ensure_ascii=False, separators=(",", ":"))
        tok = tokenizers.Tokenizer.from_str(json.dumps(js))
        cases = []
        for t in texts:
            ids = tok.encode(t).ids
            cases.append({"text": t, "ids": ids, "ids_no_special": tok.encode(t, add_special_tokens=False).ids,
                          "normalized": tok.normalizer.normalize_str(t),
                          "decoded": tok.decode(ids, skip_special_tokens=True),
                          "decoded_special": tok.decode(ids, skip_special_tokens=False)})
        variants[variant] = cases
    ref = {"generator": f"reference/tokenizer/make_precompiled.py, tokenizers {tokenizers.__version__} (Rust), "
                        f"sentencepiece {spm.__version__} (charsmap)", "charsmap_bytes": len(cmap),
           "variants": variants}
    with open(f"{out}/precompiled_reference_rust.json", "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=False, indent=0)
    print(f"charsmap {len(cmap)} bytes; {len(texts)} texts")


if __name__ == "__main__":
    main()
