#!/bin/bash
# call s8-5 of 2026-11-28 (eighth session), NVIDIA H200 (card.txt): 0d9a371 (zone arrays in device memory). With the GPU
# held to 79 GiB (an H100 80GB's memory), seed 2: retro with INT8 value sums and full attention side by side at 128K,
# 64K and 32K, each at the largest batch that fits; then a 1M-token RetroInfer decode (one sequence, the host tier in
# INT4, host lookups: the configuration of s5-call-6), the GPU not held back
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --warmup 4 --reps 5"
F="--attention full --warmup 2 --reps 3"
mkdir -p /tmp/o && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
for c in 128k 64k 32k; do
  (cd $W && timeout 100 $M $B --gpu-memory 79 $R --seed 2 --context $c --out /tmp/o/retro-$c-seed2.json) > retro-$c-seed2.txt 2>&1; echo "rc $?" >> retro-$c-seed2.txt
  (cd $W && timeout 60 $M $B --gpu-memory 79 $F --seed 2 --context $c --out /tmp/o/full-$c-seed2.json) > full-$c-seed2.txt 2>&1; echo "rc $?" >> full-$c-seed2.txt
done
(cd $W && timeout 300 $M $B --warmup 2 --reps 3 --context 1000k --batch 1 --attention retro --host-kv int4 --out /tmp/o/retro-1m.json) > retro-1m.txt 2>&1; echo "rc $?" >> retro-1m.txt
tar -cf $OUT/out.tar *
