#!/bin/bash
# call s7-4 of 2026-11-28 (seventh session), NVIDIA H200: the working tree of s7-call-3 (tensor-core scoring,
# 1024-thread selection everywhere) against 091828e (.device-base): the ranking kernels on the GPU against their twin
# (the timing part failed: the check compiled the 16-bit kernel without its element type, fixed in d2afe70); greedy
# tokens on retro-tiny against the CPU; with the GPU held to 79 GiB, seed 1: 32K and 64K retro (base then new) and full
# attention at 32K, 64K and 128K (full attention's path is the same in both builds)
M="bash .device/java org.retroinfer.examples.Main"
MB="bash .device-base/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --warmup 4 --reps 5"
F="--attention full --warmup 2 --reps 3"
mkdir -p /tmp/o && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
(cd $W && timeout 150 bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck) > ranking-check.txt 2>&1; echo "rc $?" >> ranking-check.txt
(cd $W && timeout 80 bash .device/java org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu) > greedy.txt 2>&1; echo "rc $?" >> greedy.txt
for c in 32k 64k; do
  (cd $W && timeout 100 $MB $B $R --context $c) > bench-$c-base.txt 2>&1; echo "rc $?" >> bench-$c-base.txt
  (cd $W && timeout 100 $M $B $R --context $c --out /tmp/o/bench-$c-new.json) > bench-$c-new.txt 2>&1; echo "rc $?" >> bench-$c-new.txt
done
for c in 32k 64k 128k; do
  (cd $W && timeout 100 $M $B $F --context $c --out /tmp/o/full-$c.json) > full-$c.txt 2>&1; echo "rc $?" >> full-$c.txt
done
tar -cf $OUT/out.tar *
