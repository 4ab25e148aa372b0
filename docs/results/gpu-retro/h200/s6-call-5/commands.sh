#!/bin/bash
# call s6-5 of 2026-11-28 (sixth session), NVIDIA H200, at the code of b46d9d8 (INT4 stores with BF16 scales, bench
# --seed): the pairs with the GPU held to 79 GiB (an H100 80GB's usable memory) over more seeds (seed 1 is call s6-2):
# 128K with seeds 2 and 3, 64K and 32K with seed 2; RULER on retro-tiny with the GPU tier in INT4, every layer's
# store on the GPU (the bench's configuration), at 8K
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --warmup 4 --reps 5"
F="--attention full --warmup 2 --reps 3"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt
timeout 150 $M eval ruler --model models/retro-tiny --lengths 8k --samples 5 --attention retro --device gpu --prefill-chunk 512 \
  --no-plots --gpu-kv int4 --gpu-store-layers all --out /tmp/ruler-int4-gpu-8k > $OUT/ruler-int4-gpu-8k.txt 2>&1
echo "rc $?" >> $OUT/ruler-int4-gpu-8k.txt
for s in 2 3; do
  timeout 100 $M $B $R --seed $s --context 128k --out /tmp/retro-128k-seed$s.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt
  timeout 50 $M $B $F --seed $s --context 128k --out /tmp/full-128k-seed$s.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt
done
for c in 64k 32k; do
  timeout 90 $M $B $R --seed 2 --context $c --out /tmp/retro-$c-seed2.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt
  timeout 50 $M $B $F --seed 2 --context $c --out /tmp/full-$c-seed2.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt
done
cd /tmp && tar -cf $OUT/json.tar retro-*.json full-*.json ruler-int4-gpu-8k 2>/dev/null
