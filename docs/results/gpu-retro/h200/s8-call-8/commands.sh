#!/bin/bash
# call s8-8 of 2026-11-28 (eighth session), NVIDIA H200 (card.txt): 27aebea (TensorCoreLinear loads a chunk ahead; k and v
# beside q). Greedy tokens on retro-tiny against the CPU's; with the GPU held to 79 GiB, seed 1: retro (INT8 value sums)
# at 128K and full attention at 32K, 64K and 128K, each at the largest batch that fits (against s8-call-4 and -5, the
# build before: 828.1 / 829.4, 650.0 / 649.4, 328.3 / 328.3, 150.9 / 150.4 tok/s); then the linear kernels at 11 and 15 rows
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --warmup 4 --reps 5"
F="--attention full --warmup 2 --reps 3"
mkdir -p /tmp/o && cd /tmp/o && rm -f /tmp/o/* && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
(cd $W && timeout 60 bash .device/java org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu) > greedy.txt 2>&1; echo "rc $?" >> greedy.txt
(cd $W && timeout 80 $M $B $R --context 128k --out /tmp/o/retro-128k.json) > retro-128k.txt 2>&1; echo "rc $?" >> retro-128k.txt
for c in 32k 64k 128k; do
  (cd $W && timeout 40 $M $B $F --context $c --out /tmp/o/full-$c.json) > full-$c.txt 2>&1; echo "rc $?" >> full-$c.txt
done
(cd $W && timeout 60 bash .device/java org.retroinfer.kernels.gpu.LinearGpuCheck 11 15) > linear.txt 2>&1; echo "rc $?" >> linear.txt
tar -cf $OUT/out.tar *
