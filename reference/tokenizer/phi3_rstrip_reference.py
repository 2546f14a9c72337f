#!/usr/bin/env python3
"""Reference ids for special tokens that swallow the whitespace after them (rstrip), as in Phi-3.

Builds Phi-3's tokenizer.json from llama.cpp's ggml-vocab-phi-3.gguf (pieces, scores; merges and the legacy
Prepend/Replace layout as llama_spm_to_json.py writes them), with the added tokens of Phi-3-mini's own
tokenizer.json: every control / user-defined piece below the 32011 HF vocabulary is special, and all of them
have rstrip true except <unk>, <s> and <|endoftext|>. Hugging Face's Rust tokenizers (the `tokenizers` wheel)
then encodes chat-formatted TEXTS with special tokens parsed and no template; the ids go to OUT.json.
(llama.cpp applies the same rule to a GGUF whose general.name contains "phi3" / "phi-3".)

Needs: pip install --target /tmp/pytok tokenizers
Usage: PYTHONPATH=/tmp/pytok python3 phi3_rstrip_reference.py ggml-vocab-phi-3.gguf OUT.json
"""
import json
import sys

import tokenizers

import llama_spm_to_json as conv

META = conv.META
HF_VOCAB = 32011           # Phi-3-mini's tokenizer.json has 32011 entries; the GGUF pads to 32064
NO_RSTRIP = {"<unk>", "<s>", "<|endoftext|>"}
TEXTS = ["<|user|>\nHow are you?<|end|>\n<|assistant|>\nI am fine.<|end|>",
         "Hello</s> world", "</s>   three spaces", "<s> bos keeps its space", "<|endoftext|> eot keeps its space",
         "<|system|>\tTab after system<|end|>\n", "a <|placeholder1|>  b", "<unk> x", "<|end|>\n\n\nnewlines",
         "x<|user|>y", "<|user|> \n <|assistant|>"]


def main():
    gguf, out = sys.argv[1:3]
    md = conv.read_gguf_metadata(gguf)
    pieces = md["tokenizer.ggml.tokens"][:HF_VOCAB]
    scores = md["tokenizer.ggml.scores"][:HF_VOCAB]
    types = md["tokenizer.ggml.token_type"][:HF_VOCAB]
    added = [{"id": i, "content": pieces[i], "single_word": False, "lstrip": False,
              "rstrip": pieces[i] not in NO_RSTRIP, "normalized": False, "special": True}
             for i in range(len(pieces)) if types[i] in (2, 3, 4) and pieces[i].startswith("<")]
    root = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": META}, {"type": "Replace", "pattern": {"String": " "}, "content": META}]},
            "pre_tokenizer": None, "post_processor": None,
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": META}, "content": " "}, {"type": "ByteFallback"},
                {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
            "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                      "vocab": {p: i for i, p in enumerate(pieces)}, "merges": conv.merges(pieces, scores)}}
    tok = tokenizers.Tokenizer.from_str(json.dumps(root))
    cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in TEXTS]
    ref = {"generator": f"reference/tokenizer/phi3_rstrip_reference.py, tokenizers {tokenizers.__version__} (Rust)",
           "rstrip": [a["content"] for a in added if a["rstrip"]], "cases": cases}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=False, indent=1)
    for c in cases:
        print(repr(c["text"]), c["ids"])


if __name__ == "__main__":
    main()
