#!/bin/bash
# call 5 of 2026-11-28 (second session), H200: greedy tokens of GPU retro (cacheless GPU tier) against the CPU on
# retro-tiny; then each context with both modes: full, and retro with an INT4 GPU tier and no host tier
J="bash .device/java"
M="$J org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --warmup 2 --reps 3"
timeout 100 $J org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu > $OUT/greedy.txt 2>&1
run() { name=$1; shift; echo "== $name: $*" >> $OUT/bench.txt; timeout $T $M $B "$@" --out $OUT/$name.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt; }
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
T=50 run full-32k --context 32k --attention full
T=95 run retro-32k --context 32k $R
T=55 run full-64k --context 64k --attention full
T=100 run retro-64k --context 64k $R
T=60 run full-128k --context 128k --attention full
T=110 run retro-128k --context 128k $R
ls -la $OUT
