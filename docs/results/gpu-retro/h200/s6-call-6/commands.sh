#!/bin/bash
# call s6-6 of 2026-11-28 (sixth session), NVIDIA H200: 61f231d (the lookup ranks ids by shuffles) against b46d9d8
# (.device-base) with the GPU held to 79 GiB: 128K x 10 over seeds 2 and 3, 32K x 39 with seed 2, each pair base then new
M="bash .device/java org.retroinfer.examples.Main"
MB="bash .device-base/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --warmup 4 --reps 5"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt
for run in "128k 2" "128k 3" "32k 2"; do
  set -- $run
  timeout 100 $MB $B $R --context $1 --seed $2 --out /tmp/retro-$1-seed$2-base.json > $OUT/bench-$1-seed$2-base.txt 2>&1; echo "rc $?" >> $OUT/bench-$1-seed$2-base.txt
  timeout 100 $M $B $R --context $1 --seed $2 --out /tmp/retro-$1-seed$2-new.json > $OUT/bench-$1-seed$2-new.txt 2>&1; echo "rc $?" >> $OUT/bench-$1-seed$2-new.txt
done
cd /tmp && tar -cf $OUT/json.tar retro-*.json 2>/dev/null
