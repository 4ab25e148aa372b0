#!/usr/bin/env bash
# Batch-1 F16/BF16 matmul against the copy bandwidth, timed in interleaved rounds (InterleavedMatmul
# says why), and writes docs/benchmarks/matmul-interleaved.md.
#   benchmarks/matmul-interleaved.sh              200 timed rounds after 30 warm-up rounds (~2 minutes)
#   ROUNDS=400 WARMUP=50 benchmarks/matmul-interleaved.sh
#   RETROINFER_JAVA_HOME                          a JDK 25+ to use (else JAVA_HOME if 25+, else /usr/lib/jvm)
# Run it on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=tools/find-jdk.sh
source "$root/tools/find-jdk.sh"
require_build_tools matmul-interleaved.sh
echo "matmul-interleaved.sh: building the benchmarks with Maven..." >&2
mvn -B -q -ntp -Pbench -pl benchmarks -am -DskipTests package
machine=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
"$jdk/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
  -Dretroinfer.machine="${machine:-unknown CPU}, $(nproc) cores" -cp benchmarks/target/benchmarks.jar \
  org.retroinfer.benchmarks.InterleavedMatmul docs/benchmarks/matmul-interleaved.md "${ROUNDS:-200}" "${WARMUP:-30}"
