// transformers.js reference for SentencePiece-style BPE tokenizer.json files (Llama 2 layouts).
//
// Loads each spm_bpe_<variant>.json written by make_spm_bpe.py with transformers.js' LlamaTokenizer
// (which runs @huggingface/tokenizers, the JS port of Hugging Face tokenizers) and writes
// spm_bpe_reference.json: for every variant and text, the ids with the template's special tokens, the ids
// without them, and the decoded text (special tokens skipped / rendered). Special-token text in the input is
// always split out (transformers.js has no switch for that). clean_up_tokenization_spaces is off, as in
// Llama 2's tokenizer_config.json.
//
// Setup (never commit node_modules):  cd /tmp/tjs && npm install @huggingface/transformers --ignore-scripts
// Usage: node hf_spm_reference.mjs DIR_WITH_JSON [TRANSFORMERS_MODULE]
//   TRANSFORMERS_MODULE defaults to /tmp/tjs/node_modules/@huggingface/transformers/dist/transformers.node.mjs
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const modulePath = process.argv[3] ?? '/tmp/tjs/node_modules/@huggingface/transformers/dist/transformers.node.mjs';
const { LlamaTokenizer, env } = await import(modulePath);

const TEXTS = [
  '', 'Hello world', ' Hello world', 'Hello World', 'hello  world', '   leading', 'trailing   ',
  'multiple     spaces here', ' ', '  ', '\n', 'line1\nline2', '\n\n\n', 'tabs\tand\ttabs', 'a', 'ab',
  'emoji \u{1F999} llama', '\u{1F999}\u{1F999}', 'CJK \u4f60\u597d\u4e16\u754c', '\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8',
  '\u00dcn\u00efc\u00f6d\u00e9 \u00e0ccents', '\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac',
  '\u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442', 'mixed 123 numbers 4567',
  'punctuation!?.,;:', '<s>Hello', 'Hello</s>', 'a<s>b', '<s> spaced </s>', '<|tool|>call', 'x [[x]] y',
  '  <s>', 'code: def f(x): return x*2', 'The quick brown fox jumps over the lazy dog.', '\u00a0nbsp',
  'zero\u200bwidth', 'combining e\u0301', '\u{1D518}\u{1D52B}\u{1D526}', 'end with space ', "don't stop",
  'the the the the', 'Caf\u00e9 na\u00efve r\u00e9sum\u00e9', '\u043f\u0440\u0438\u0432\u0435\u0442 \u{1F680}!',
];

const variants = ['legacy', 'ms_first', 'ms_always', 'ms_never', 'legacy_nobytes'];
const out = { generator: `transformers.js ${env.version} LlamaTokenizer (reference/tokenizer/hf_spm_reference.mjs)`, variants: {} };
for (const v of variants) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, `spm_bpe_${v}.json`), 'utf8'));
  const tok = new LlamaTokenizer(json, { clean_up_tokenization_spaces: false });
  const cases = [];
  for (const text of TEXTS) {
    const ids = tok.encode(text, { add_special_tokens: true });
    const plain = tok.encode(text, { add_special_tokens: false });
    const opts = { clean_up_tokenization_spaces: false };
    const decoded = ids.length ? tok.decode(ids, { ...opts, skip_special_tokens: true }) : '';
    const decodedSpecial = ids.length ? tok.decode(ids, { ...opts, skip_special_tokens: false }) : '';
    cases.push({ text, ids, ids_no_special: plain, decoded, decoded_special: decodedSpecial });
  }
  out.variants[v] = cases;
}
fs.writeFileSync(path.join(dir, 'spm_bpe_reference.json'), JSON.stringify(out, null, 1) + '\n');
console.log(`${variants.length} variants x ${TEXTS.length} texts -> ${path.join(dir, 'spm_bpe_reference.json')}`);
