#!/bin/bash
# call s13-call-4 of 2026-11-29 (thirteenth session), NVIDIA H200: ClusterLookup.lookUp ordering the ids through a bit
# set (5cc576c) against 874c351's kernels jar (tools/device/pack-old 874c351 kernels: .device/java-old) in the same call.
# Greedy tokens on retro-tiny with every layer's lookups on the GPU, and with gpu-stores and three GPU store layers;
# then one 1M-token RetroInfer sequence (host tier INT4, INT8 centroids, --lookups auto: gpu-stores), old then new;
# then 128K x 11 (INT8 centroids, INT4 GPU tier) on the new jars.
NEW="bash .device/java"
OLD="bash .device/java-old"
bash .device/java -version > /dev/null 2>&1 # unpacks the runtime
M=org.retroinfer.examples.Main
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
step() { # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  (cd $W && timeout $seconds "$@") > $name.txt 2>&1; echo "rc $?" >> $name.txt
  tar -cf $OUT/out.tar *
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
step greedy-gpu 50 $NEW org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu
step greedy-gpu-stores 60 $NEW org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu-stores 3
for v in old new; do
  J=$NEW; [[ $v == old ]] && J=$OLD
  step retro-1m-$v 170 $J $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --warmup 2 --reps 3 --context 1000k \
    --batch 1 --attention retro --host-kv int4 --centroids int8 --out /tmp/o/retro-1m-$v.json
done
step retro-128k 60 $NEW $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 1 --attention retro \
  --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --warmup 4 --reps 5 --context 128k --batch 11 \
  --out /tmp/o/retro-128k.json
