#!/bin/bash
# call s8-7 of 2026-11-28 (eighth session), NVIDIA H200 (card.txt): 2d004cc (code of 0d9a371). Where a decode step's
# time goes outside attention: ncu's duration of every kernel (each alone, caches flushed, clocks at base) of a
# full-attention bench at 8K x 11 and 8K x 3 sequences (the linear layers' kernels at 11 and 3 rows), CUDA graphs off,
# the GPU not held back. kernel-census.md: tools/ncu-kernel-times ncu-all-B.csv --step fromHalf (one whole step)
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --cuda-graphs off --attention full --context 8k --gen 3 --warmup 0 --reps 1"
mkdir -p /tmp/o && cd /tmp/o && rm -f /tmp/o/* && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
for b in 11 3; do
  (cd $W && timeout 250 ncu --target-processes all --metrics gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed --csv \
    --log-file /tmp/o/ncu-all-$b.csv $M $B --batch $b) > ncu-all-$b.txt 2>&1; echo "rc $?" >> ncu-all-$b.txt
done
gzip -f /tmp/o/*.csv
tar -cf $OUT/out.tar *
