#!/bin/bash
# call s5-5 of 2026-11-28 (fifth session), H200, at the code of 5d0003a: the zone arrays written in bulk (the host's time
# between steps), the three pairs again; greedy tokens on retro-tiny against the CPU's
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16"
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > $OUT/card.txt 2>&1
timeout 50 bash .device/java org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu > $OUT/greedy.txt 2>&1
echo "rc $?" >> $OUT/greedy.txt
for c in 32k 64k 128k; do
  timeout 160 $M $B $R --warmup 4 --reps 5 --context $c --out /tmp/retro-$c.json >> $OUT/bench.txt 2>&1
  echo "rc $?" >> $OUT/bench.txt
  timeout 80 $M $B --attention full --warmup 2 --reps 3 --context $c --out /tmp/full-$c.json >> $OUT/bench.txt 2>&1
  echo "rc $?" >> $OUT/bench.txt
done
nvidia-smi --query-gpu=clocks.sm,temperature.gpu,power.draw --format=csv >> $OUT/card.txt 2>&1
cd /tmp && tar -cf $OUT/json.tar retro-*.json full-*.json 2>/dev/null
