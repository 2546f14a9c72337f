#!/usr/bin/env bash
# OpenBLAS sgemm peer for BENCHMARKS.md: same shapes as the Java GEMM benchmarks, 1 and 2 threads.
# Needs: apt-get install -y libopenblas-dev gcc. Run by hand (about 1 minute): bench/native/run-openblas.sh [seconds]
set -euo pipefail
# This machine's environment sets OPENBLAS_CORETYPE=Haswell, which pins OpenBLAS to its AVX2 kernel, and with
# the variable unset OpenBLAS 0.3.21 may not recognise a virtualised CPU at all (it chose "Prescott", SSE3,
# on 2026-12-06). So the peer is pinned to its AVX-512 kernel, SkylakeX (BLAS_CORE=... picks another); the
# corename is printed on every line. KEEP_CORETYPE=1 keeps the environment's value.
[[ "${KEEP_CORETYPE:-0}" == 1 ]] || export OPENBLAS_CORETYPE="${BLAS_CORE:-SkylakeX}"
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
