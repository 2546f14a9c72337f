#!/usr/bin/env bash
# Interlayer against llama.cpp (llama-bench) and llama3.java on the same GGUF files, interleaved per file and
# thread count, for BENCHMARKS.md. Run by hand on a quiet machine (nothing else compiling); not part of the tests.
#
#   LLAMA_BIN=/path/to/llama.cpp/build/bin  L3J=/path/to/llama3.java/classes  [OLD=/path/to/old/checkout] \
#   ROUNDS=2  bench/peers/decode-vs-peers.sh /tmp/llama1b-Q8_0.gguf /tmp/llama1b-Q4_0.gguf ...
#
# LLAMA_BIN: a llama.cpp built natively (cmake -DGGML_NATIVE=ON -DCMAKE_BUILD_TYPE=Release), never committed.
# L3J: the classes of mukel/llama3.java (javac --enable-preview --release 25 --add-modules jdk.incubator.vector
#      -d L3J Llama3.java). Its threads are pinned with taskset to 1 or 2 cores (it uses the common pool, which
#      also runs on the caller: parallelism 1 = caller + one worker, on one core for 1T, two cores for 2T). Its
#      prompt is 19 × "hello world" (about 128 tokens) and it runs to 256 positions.
# OLD: another checkout of Interlayer (built with its own ./interlayer) measured right before this one.
# PP: prompt tokens (default 128; llama-bench -p PP too).
# CPU=1: for a loaded machine. Our lines gain the prefill and decode phases' CPU share (of T cores), and llama.cpp's
#      prompt processing is measured in CPU seconds as well: /usr/bin/time of `llama-bench -p PP -n 0 -r 1` and
#      `-r 3` (both include its warm-up run and the load), so two runs cost the difference; printed as prompt
#      tokens per CPU-second. At 2 threads llama.cpp's workers spin while they wait, so that figure is low there.
# Output: one line per run, "engine file threads prefill_tok_s decode_tok_s [extra]", plus the load average.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS="${ROUNDS:-2}"
PP="${PP:-128}"
PROMPT="$(printf 'hello world %.0s' $(seq 19))"
ours() { # dir file threads
  local out
  out="$("$1/interlayer" bench generate --model "$2" --prompt-tokens "$PP" --gen-tokens 64 --threads "$3" \
    --warmup-seconds 5 2>/dev/null)"
  echo "$out" | grep '^bench=' | sed -E 's/.*prefill_tok_s=([^ ]+) decode_tok_s=([^ ]+) decode_gb_s=([^ ]+).*measured_peak_rss_bytes=([^ ]+).*/\1 \2 gb_s=\3 rss=\4/' | tr -d '\n'
  [[ -n "${CPU:-}" ]] && echo "$out" | grep -E '^(prefill|decode):' | sed -E 's/^([a-z]+):.*\(cpu ([0-9]+)%\).*/ \1_cpu=\2%/' | tr -d '\n'
  echo
}
llama_cpu() { # file threads repetitions -> user+sys CPU seconds of one llama-bench prompt run series
  /usr/bin/time -f "%U %S" "$LLAMA_BIN/llama-bench" -m "$1" -p "$PP" -n 0 -r "$3" -t "$2" -o csv 2>&1 >/dev/null \
    | tail -1 | awk '{print $1 + $2}'
}
for round in $(seq "$ROUNDS"); do
  for f in "$@"; do
    for t in 1 2; do
      echo "# round $round $(basename "$f") ${t}T load: $(cut -d' ' -f1-3 /proc/loadavg)"
      [[ -n "${OLD:-}" ]] && echo "old $(basename "$f") $t $(ours "$OLD" "$f" "$t")"
      echo "new $(basename "$f") $t $(ours "$HERE" "$f" "$t")"
      if [[ -n "${LLAMA_BIN:-}" ]]; then
        "$LLAMA_BIN/llama-bench" -m "$f" -p "$PP" -n 64 -r 1 -t "$t" -o csv 2>/dev/null \
          | awk -F, 'NR>1 {gsub(/"/,""); v[NR]=$(NF-1)} END {printf "llama.cpp '"$(basename "$f") $t"' %s %s\n", v[2], v[3]}'
        if [[ -n "${CPU:-}" ]]; then
          c1=$(llama_cpu "$f" "$t" 1); c3=$(llama_cpu "$f" "$t" 3)
          awk -v a="$c1" -v b="$c3" -v p="$PP" 'BEGIN {printf "llama.cpp-cpu '"$(basename "$f") $t"' prefill_tok_per_cpu_s=%.1f\n", 2 * p / (b - a)}'
        fi
      fi
      if [[ -n "${L3J:-}" ]]; then
        cpus=$([[ $t == 1 ]] && echo 0 || echo 0,1)
        taskset -c "$cpus" "${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java" --enable-preview \
          --add-modules jdk.incubator.vector -Djava.util.concurrent.ForkJoinPool.common.parallelism=1 \
          -cp "$L3J" com.llama4j.Llama3 -m "$f" -p "$PROMPT" -n 256 --temperature 0 2>&1 >/dev/null \
          | grep -o 'prompt: [0-9.]* tokens/s ([0-9]*) generation: [0-9.]* tokens/s ([0-9]*)' \
          | awk '{print "llama3.java '"$(basename "$f") $t"' " $2 " " $6 " prompt_tokens=" $4 " gen_tokens=" $8}'
      fi
    done
  done
done
