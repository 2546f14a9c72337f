#!/usr/bin/env bash
# Mixed precision against uniform formats on stories260K (issue #13; BENCHMARKS §22): every configuration is
# quantized on bench/quant/calibration.txt and evaluated IN MEMORY (dequantized weights, float arithmetic) on
# bench/quant/heldout.txt against the float32 model (`quantize --eval`), so formats without a GGUF type (i4, i3, i2)
# are measured on the same path as the GGUF ones. Prints one row per configuration: bits per weight of the
# quantized linears, held-out KLD mean / p99, top-1, PPL, and for mixed the calibration KLD it reached.
# Usage: bench/quant/mixed.sh [MODEL.gguf]; CONFIGS="name|flags;name|flags" to choose; IL= a frozen launcher.
set -euo pipefail
cd "$(dirname "$0")/../.."
M=${1:-../shared/models/stories260K/stories260K.gguf}
OUT=${OUT:-${TMPDIR:-/tmp}/interlayer-mixed}
IL=${IL:-./interlayer}
CONFIGS=${CONFIGS:-"rtn-q4_0|--method rtn --format q4_0;rtn-i4|--method rtn --format i4;gptq-q4_0|--method gptq --format q4_0;gptq-i4|--method gptq --format i4;gptq-i3|--method gptq --format i3;gptq-i2|--method gptq --format i2;mixed-4.5|--method mixed --target-bits 4.5"}
mkdir -p "$OUT"
printf '%-14s %-7s %-10s %-10s %-8s %-8s %s\n' config bpw "KLD mean" "KLD p99" top-1 PPL "mixed: choice"
IFS=';' read -ra CS <<< "$CONFIGS"
for c in "${CS[@]}"; do
  name=${c%%|*}
  flags=${c#*|}
  # shellcheck disable=SC2086
  $IL quantize --model "$M" --calibration bench/quant/calibration.txt --eval bench/quant/heldout.txt $flags \
      > "$OUT/$name.log" 2> "$OUT/$name.err"
  bpw=$(sed -n 's/.* quantized at \([0-9.]*\) bits per weight.*/\1/p' "$OUT/$name.log")
  kld=$(awk '/^KLD mean/ {print $3, $5}' "$OUT/$name.log")
  top1=$(awk '/^top-1/ {print $3}' "$OUT/$name.log")
  ppl=$(awk '/^perplexity/ {print $2}' "$OUT/$name.log")
  mix=$(sed -n 's/^method mixed (\([^)]*\)).*/\1/p' "$OUT/$name.log")
  printf '%-14s %-7s %-10s %-10s %-8s %-8s %s\n' "$name" "$bpw" ${kld} "$top1" "$ppl" "$mix"
done
awk '/^reference perplexity/ {print "float32 PPL " $3; exit}' "$OUT"/*.log
