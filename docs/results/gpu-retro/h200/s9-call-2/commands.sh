#!/bin/bash
# call s9-2 of 2026-11-28 (ninth session), NVIDIA H200 (card.txt), commit c491e51: stacked launches with the warps rule
# (about 16 warps an SM). The linear kernels at 4, 8 and 16 warps and a step's total under the rule; greedy tokens on
# retro-tiny against the CPU's; with the GPU held to 79 GiB (an H100 80GB's memory), seeds 1 and 2: retro (INT8 value
# sums) and full attention at 128K, 64K and 32K, each at the largest batch that fits; retro at 64K with cuBLAS off
# (the stacked tensor-core launches at 21 rows instead); then ncu's duration of every kernel of one retro decode step
# at 128K x 11 as the graphs replay it (clocks and caches left as they are), via --profiler-step on. (The profiled
# step was recorded; the bench then stopped: its caches had no room for the extra step, fixed in c7121d8.)
M="bash .device/java"
MAIN="org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --warmup 4 --reps 5"
F="--attention full --warmup 2 --reps 3"
mkdir -p /tmp/o && cd /tmp/o && rm -f /tmp/o/* && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
(cd $W && timeout 90 $M org.retroinfer.kernels.gpu.LinearGpuCheck warps 5 11 16) > linear-warps.txt 2>&1; echo "rc $?" >> linear-warps.txt
(cd $W && timeout 60 $M org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu) > greedy.txt 2>&1; echo "rc $?" >> greedy.txt
run() { # name, JVM options, bench options, timeout
  (cd $W && timeout $4 $M $2 $MAIN $B $3 --out /tmp/o/$1.json) > $1.txt 2>&1; echo "rc $?" >> $1.txt
}
for s in 1 2; do
  for c in 128k 64k 32k; do
    run retro-$c-seed-$s "-Dretroinfer.linear.stacked=on" "$R --context $c --seed $s" 70
    run full-$c-seed-$s "-Dretroinfer.linear.stacked=on" "$F --context $c --seed $s" 30
  done
done
run retro-64k-blas-off "-Dretroinfer.linear.blas=off" "$R --context 64k" 70
(cd $W && timeout 150 /usr/local/cuda/bin/ncu --target-processes all --profile-from-start off --clock-control none --cache-control none \
  --metrics gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed --csv --log-file /tmp/o/ncu-retro-128k.csv \
  $M $MAIN $B --attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --warmup 2 --reps 1 --context 128k \
  --profiler-step on) > ncu-retro-128k.txt 2>&1; echo "rc $?" >> ncu-retro-128k.txt
gzip -f /tmp/o/*.csv
tar -cf $OUT/out.tar *
