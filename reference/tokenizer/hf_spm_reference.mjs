// transformers.js reference for SentencePiece-style BPE tokenizer.json files (Llama 2 layouts).
//
// Loads each tokenizer.json named on the command line (make_spm_bpe.py, make_unigram.py) with transformers.js' LlamaTokenizer
// (which runs @huggingface/tokenizers, the JS port of Hugging Face tokenizers) and writes
// OUT.json: for every variant and each text of spm_texts.json, the ids with the template's special tokens, the ids
// without them, and the decoded text (special tokens skipped / rendered). Special-token text in the input is
// always split out (transformers.js has no switch for that). clean_up_tokenization_spaces is off, as in
// Llama 2's tokenizer_config.json. Known differences from the Rust library (hf-rust/, the canonical one): the
// Metaspace decoder drops only a leading space of the first token (Rust: every ▁ of it), and the Metaspace
// pre-tokenizer ignores "split".
//
// Setup (never commit node_modules):  cd /tmp/tjs && npm install @huggingface/transformers --ignore-scripts
// Usage: node hf_spm_reference.mjs OUT.json a.json b.json ...   (variant name: file name less spm_bpe_ and .json)
//   env TRANSFORMERS_MODULE defaults to /tmp/tjs/node_modules/@huggingface/transformers/dist/transformers.node.mjs
import fs from 'node:fs';
import path from 'node:path';

const [outFile, ...files] = process.argv.slice(2);
const modulePath = process.env.TRANSFORMERS_MODULE ?? '/tmp/tjs/node_modules/@huggingface/transformers/dist/transformers.node.mjs';
const { LlamaTokenizer, env } = await import(modulePath);

const TEXTS = JSON.parse(fs.readFileSync(new URL('./spm_texts.json', import.meta.url), 'utf8'));

const out = { generator: `transformers.js ${env.version} LlamaTokenizer (reference/tokenizer/hf_spm_reference.mjs)`, variants: {} };
for (const file of files) {
  const v = path.basename(file, '.json').replace(/^spm_bpe_/, '');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
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
// One case per line, so that a regenerated fixture diffs readably.
const body = Object.entries(out.variants).map(([v, cases]) =>
  `  ${JSON.stringify(v)}: [\n${cases.map((c) => '   ' + JSON.stringify(c)).join(',\n')}\n  ]`).join(',\n');
fs.writeFileSync(outFile, `{"generator": ${JSON.stringify(out.generator)}, "variants": {\n${body}\n}}\n`);
console.log(`${files.length} variants x ${TEXTS.length} texts -> ${outFile}`);
