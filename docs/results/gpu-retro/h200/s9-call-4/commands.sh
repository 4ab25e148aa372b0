#!/bin/bash
# call s9-4 of 2026-11-28 (ninth session), NVIDIA H200 (card.txt), commit 1a64fc1 (in main as 550b8b1, reverted in 9078990): the selection's histograms
# warp-aggregated. Cluster ranking's scoring and selection timed as in s8-call-3 (before the change); greedy tokens on
# retro-tiny against the CPU's; with the GPU held to 79 GiB (an H100 80GB's memory), seeds 1 and 2: retro (INT8 value
# sums) and full attention at 128K, 64K and 32K, each at the largest batch that fits, 4 warm-up and 5 timed passes
M="bash .device/java"
MAIN="org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --warmup 4 --reps 5"
F="--attention full --warmup 4 --reps 5"
mkdir -p /tmp/o && cd /tmp/o && rm -f /tmp/o/* && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
(cd $W && timeout 120 $M org.retroinfer.kernels.gpu.ClusterRankingGpuCheck 10 131072 0 41 32768 0) > ranking-check.txt 2>&1; echo "rc $?" >> ranking-check.txt
(cd $W && timeout 60 $M org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu) > greedy.txt 2>&1; echo "rc $?" >> greedy.txt
run() { # name, bench options, timeout
  (cd $W && timeout $3 $M $MAIN $B $2 --out /tmp/o/$1.json) > $1.txt 2>&1; echo "rc $?" >> $1.txt
}
for s in 1 2; do
  for c in 128k 64k 32k; do
    run retro-$c-seed-$s "$R --context $c --seed $s" 70
    run full-$c-seed-$s "$F --context $c --seed $s" 40
  done
done
tar -cf $OUT/out.tar *
