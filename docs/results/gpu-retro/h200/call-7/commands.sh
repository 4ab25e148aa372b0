#!/bin/bash
# call 7 of 2026-11-28 (second session), H200: the estimation zone read in place; 64K, and 128K a second time
J="bash .device/java"
M="$J org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --warmup 2 --reps 3"
run() { name=$1; shift; echo "== $name: $JAVA_TOOL_OPTIONS $*" >> $OUT/bench.txt; timeout $T $M $B "$@" --out $OUT/$name.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt; }
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
T=55 run full-64k --context 64k --attention full
T=100 run retro-64k --context 64k $R
T=60 run full-128k --context 128k --attention full
T=110 run retro-128k --context 128k $R
ls -la $OUT
