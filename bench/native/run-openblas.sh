#!/usr/bin/env bash
# OpenBLAS sgemm peer for BENCHMARKS.md: same shapes as the Java GEMM benchmarks, 1 and 2 threads.
# Needs: apt-get install -y libopenblas-dev gcc. Run by hand (about 1 minute): bench/native/run-openblas.sh [seconds]
set -euo pipefail
# This machine's environment sets OPENBLAS_CORETYPE=Haswell, which pins OpenBLAS to its AVX2 kernel.
# Unset it so the peer runs its best kernel for this CPU (SkylakeX/Cooperlake on AVX-512); the corename
# is printed on every line. Pass KEEP_CORETYPE=1 to reproduce the older, pinned figures.
[[ "${KEEP_CORETYPE:-0}" == 1 ]] || unset OPENBLAS_CORETYPE
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${TMPDIR:-/tmp}/interlayer-sgemm-bench"
gcc -O2 -o "$OUT" "$DIR/sgemm_bench.c" -lopenblas
SECS="${1:-2}"
for t in 1 2; do
  for s in "256 256 256" "512 512 512" "1024 1024 1024" "2048 2048 2048" \
           "16 768 768" "128 3072 768" "512 768 3072" "128 4096 4096" "1 4096 4096" \
           "16 2048 2048" "64 2048 2048" "128 2048 2048" "512 2048 2048" "16 8192 2048" "128 8192 2048" \
           "512 8192 2048" "128 2048 8192" "512 2048 8192"; do
    OPENBLAS_NUM_THREADS=$t "$OUT" $s "$SECS"
  done
done
