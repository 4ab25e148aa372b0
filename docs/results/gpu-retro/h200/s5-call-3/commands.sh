#!/bin/bash
# call s5-3 of 2026-11-28 (fifth session), H200: the code of the commit "q, k and v in one GEMM" (after c9dc936: loads a tile ahead, plus q/k/v and gate/up each in one
# cuBLAS GEMM, SwiGLU summed from the parts) against c9dc936 (.device-base: call s5-2s "new" build) at 32K,
# side by side; then the working tree's pairs at 64K and 128K
M="bash .device/java org.retroinfer.examples.Main"
O="bash .device-base/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16"
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > $OUT/card.txt 2>&1
for run in "new $M" "base $O"; do
  set -- $run; name=$1; shift
  timeout 150 "$@" $B $R --warmup 4 --reps 5 --context 32k --out /tmp/retro-32k-$name.json > $OUT/bench-$name.txt 2>&1
  echo "rc $?" >> $OUT/bench-$name.txt
  timeout 80 "$@" $B --attention full --warmup 2 --reps 3 --context 32k --out /tmp/full-32k-$name.json >> $OUT/bench-$name.txt 2>&1
  echo "rc $?" >> $OUT/bench-$name.txt
done
for c in 64k 128k; do
  timeout 160 $M $B $R --warmup 4 --reps 5 --context $c --out /tmp/retro-$c-new.json >> $OUT/bench-new-long.txt 2>&1
  echo "rc $?" >> $OUT/bench-new-long.txt
  timeout 80 $M $B --attention full --warmup 2 --reps 3 --context $c --out /tmp/full-$c-new.json >> $OUT/bench-new-long.txt 2>&1
  echo "rc $?" >> $OUT/bench-new-long.txt
done
nvidia-smi --query-gpu=clocks.sm,temperature.gpu,power.draw --format=csv >> $OUT/card.txt 2>&1
cd /tmp && tar -cf $OUT/json.tar retro-*-new.json full-*-new.json retro-32k-base.json full-32k-base.json 2>/dev/null
