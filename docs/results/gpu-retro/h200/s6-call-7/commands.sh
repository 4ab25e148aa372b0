#!/bin/bash
# call s6-7 of 2026-11-28 (sixth session), NVIDIA H200 (its whole memory), at the code of 61f231d: the three pairs,
# each mode at the largest batch that fits (seed 1)
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --warmup 4 --reps 5"
F="--attention full --warmup 2 --reps 3"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt
for c in 128k 64k 32k; do
  timeout 110 $M $B $R --context $c --out /tmp/retro-$c.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt
  timeout 40 $M $B $F --context $c --out /tmp/full-$c.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt
  cd /tmp && tar -cf $OUT/json.tar retro-*.json full-*.json 2>/dev/null; cd - > /dev/null
done
