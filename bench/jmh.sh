#!/usr/bin/env bash
# Runs the JMH suites from the shaded CLI jar (built by ./interlayer when sources changed).
# Usage: bench/jmh.sh <JMH args>, e.g. bench/jmh.sh 'GemmBench.square' -p weights=f32 -rf json -rff gemm.json
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/interlayer" --version >/dev/null
JAVA="${INTERLAYER_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
# Kernel switches in INTERLAYER_JVM_OPTS (as for ./interlayer, e.g. -Ddev.interlayer.gemm.ws.kpair=9) reach the
# forked JVMs through -jvmArgsPrepend. Passing them as -jvmArgsAppend on the command line would replace the
# benchmarks' own @Fork(jvmArgsAppend = ...), which adds the Vector API module, and measure the scalar fallback.
extra=()
[[ -n "${INTERLAYER_JVM_OPTS:-}" ]] && extra=(-jvmArgsPrepend "$INTERLAYER_JVM_OPTS")
exec "$JAVA" -cp "$ROOT/bench/target/interlayer.jar" org.openjdk.jmh.Main "${extra[@]}" "$@"
