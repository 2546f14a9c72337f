// transformers.js reference for SentencePiece-style BPE tokenizer.json files (Llama 2 layouts).
//
// Loads each spm_bpe_<variant>.json written by make_spm_bpe.py with transformers.js' LlamaTokenizer
// (which runs @huggingface/tokenizers, the JS port of Hugging Face tokenizers) and writes
// spm_bpe_reference.json: for every variant and each text of spm_texts.json, the ids with the template's special tokens, the ids
// without them, and the decoded text (special tokens skipped / rendered). Special-token text in the input is
// always split out (transformers.js has no switch for that). clean_up_tokenization_spaces is off, as in
// Llama 2's tokenizer_config.json. Known differences from the Rust library (hf-rust/, the canonical one): the
// Metaspace decoder drops only a leading space of the first token (Rust: every ▁ of it), and the Metaspace
// pre-tokenizer ignores "split".
//
// Setup (never commit node_modules):  cd /tmp/tjs && npm install @huggingface/transformers --ignore-scripts
// Usage: node hf_spm_reference.mjs DIR_WITH_JSON [TRANSFORMERS_MODULE]
//   TRANSFORMERS_MODULE defaults to /tmp/tjs/node_modules/@huggingface/transformers/dist/transformers.node.mjs
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const modulePath = process.argv[3] ?? '/tmp/tjs/node_modules/@huggingface/transformers/dist/transformers.node.mjs';
const { LlamaTokenizer, env } = await import(modulePath);

const TEXTS = JSON.parse(fs.readFileSync(new URL('./spm_texts.json', import.meta.url), 'utf8'));

const variants = ['legacy', 'ms_first', 'ms_always', 'ms_never', 'ms_split', 'legacy_nobytes'];
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
