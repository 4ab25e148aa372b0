#!/bin/bash
# call s7-5 of 2026-11-28 (seventh session), NVIDIA H200: d2afe70 (selection blocks of 1024 threads where the rows are
# no more than the SMs, else 512; the ranking check's timing fixed) against 091828e (.device-base): the ranking kernels
# on the GPU against their twin and timed; greedy tokens on retro-tiny against the CPU; with the GPU held to 79 GiB:
# 128K x 10 over seeds 1 and 2 (base then new), 64K and 32K new (seed 1)
M="bash .device/java org.retroinfer.examples.Main"
MB="bash .device-base/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --warmup 4 --reps 5"
mkdir -p /tmp/o && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
(cd $W && timeout 150 bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck) > ranking-check.txt 2>&1; echo "rc $?" >> ranking-check.txt
(cd $W && timeout 80 bash .device/java org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu) > greedy.txt 2>&1; echo "rc $?" >> greedy.txt
for seed in 1 2; do
  (cd $W && timeout 100 $MB $B $R --context 128k --seed $seed) > bench-128k-seed$seed-base.txt 2>&1; echo "rc $?" >> bench-128k-seed$seed-base.txt
  (cd $W && timeout 100 $M $B $R --context 128k --seed $seed --out /tmp/o/bench-128k-seed$seed-new.json) > bench-128k-seed$seed-new.txt 2>&1; echo "rc $?" >> bench-128k-seed$seed-new.txt
done
for c in 64k 32k; do
  (cd $W && timeout 100 $M $B $R --context $c --out /tmp/o/bench-$c-new.json) > bench-$c-new.txt 2>&1; echo "rc $?" >> bench-$c-new.txt
done
tar -cf $OUT/out.tar *
