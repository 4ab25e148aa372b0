#!/bin/bash
# call s6-4 of 2026-11-28 (sixth session), NVIDIA H200: is the 9% between 0e0bda1 (F32 INT4 scales, .device-base with
# 0035e62's --seed on top) and b6020eb + 0035e62 (BF16 scales) at 128K x 10 the code, or the greedy tokens each
# decodes? Both builds over seeds 2 and 3 (seed 1 is call s6-3), --gpu-memory 90 so that both fit
M="bash .device/java org.retroinfer.examples.Main"
MB="bash .device-base/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 90 --batch 10"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --warmup 4 --reps 5 --context 128k"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt
for s in 2 3; do
  timeout 100 $MB $B $R --seed $s --out /tmp/retro-128k-base-seed$s.json > $OUT/bench-base-seed$s.txt 2>&1; echo "rc $?" >> $OUT/bench-base-seed$s.txt
  timeout 100 $M $B $R --seed $s --out /tmp/retro-128k-new-seed$s.json > $OUT/bench-new-seed$s.txt 2>&1; echo "rc $?" >> $OUT/bench-new-seed$s.txt
done
cd /tmp && tar -cf $OUT/json.tar retro-*.json 2>/dev/null
