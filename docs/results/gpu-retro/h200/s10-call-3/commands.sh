#!/bin/bash
# call s10-3 of 2026-11-29 (tenth session), NVIDIA H200 (card.txt): ea76c46, the dp4a INT8 scoring kernel: the ranking check
# (BF16, F32, INT8 against the twin, then timed at 128K x 11), greedy tokens on retro-tiny against the CPU's, RetroInfer
# with INT8 and with 16-bit centroids beside full attention at 128K, 64K and 32K (seed 1, 79 GiB, issue7-bench's flags),
# RULER on retro-tiny with INT8 and with 16-bit (f16, retro-tiny's eval KV type) centroids at 8K and 16K (the bench's tiers)
M="bash .device/java org.retroinfer.examples.Main"
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,power.limit,temperature.gpu,clocks_event_reasons.active \
  --format=csv -lms 500 > smi.csv 2>&1 & SMI=$!
(cd $W && timeout 150 bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck 11 131072 0) > ranking-check.txt 2>&1; echo "rc $?" >> ranking-check.txt
(cd $W && timeout 60 bash .device/java org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu) > greedy.txt 2>&1; echo "rc $?" >> greedy.txt
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 1"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --warmup 4 --reps 5"
for ctx in 128k 64k 32k; do
  for c in int8 bf16; do
    echo "$(date +%T) retro-$c-$ctx" >> starts.txt
    (cd $W && timeout 90 $M $B $R --centroids $c --context $ctx --out /tmp/o/retro-$c-$ctx.json) > retro-$c-$ctx.txt 2>&1; echo "rc $?" >> retro-$c-$ctx.txt
  done
  echo "$(date +%T) full-$ctx" >> starts.txt
  (cd $W && timeout 60 $M $B --attention full --warmup 4 --reps 5 --context $ctx --out /tmp/o/full-$ctx.json) > full-$ctx.txt 2>&1; echo "rc $?" >> full-$ctx.txt
done
for len in 8k 16k; do
  for c in int8 f16; do
    (cd $W && timeout 100 $M eval ruler --model models/retro-tiny --lengths $len --samples 5 --attention retro --device gpu --prefill-chunk 512 \
      --no-plots --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids $c --out /tmp/o/ruler-$c-$len) > ruler-$c-$len.txt 2>&1; echo "rc $?" >> ruler-$c-$len.txt
  done
done
kill $SMI; gzip smi.csv
tar -cf $OUT/out.tar *
