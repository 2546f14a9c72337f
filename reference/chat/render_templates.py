"""Reference renderings of chat templates with Python's jinja2, in the environment Hugging Face's
apply_chat_template builds (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
raise_exception, tojson as json.dumps). Writes models/src/test/resources/golden/chat/templates.json, read by ChatTemplateTest.

Templates: our own files in templates/ (written in the idioms of the Llama 3, Qwen2, Mistral, Gemma and Phi-3
templates, reproducing each family's documented prompt format) and the real Phi-3 template inside
../shared/models/tokenizers/ggml-vocab-phi-3.gguf (read here with gguf_meta.py, in Java with GgufFile; its text
is not copied into the fixture).

Run: pip install --target /tmp/pyj jinja2; PYTHONPATH=/tmp/pyj python3 reference/chat/render_templates.py
"""
import json
import os
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gguf_meta  # noqa: E402

OUT = os.path.join(ROOT, "models/src/test/resources/golden/chat/templates.json")
PHI3 = os.path.join(ROOT, "../shared/models/tokenizers/ggml-vocab-phi-3.gguf")


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # Hugging Face replaces jinja2's HTML-safe, key-sorting tojson with plain json.dumps
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


ENV = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
ENV.globals["raise_exception"] = raise_exception
ENV.filters["tojson"] = tojson


def msg(role, content):
    return {"role": role, "content": content}


# Conversations every template is rendered with: plain, multi-turn, whitespace to trim, non-ASCII, and the
# shapes that some templates refuse (system turn, roles out of order).
CONVERSATIONS = {
    "user": [msg("user", "Hello!")],
    "system_user": [msg("system", "  You are terse. "), msg("user", "What is 2+2?")],
    "multi_turn": [msg("user", "Hi"), msg("assistant", "Hello, how can I help?"), msg("user", "Tell me a joke.")],
    "whitespace": [msg("user", "\n  padded text \t\n"), msg("assistant", " answer  with  spaces "),
                   msg("user", "/cmd  x")],
    "unicode": [msg("user", "Grüße, 世界 — ünïcödé? 🙂")],
    "reasoning": [msg("user", "Why?"), msg("assistant", "<think>hidden</think>\n\nBecause!"), msg("user", "ok")],
    "out_of_order": [msg("assistant", "I speak first"), msg("user", "hm")],
}

SPECIALS = {
    "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen2": ("", "<|im_end|>"),
    "mistral": ("<s>", "</s>"),
    "gemma": ("<bos>", "<eos>"),
    "phi3": ("<s>", "<|endoftext|>"),
    "python_methods": ("<s>", "</s>"),
}


def render(source, bos, eos, messages, add_generation_prompt):
    try:
        out = ENV.from_string(source).render(messages=messages, bos_token=bos, eos_token=eos,
                                             add_generation_prompt=add_generation_prompt)
        return {"expected": out}
    except jinja2.exceptions.TemplateError as e:
        return {"error": str(e)}


def cases(source, bos, eos):
    out = []
    for name, messages in CONVERSATIONS.items():
        for agp in (True, False):
            c = {"conversation": name, "add_generation_prompt": agp, "messages": messages}
            c.update(render(source, bos, eos, messages, agp))
            out.append(c)
    return out


def main():
    templates = []
    for name in sorted(SPECIALS):
        with open(os.path.join(HERE, "templates", name + ".jinja"), encoding="utf-8") as f:
            source = f.read()
        bos, eos = SPECIALS[name]
        templates.append({"name": name, "source": source, "bos_token": bos, "eos_token": eos,
                          "cases": cases(source, bos, eos)})
    meta = gguf_meta.read_metadata(PHI3)
    tokens = meta["tokenizer.ggml.tokens"]
    bos, eos = tokens[meta["tokenizer.ggml.bos_token_id"]], tokens[meta["tokenizer.ggml.eos_token_id"]]
    templates.append({"name": "phi3-gguf", "gguf": "tokenizers/ggml-vocab-phi-3.gguf", "bos_token": bos,
                      "eos_token": eos, "cases": cases(meta["tokenizer.chat_template"], bos, eos)})
    fixture = {"format": "interlayer-chat-templates", "version": 1, "generator": "reference/chat/render_templates.py",
               "jinja2": jinja2.__version__, "note": "exact string equality: both engines render the same text",
               "templates": templates}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {sum(len(t['cases']) for t in templates)} cases over {len(templates)} templates")


if __name__ == "__main__":
    main()
