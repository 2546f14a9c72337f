#!/usr/bin/env bash
# llama.cpp's Q4_K_M with an importance matrix against Interlayer's calibrated quantizers on the same model and text
# (issue #13; BENCHMARKS §28). Needs a llama.cpp build (LLAMA=dir with llama-quantize, llama-perplexity and, if
# present, llama-imatrix; default /tmp/llamacpp/build/bin); not part of any test. Without llama-imatrix the Q4_K_M
# files are made with Interlayer's importance matrix (--imatrix-out, llama.cpp's legacy imatrix.dat layout).
#   1. llama-imatrix on bench/quant/calibration.txt (windows of 512), then llama-quantize --imatrix … Q4_K_M twice:
#      with llama.cpp's own embedding/output types, and with both kept F32 (as Interlayer's files keep them);
#   2. bits per weight of the quantized block linears (q, k, v, o, gate, up: what Interlayer quantizes) read off
#      llama-quantize's per-tensor log (rows that are not multiples of 256 fall back from K-quants to other types);
#   3. Interlayer at the same or fewer bits: --method mixed --target-bits <that bpw> on GGUF types, GPTQ on Q5_0
#      (which also writes Interlayer's importance matrix, --imatrix-out, for a Q4_K_M made with it instead);
#   4. every file evaluated by ./interlayer eval (KLD against the F32 model on bench/quant/heldout.txt, the §14
#      protocol) and, as a cross-check, by llama-perplexity --kl-divergence (its own protocol: second half of
#      each 512-token window).
# Usage: bench/quant/llamacpp-peer.sh [MODEL.gguf]; IL= a frozen launcher; OUT= output directory;
#        SKIP_OURS=1 to evaluate llama.cpp's files only.
set -euo pipefail
cd "$(dirname "$0")/../.."
M=${1:-../shared/models/stories260K/stories260K.gguf}
LLAMA=${LLAMA:-/tmp/llamacpp/build/bin}
OUT=${OUT:-${TMPDIR:-/tmp}/interlayer-llamacpp-peer}
IL=${IL:-./interlayer}
CAL=bench/quant/calibration.txt
TXT=bench/quant/heldout.txt
mkdir -p "$OUT"
for b in llama-quantize llama-perplexity; do
  [ -x "$LLAMA/$b" ] || { echo "llamacpp-peer.sh: $LLAMA/$b not found (set LLAMA=dir of a llama.cpp build)" >&2; exit 1; }
done

# Interlayer's GPTQ on Q5_0, which also writes its importance matrix of the same text (--imatrix-out)
gptq_q5_0() {
  $IL quantize --model "$M" --calibration "$CAL" --method gptq --format q5_0 --out "$OUT/gptq-q5_0.gguf" \
      --imatrix-out "$OUT/interlayer.imatrix.dat" > "$OUT/gptq-q5_0.qlog" 2> "$OUT/gptq-q5_0.err"
}
if [ -x "$LLAMA/llama-imatrix" ]; then
  "$LLAMA/llama-imatrix" -m "$M" -f "$CAL" -o "$OUT/imatrix.gguf" -c 512 -t 1 > "$OUT/imatrix.log" 2>&1
  IMATRIX=$OUT/imatrix.gguf
else
  # a build without llama-imatrix: llama-quantize reads Interlayer's legacy imatrix.dat instead (the statistics
  # equal llama-imatrix's to 1e-3 on this model, BENCHMARKS §28), so every Q4_K_M below uses Interlayer's matrix
  echo "llamacpp-peer.sh: no $LLAMA/llama-imatrix; the Q4_K_M files use Interlayer's importance matrix (--imatrix-out)" >&2
  gptq_q5_0
  IMATRIX=$OUT/interlayer.imatrix.dat
fi
"$LLAMA/llama-quantize" --imatrix "$IMATRIX" "$M" "$OUT/q4km.gguf" Q4_K_M 1 > "$OUT/q4km.log" 2>&1
"$LLAMA/llama-quantize" --imatrix "$IMATRIX" --token-embedding-type f32 --output-tensor-type f32 \
    "$M" "$OUT/q4km-f32eo.gguf" Q4_K_M 1 > "$OUT/q4km-f32eo.log" 2>&1

# bits per weight of the block linears q, k, v, o, gate, up in a llama-quantize log (ggml block sizes); the
# "converting to TYPE" of a tensor is on its "[ i/ n] name - [cols, rows, …]" line or a few lines after it
bpw() {
  awk 'BEGIN { b["q4_0"] = 4.5; b["q4_1"] = 5; b["q5_0"] = 5.5; b["q5_1"] = 6; b["q8_0"] = 8.5; b["f16"] = 16
               b["bf16"] = 16; b["q2_K"] = 2.625; b["q3_K"] = 3.4375; b["q4_K"] = 4.5; b["q5_K"] = 5.5
               b["q6_K"] = 6.5625; b["iq4_nl"] = 4.5 }
       /\.weight - \[/ {
         pending = $0 ~ /blk\.[0-9]+\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up)\.weight/
         line = $0; gsub(/[\[\],]/, " ", line); k = split(line, a, " "); n = 0
         for (i = 1; i < k; i++) { if (a[i] == "-") { n = a[i+1] * a[i+2]; break } } }
       pending && /converting to/ {
         match($0, /converting to [A-Za-z0-9_]+/); t = substr($0, RSTART + 14, RLENGTH - 14); pending = 0
         if (!(t in b)) { print "unknown type " t > "/dev/stderr"; exit 1 }
         bits += n * b[t]; w += n; types[t]++ }
       END { s = ""; for (t in types) s = s types[t] "x" t " "; printf "%.4f %s\n", bits / w, s }' "$1"
}
read -r BPW TYPES < <(bpw "$OUT/q4km.log")
echo "llama.cpp Q4_K_M block linears: $BPW bits per weight ($TYPES); whole file: $(sed -n 's/.*quant size *= *\(.*\)/\1/p' "$OUT/q4km.log")"

if [ -z "${SKIP_OURS:-}" ]; then
  # shellcheck disable=SC2086
  $IL quantize --model "$M" --calibration "$CAL" --method mixed --ladder q8_0,q5_1,q5_0,q4_1,q4_0 \
      --target-bits "$BPW" --out "$OUT/mixed.gguf" > "$OUT/mixed.qlog" 2> "$OUT/mixed.err"
  if [ "$IMATRIX" = "$OUT/imatrix.gguf" ]; then
    gptq_q5_0
    # llama.cpp's Q4_K_M with Interlayer's importance matrix instead of its own (format compatibility)
    "$LLAMA/llama-quantize" --imatrix "$OUT/interlayer.imatrix.dat" --token-embedding-type f32 --output-tensor-type f32 \
        "$M" "$OUT/q4km-f32eo-ourimatrix.gguf" Q4_K_M 1 > "$OUT/q4km-f32eo-ourimatrix.log" 2>&1
  fi
fi

# llama-perplexity's KLD: base logits of the F32 model once, then each file against them
"$LLAMA/llama-perplexity" -m "$M" -f "$TXT" -c 512 -t 1 --kl-divergence-base "$OUT/base.kld" > "$OUT/base.plog" 2>&1
printf '%-22s %-7s %-10s %-10s %-8s %-8s | %-10s %-10s %s\n' file bpw "KLD mean" "KLD p99" top-1 PPL \
    "llama KLD" "llama p99" "llama top-1"
for f in q4km q4km-f32eo q4km-f32eo-ourimatrix mixed gptq-q5_0; do
  [ -f "$OUT/$f.gguf" ] || continue
  $IL eval --model "$OUT/$f.gguf" --reference "$M" --text "$TXT" > "$OUT/$f.eval" 2>/dev/null
  "$LLAMA/llama-perplexity" -m "$OUT/$f.gguf" -f "$TXT" -c 512 -t 1 --kl-divergence-base "$OUT/base.kld" \
      --kl-divergence > "$OUT/$f.plog" 2>&1
  case $f in
    q4km*) b=$BPW ;;
    *) b=$(sed -n 's/.* quantized at \([0-9.]*\) bits per weight.*/\1/p' "$OUT/$f.qlog") ;;
  esac
  kld=$(awk '/^KLD mean/ {print $3, $5}' "$OUT/$f.eval")
  top1=$(awk '/^top-1/ {print $3}' "$OUT/$f.eval")
  ppl=$(awk '/^perplexity/ {print $2}' "$OUT/$f.eval")
  lk=$(awk '/^Mean +KLD:/ {print $3}' "$OUT/$f.plog")
  lp=$(awk '/^99.0% +KLD:/ {print $3; exit}' "$OUT/$f.plog")   # this build prints the line twice
  lt=$(awk '/^Same top p:/ {print $4}' "$OUT/$f.plog")
  printf '%-22s %-7s %-10s %-10s %-8s %-8s | %-10s %-10s %s\n' "$f" "$b" ${kld} "$top1" "$ppl" "$lk" "$lp" "$lt"
done
awk '/^reference perplexity/ {print "float32 PPL " $3; exit}' "$OUT/q4km.eval"
