#!/bin/bash
# call 2 of 2026-11-28 (second session), H200: retro at 32K at the largest batch (INT4 host tier, two micro-batches)
# and at 24 sequences whose stores all fit the GPU, beside full attention
J="bash .device/java"
M="$J org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --reps 3 --context 32k"
run() { name=$1; shift; echo "== $name: $*" >> $OUT/bench.txt; timeout $T $M $B "$@" --out $OUT/$name.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt; }
T=150 run retro-b24 --attention retro --batch 24
T=150 run retro-b24-mb2 --attention retro --batch 24 --micro-batches 2
T=90 run full --attention full
T=190 run retro-int4-mb2 --attention retro --host-kv int4 --micro-batches 2
ls -la $OUT
