#!/usr/bin/env bash
# Measures RetroInfer against full attention on the CPU with `retroinfer bench` and writes
# docs/benchmarks/retro-cpu.md: decode tokens/s and attention time per decode step at 8K, 16K,
# 32K and 64K tokens of context, and the wave index build's share of prefill time.
#   benchmarks/retro-cpu.sh                    the full table (about an hour on 2 quiet cores,
#                                              most of it dense prefill of the 64K prompts)
#   CONTEXTS=8k,16k GEN=32 REPS=1 benchmarks/retro-cpu.sh   a quicker, smaller table
#   WARMUP=3                                   untimed warm-up runs before the first context
#   SHAPE=llama3-8b-layer                      one layer of Llama 3 8B's shape instead of the attention-bound
#                                              benchmark model (RetroBenchModel says why each)
#   REPORT=docs/benchmarks/x.md                writes the table elsewhere (e.g. a subset of contexts)
#   RETROINFER_JAVA_HOME                       a JDK 25+ to use (else JAVA_HOME if 25+, else /usr/lib/jvm)
#   RETROINFER_JAVA_OPTS                       JVM options for the bench runs (default -Xmx8g)
# The model is random (RetroBenchModel says why its shape), written once to
# benchmarks/target/retro-bench-model. Run it on an otherwise idle machine: other load shows up
# directly in every figure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

contexts=${CONTEXTS:-8k,16k,32k,64k}
gen=${GEN:-64}
reps=${REPS:-2}
# Warm-up runs before the first context: the first index builds of a JVM run while C2 is still
# compiling the k-means kernel (the very first takes over a second on 2 cores), so 3 warm-ups.
warmup=${WARMUP:-3}
export RETROINFER_JAVA_OPTS=${RETROINFER_JAVA_OPTS:--Xmx8g}

# shellcheck source=tools/find-jdk.sh
source "$root/tools/find-jdk.sh"

require_build_tools retro-cpu.sh

echo "retro-cpu.sh: building the benchmark tools with Maven..." >&2
mvn -B -q -ntp -Pbench -pl benchmarks -am -DskipTests package
jar=benchmarks/target/benchmarks.jar
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
shape=${SHAPE:-attention}
case $shape in
  attention) model=benchmarks/target/retro-bench-model
    description="random Llama-style (RetroBenchModel): 1 layer, hidden 512, 8 query heads, 2 KV heads, head dim 128, BF16 weights" ;;
  llama3-8b-layer) model=benchmarks/target/retro-bench-model-llama3-8b-layer
    description="random, one layer of Llama 3 8B's shape (RetroBenchModel llama3-8b-layer): hidden 4096, MLP 14336, 32 query heads, 8 KV heads, head dim 128, BF16 weights" ;;
  *) echo "retro-cpu.sh: SHAPE must be attention or llama3-8b-layer, got '$shape'" >&2; exit 2 ;;
esac
"$jdk/bin/java" "${flags[@]}" -cp "$jar" org.retroinfer.benchmarks.RetroBenchModel "$model" "$shape"

out=benchmarks/target
full=(./retroinfer bench --model "$model" --context "$contexts" --gen "$gen" --reps "$reps" --warmup "$warmup" --attention full)
retro=(./retroinfer bench --model "$model" --context "$contexts" --gen "$gen" --reps "$reps" --warmup "$warmup" --attention retro)
"${full[@]}" --out "$out/retro-cpu-full.json"
"${retro[@]}" --out "$out/retro-cpu-retro.json"

machine=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
"$jdk/bin/java" "${flags[@]}" -cp "$jar" org.retroinfer.benchmarks.RetroBenchReport \
  "$out/retro-cpu-full.json" "$out/retro-cpu-retro.json" "${REPORT:-docs/benchmarks/retro-cpu.md}" \
  "machine=${machine:-unknown CPU}" "cores=$(nproc)" "date=$(date -u +%Y-%m-%dT%H:%MZ)" \
  "model=$description" \
  "full=RETROINFER_JAVA_OPTS=$RETROINFER_JAVA_OPTS ${full[*]}" "retro=RETROINFER_JAVA_OPTS=$RETROINFER_JAVA_OPTS ${retro[*]}" \
  "script=benchmarks/retro-cpu.sh (CONTEXTS=$contexts GEN=$gen REPS=$reps WARMUP=$warmup SHAPE=$shape${REPORT:+ REPORT=$REPORT})"
