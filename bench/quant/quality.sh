#!/usr/bin/env bash
# One command for the quantizer quality table: quantizes stories260K with every method at the same bits/group
# on bench/quant/calibration.txt, then evaluates each file against the float32 model on bench/quant/heldout.txt
# (KLD mean / p99, top-1 agreement, perplexity) and prints one row per method with the quantizer's time per layer.
# Usage: bench/quant/quality.sh [MODEL.gguf] [extra quantize flags, e.g. --bits 4 --group 32 --sym]
set -euo pipefail
cd "$(dirname "$0")/../.."
M=${1:-../shared/models/stories260K/stories260K.gguf}
shift || true
OUT=${OUT:-${TMPDIR:-/tmp}/interlayer-quality}
# METHODS: any of rtn gptq awq boa aespa awq-gptq (awq-gptq is opt-in: AWQ's scales, then GPTQ's rounding)
METHODS=${METHODS:-rtn gptq awq boa aespa}
# IL: the launcher, or e.g. "java ... -jar frozen.jar" so that a run is not rebuilt mid-way by source edits
IL=${IL:-./interlayer}
mkdir -p "$OUT"
printf '%-6s %-10s %-10s %-8s %-9s %-18s %s\n' method "KLD mean" "KLD p99" top-1 PPL "s/layer (w/ calib)" "rel.err (mean)"
for method in $METHODS; do
  $IL quantize --model "$M" --method "$method" --calibration bench/quant/calibration.txt \
      --out "$OUT/$method.gguf" "$@" > "$OUT/$method.log" 2> "$OUT/$method.err"
  $IL eval --model "$OUT/$method.gguf" --reference "$M" --text bench/quant/heldout.txt > "$OUT/$method.eval" 2>/dev/null
  kld=$(awk '/^KLD mean/ {print $3, $5}' "$OUT/$method.eval")
  top1=$(awk '/^top-1/ {print $3}' "$OUT/$method.eval")
  ppl=$(awk '/^perplexity/ {print $2}' "$OUT/$method.eval")
  spl=$(sed -n 's/.*(\([0-9.]*\) s per layer, of which quantizing \([0-9.]*\) s.*/\2 (\1)/p' "$OUT/$method.log")
  err=$(awk '/mean rel. error/ {s += $NF; n++} END {if (n) printf "%.3e", s / n}' "$OUT/$method.log")
  printf '%-6s %-10s %-10s %-8s %-9s %-18s %s\n' "$method" ${kld} "$top1" "$ppl" "$spl" "$err"
done
awk '/^reference perplexity/ {print "float32 PPL " $3}' "$OUT/$method.eval"
head -1 "$OUT/$method.log"
