#!/usr/bin/env bash
# Builds llamacpp_greedy (llamacpp_greedy.cpp, a small greedy-decoding driver over llama.h) and
# llamacpp_quantize (llamacpp_quantize.cpp, llama-quantize's library call) against a llama.cpp source
# tree that is NOT part of this repository.
#
#   LLAMA_SRC=/tmp/llamacpp/src reference/quant/llamacpp_greedy.sh
#
# LLAMA_SRC: a llama.cpp checkout (used for the fixtures: the unslothai/llama.cpp snapshot of
# ggml-org/llama.cpp at commit d32676d77, the commit is recorded in the fixture). The script configures
# it once (Release, -DGGML_NATIVE=ON, shared libraries, no CURL/server/tests), builds only the
# llama and ggml libraries with -j2, then compiles both programs into $LLAMA_SRC/build/bin with an rpath
# to those libraries. With GGML_NATIVE the CPU backend's SIMD paths round activations to Q8_0/Q8_1/Q8_K
# (QuantizedGreedyVsLlamaCppTest); the scalar path of another machine stays within the same bound but
# may round a few activations the other way, so llama.cpp's logits on a quantized file can differ in
# the last digits between machines. The fixtures were made on an x86-64 machine with AVX-512.
set -euo pipefail
: "${LLAMA_SRC:?set LLAMA_SRC to a llama.cpp source tree}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
B="$LLAMA_SRC/build"
if [[ ! -f "$B/CMakeCache.txt" ]]; then
  cmake -S "$LLAMA_SRC" -B "$B" -DGGML_NATIVE=ON -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF
fi
# libllama only builds graphs and manages the cache (the arithmetic is in ggml, built with -O3): -O0
# there cuts the build of its ~170 files several-fold on a loaded machine without changing a result.
# (Edited once only: a newer flags.make would make every object compile again.)
F="$B/src/CMakeFiles/llama.dir/flags.make"
if grep -q '^CXX_FLAGS = -O3 ' "$F"; then
  sed -i 's/^CXX_FLAGS = -O3 /CXX_FLAGS = -O0 /' "$F"
fi
cmake --build "$B" -j2 --target llama ggml
for tool in llamacpp_greedy llamacpp_quantize; do
  g++ -O2 -std=c++17 -I"$LLAMA_SRC/include" -I"$LLAMA_SRC/ggml/include" "$HERE/$tool.cpp" \
    -L"$B/bin" -lllama -lggml -lggml-base -Wl,-rpath,"$B/bin" -o "$B/bin/$tool"
done
echo "built $B/bin/llamacpp_greedy and $B/bin/llamacpp_quantize"
