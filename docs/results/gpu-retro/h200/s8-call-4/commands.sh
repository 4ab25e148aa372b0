#!/bin/bash
# call s8-4 of 2026-11-28 (eighth session), NVIDIA H200 (card.txt): 0d9a371, the zone arrays in device memory (copied
# once a step) instead of mapped host memory. Greedy tokens on retro-tiny against the CPU's; then with the GPU held to
# 79 GiB (an H100 80GB's memory), seed 1: retro with INT8 value sums and full attention side by side at 128K, 64K and
# 32K, each at the largest batch that fits, and retro with 16-bit value sums at 128K
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --warmup 4 --reps 5"
F="--attention full --warmup 2 --reps 3"
mkdir -p /tmp/o && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
(cd $W && timeout 80 bash .device/java org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu) > greedy.txt 2>&1; echo "rc $?" >> greedy.txt
for c in 128k 64k 32k; do
  (cd $W && timeout 100 $M $B $R --value-sums int8 --context $c --out /tmp/o/retro-$c.json) > retro-$c.txt 2>&1; echo "rc $?" >> retro-$c.txt
  (cd $W && timeout 60 $M $B $F --context $c --out /tmp/o/full-$c.json) > full-$c.txt 2>&1; echo "rc $?" >> full-$c.txt
done
(cd $W && timeout 100 $M $B $R --context 128k --out /tmp/o/retro-16bit-sums-128k.json) > retro-16bit-sums-128k.txt 2>&1; echo "rc $?" >> retro-16bit-sums-128k.txt
tar -cf $OUT/out.tar *
