#!/usr/bin/env bash
# Writes the calibration and held-out texts of the quantizer quality table: stories sampled from the float32
# stories260K itself (temperature 1, fixed seeds, disjoint between the two files), i.e. text from the model's own
# training distribution (TinyStories style) with no external corpus. Re-running gives the same files.
set -euo pipefail
cd "$(dirname "$0")/../.."
M=${1:-../shared/models/stories260K/stories260K.gguf}
gen() { ./interlayer generate --model "$M" --prompt "$1" --seed "$2" --max-tokens 400 --temperature 1.0 2>/dev/null; echo; }
prompts=("Once upon a time" "One day" "Tom and Sue" "There was a little dog" "Lily wanted to")
: > bench/quant/calibration.txt
: > bench/quant/heldout.txt
for s in 1 2 3 4 5 6; do for p in "${prompts[@]}"; do gen "$p" "$s" >> bench/quant/calibration.txt; done; done
for s in 101 102 103 104; do for p in "${prompts[@]}"; do gen "$p" "$s" >> bench/quant/heldout.txt; done; done
wc -c bench/quant/calibration.txt bench/quant/heldout.txt
