#!/bin/bash
# call s6-2 of 2026-11-28 (sixth session), NVIDIA H200, at the code of b6020eb: INT4 stores with BF16 group scales (72 bytes a
# vector, from 80): the three pairs with the GPU held to 79 GiB (an H100 80GB's usable memory), each mode at the
# largest batch that fits; greedy tokens on retro-tiny against the CPU's
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt
timeout 50 bash .device/java org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu > $OUT/greedy.txt 2>&1
echo "rc $?" >> $OUT/greedy.txt
for c in 128k 64k 32k; do
  timeout 110 $M $B $R --warmup 4 --reps 5 --context $c --out /tmp/retro-$c.json >> $OUT/bench.txt 2>&1
  echo "rc $?" >> $OUT/bench.txt
  timeout 60 $M $B --attention full --warmup 2 --reps 3 --context $c --out /tmp/full-$c.json >> $OUT/bench.txt 2>&1
  echo "rc $?" >> $OUT/bench.txt
done
cd /tmp && tar -cf $OUT/json.tar retro-*.json full-*.json 2>/dev/null
