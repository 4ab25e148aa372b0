#!/bin/bash
# call s5-2 of 2026-11-28 (fifth session), H200: the code of the commit "kernels: loads a tile ahead" (after 781ac68; the
# build also held BlasLinear's stacked GEMMs, then unused) against 907aa67 itself (.device-base: 907aa67's jars on the same
# runtime), side by side at 32K; greedy tokens of the new build on retro-tiny
M="bash .device/java org.retroinfer.examples.Main"
O="bash .device-base/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16"
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > $OUT/card.txt 2>&1
timeout 50 bash .device/java org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu > $OUT/greedy.txt 2>&1
echo "rc $?" >> $OUT/greedy.txt
for run in "new $M" "base $O"; do
  set -- $run; name=$1; shift
  timeout 150 "$@" $B $R --warmup 4 --reps 5 --context 32k --out /tmp/retro-32k-$name.json > $OUT/bench-$name.txt 2>&1
  echo "rc $?" >> $OUT/bench-$name.txt
  timeout 80 "$@" $B --attention full --warmup 2 --reps 3 --context 32k --out /tmp/full-32k-$name.json >> $OUT/bench-$name.txt 2>&1
  echo "rc $?" >> $OUT/bench-$name.txt
done
nvidia-smi --query-gpu=clocks.sm,temperature.gpu,power.draw --format=csv >> $OUT/card.txt 2>&1
tar -C /tmp -cf $OUT/json.tar retro-32k-new.json full-32k-new.json retro-32k-base.json full-32k-base.json 2>/dev/null
