#!/bin/bash
# call 3 of 2026-11-28 (second session), H200: retro at 32K with an INT4 GPU tier (all layers on the GPU at 64
# sequences), one stream and two micro-batches, the largest batch with both tiers INT4, beside full attention
J="bash .device/java"
M="$J org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --reps 3 --context 32k"
run() { name=$1; shift; echo "== $name: $*" >> $OUT/bench.txt; timeout $T $M $B "$@" --out $OUT/$name.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt; }
T=120 run retro-gpu-int4-b64 --attention retro --gpu-kv int4 --batch 64
T=120 run retro-gpu-int4-b64-mb2 --attention retro --gpu-kv int4 --batch 64 --micro-batches 2
T=70 run full --attention full
T=240 run retro-int4-int4-mb2 --attention retro --gpu-kv int4 --host-kv int4 --micro-batches 2
ls -la $OUT
