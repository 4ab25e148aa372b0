#!/bin/bash
# call 4 of 2026-11-28 (second session), H200: the GPU tier without a block cache (a layer whose store is in GPU memory
# reads every cluster from it and admits nothing); INT4 GPU tier at 32K (64 and 70 sequences) and 128K, beside full attention
J="bash .device/java"
M="$J org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --reps 3"
run() { name=$1; shift; echo "== $name: $*" >> $OUT/bench.txt; timeout $T $M $B "$@" --out $OUT/$name.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt; }
T=100 run retro-32k-gpu-int4-b64 --context 32k --attention retro --gpu-kv int4 --batch 64
T=100 run retro-32k-gpu-int4-b70 --context 32k --attention retro --gpu-kv int4 --batch 70
T=60 run full-32k --context 32k --attention full
T=80 run full-128k --context 128k --attention full
T=150 run retro-128k-gpu-int4-b18 --context 128k --attention retro --gpu-kv int4 --batch 18
ls -la $OUT
