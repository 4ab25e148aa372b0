#!/bin/bash
# call s6-1 of 2026-11-28 (sixth session), NVIDIA H200, at the code of 0e0bda1: what more sequences would give at 128K
# (and 32K) on an 80 GB card: retro at 10 and 11 sequences all on the GPU (memory held at 90 GiB so that they fit;
# the throughput does not depend on it), at 10 and 11 with the host tier taking the layers that do not fit 79 GiB,
# and full attention at 79 GiB
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16"
R="--attention retro --gpu-kv int4 --warmup 4 --reps 5"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt
for b in 10 11; do
  timeout 100 $M $B $R --gpu-store-layers all --gpu-memory 90 --batch $b --context 128k --out /tmp/retro-128k-all-$b.json >> $OUT/bench.txt 2>&1
  echo "rc $?" >> $OUT/bench.txt
done
for b in 10 11; do
  timeout 100 $M $B $R --host-kv int4 --gpu-memory 79 --batch $b --context 128k --out /tmp/retro-128k-tiers-$b.json >> $OUT/bench.txt 2>&1
  echo "rc $?" >> $OUT/bench.txt
done
timeout 60 $M $B --attention full --warmup 2 --reps 3 --gpu-memory 79 --context 128k --out /tmp/full-128k.json >> $OUT/bench.txt 2>&1
echo "rc $?" >> $OUT/bench.txt
timeout 80 $M $B $R --gpu-store-layers all --gpu-memory 90 --batch 39 --context 32k --out /tmp/retro-32k-all-39.json >> $OUT/bench.txt 2>&1
echo "rc $?" >> $OUT/bench.txt
timeout 50 $M $B --attention full --warmup 2 --reps 3 --gpu-memory 79 --context 32k --out /tmp/full-32k.json >> $OUT/bench.txt 2>&1
echo "rc $?" >> $OUT/bench.txt
cd /tmp && tar -cf $OUT/json.tar retro-*.json full-*.json 2>/dev/null
