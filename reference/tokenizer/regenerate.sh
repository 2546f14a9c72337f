#!/bin/sh
# Regenerates the SentencePiece-style fixtures under models/src/test/resources/golden/tokenizer/{spm_bpe,unigram}.
# Needs: python3; node with transformers.js installed in /tmp/tjs (see hf_spm_reference.mjs); Maven online once
# for hf-rust/ (Hugging Face's Rust tokenizers through DJL, whose jar carries the native library).
set -e
cd "$(dirname "$0")"
G=../../models/src/test/resources/golden/tokenizer
python3 make_spm_bpe.py $G/spm_bpe
python3 make_unigram.py $G/unigram
SPM="$G/spm_bpe/spm_bpe_legacy.json $G/spm_bpe/spm_bpe_ms_first.json $G/spm_bpe/spm_bpe_ms_always.json \
  $G/spm_bpe/spm_bpe_ms_never.json $G/spm_bpe/spm_bpe_ms_split.json $G/spm_bpe/spm_bpe_legacy_nobytes.json \
  $G/spm_bpe/spm_bpe_legacy_normtok.json"
UNI="$G/unigram/uni_always.json $G/unigram/uni_bytes.json $G/unigram/uni_first.json"
node hf_spm_reference.mjs $G/spm_bpe/spm_bpe_reference.json $SPM
node hf_spm_reference.mjs $G/unigram/unigram_reference.json $UNI
ABS=$(cd $G && pwd)
cd hf-rust
mvn -q -B compile exec:java -Dexec.mainClass=HfRustReference \
  -Dexec.args="../spm_texts.json $ABS/spm_bpe/spm_bpe_reference_rust.json $(for f in $SPM; do printf '%s ' "$ABS/${f#$G/}"; done)"
mvn -q -B compile exec:java -Dexec.mainClass=HfRustReference \
  -Dexec.args="../spm_texts.json $ABS/unigram/unigram_reference_rust.json $(for f in $UNI; do printf '%s ' "$ABS/${f#$G/}"; done)"
# Llama 2's vocabulary (llama.cpp's llama-spm GGUF) in the Metaspace layout, on llama.cpp's test inputs.
SHARED=../../../../shared/models/tokenizers
T=$(mktemp -d)
python3 ../llama_spm_to_json.py $SHARED/ggml-vocab-llama-spm.gguf $T/llama_metaspace.json metaspace
python3 -c "import json,sys; p=open(sys.argv[1],encoding='utf-8').read().split('\n__ggml_vocab_test__\n')[:-1]; \
json.dump(p, open(sys.argv[2],'w'), ensure_ascii=False)" $SHARED/ggml-vocab-llama-spm.gguf.inp $T/inputs.json
mvn -q -B compile exec:java -Dexec.mainClass=HfRustReference \
  -Dexec.args="$T/inputs.json $ABS/llama_spm_metaspace_rust.json $T/llama_metaspace.json"
rm -rf target $T
# Precompiled normalizer + WhitespaceSplit (T5/ALBERT layout) and Phi-3's rstrip specials, with Hugging Face's
# Rust tokenizers from PyPI: pip install --target /tmp/pytok tokenizers sentencepiece
cd ..
PYTHONPATH=/tmp/pytok python3 make_precompiled.py $G/precompiled
PYTHONPATH=/tmp/pytok python3 phi3_rstrip_reference.py $SHARED/ggml-vocab-phi-3.gguf $G/phi3_rstrip.json
