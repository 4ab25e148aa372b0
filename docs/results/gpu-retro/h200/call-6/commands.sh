#!/bin/bash
# call 6 of 2026-11-28 (second session), H200: the estimation zone read in place by cluster id
# (SplitKvDecode.partialsWeightedIndexed) against gathered first (-Dretroinfer.decode.estimationInPlace=off), greedy
# tokens on retro-tiny against the CPU, and the 32K and 128K ratios
J="bash .device/java"
M="$J org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --warmup 2 --reps 3"
timeout 60 $J org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu > $OUT/greedy.txt 2>&1
run() { name=$1; shift; echo "== $name: $JAVA_TOOL_OPTIONS $*" >> $OUT/bench.txt; timeout $T $M $B "$@" --out $OUT/$name.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt; }
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
T=50 run full-32k --context 32k --attention full
T=95 run retro-32k --context 32k $R
JAVA_TOOL_OPTIONS=-Dretroinfer.decode.estimationInPlace=off T=95 run retro-32k-gathered --context 32k $R
T=60 run full-128k --context 128k --attention full
T=110 run retro-128k --context 128k $R
ls -la $OUT
