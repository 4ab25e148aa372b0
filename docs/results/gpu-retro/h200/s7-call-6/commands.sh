#!/bin/bash
# call s7-6 of 2026-11-28 (seventh session), NVIDIA H200 (card.txt): d2afe70 with the GPU held to 79 GiB (an H100 80GB's memory),
# seed 1: retro and full attention side by side at 32K, 64K and 128K, each at the largest batch that fits
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --warmup 4 --reps 5"
F="--attention full --warmup 2 --reps 3"
mkdir -p /tmp/o && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
for c in 32k 64k 128k; do
  (cd $W && timeout 100 $M $B $R --context $c --out /tmp/o/retro-$c.json) > retro-$c.txt 2>&1; echo "rc $?" >> retro-$c.txt
  (cd $W && timeout 100 $M $B $F --context $c --out /tmp/o/full-$c.json) > full-$c.txt 2>&1; echo "rc $?" >> full-$c.txt
done
tar -cf $OUT/out.tar *
