#!/bin/bash
# call s9-1 of 2026-11-28 (ninth session), NVIDIA H200 (card.txt), commit 05a6d80: q, k and v, and gate and up, as one stacked
# TensorCoreLinear launch each (-Dretroinfer.linear.stacked); sixteen warps a block for narrow grids
# (-Dretroinfer.linear.narrowWarps=16); k and v beside q (-Dretroinfer.decode.keyValueBeside). The linear kernels at
# 4, 8 and 16 warps (weights never in L2); greedy tokens on retro-tiny against the CPU's; then with the GPU held to
# 79 GiB, seed 1, the bench side by side: full attention at 32K x 15 four ways, retro (INT8 value sums) at 128K x 11
# stacked and not
M="bash .device/java"
MAIN="org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --warmup 4 --reps 5"
F="--attention full --warmup 2 --reps 3"
mkdir -p /tmp/o && cd /tmp/o && rm -f /tmp/o/* && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
(cd $W && timeout 120 $M org.retroinfer.kernels.gpu.LinearGpuCheck warps 5 11 16) > linear-warps.txt 2>&1; echo "rc $?" >> linear-warps.txt
(cd $W && timeout 60 $M org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu) > greedy.txt 2>&1; echo "rc $?" >> greedy.txt
run() { # name, JVM options, bench options
  (cd $W && timeout $4 $M $2 $MAIN $B $3 --out /tmp/o/$1.json) > $1.txt 2>&1; echo "rc $?" >> $1.txt
}
run full-32k-stacked "-Dretroinfer.linear.stacked=on" "$F --context 32k" 45
run full-32k-separate "-Dretroinfer.linear.stacked=off" "$F --context 32k" 45
run full-32k-separate-kv-after "-Dretroinfer.linear.stacked=off -Dretroinfer.decode.keyValueBeside=off" "$F --context 32k" 45
run full-32k-stacked-16-warps "-Dretroinfer.linear.narrowWarps=16" "$F --context 32k" 45
run retro-128k-stacked "-Dretroinfer.linear.stacked=on" "$R --context 128k" 85
run retro-128k-separate "-Dretroinfer.linear.stacked=off" "$R --context 128k" 85
tar -cf $OUT/out.tar *
