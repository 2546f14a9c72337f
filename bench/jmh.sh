#!/usr/bin/env bash
# Runs the JMH suites from the shaded CLI jar (built by ./interlayer when sources changed).
# Usage: bench/jmh.sh <JMH args>, e.g. bench/jmh.sh 'GemmBench.square' -p weights=f32 -rf json -rff gemm.json
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/interlayer" --version >/dev/null
JAVA="${INTERLAYER_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
exec "$JAVA" -cp "$ROOT/bench/target/interlayer.jar" org.openjdk.jmh.Main "$@"
