#!/bin/bash
# call s13-call-3 of 2026-11-29 (thirteenth session), NVIDIA H200: per-layer lookups (GpuRetroKvCache.Lookups.DEVICE_STORES:
# a GPU-tier layer looks up on the device, a host-tier layer on the host; --lookups auto's choice past 512 clusters a
# retrieval zone). Greedy tokens on retro-tiny with three of its six layers' stores on the GPU (gpu-stores) against the
# CPU's; then one 1M-token RetroInfer sequence (host tier INT4, INT8 centroids, as s13-call-2) with --lookups host (every
# layer on the host, as auto chose before) and with auto (gpu-stores), the same jars; then 128K x 11 (auto: gpu, the
# path unchanged) as a check on the step.
J="bash .device/java"
bash .device/java -version > /dev/null 2>&1 # unpacks the runtime
M=org.retroinfer.examples.Main
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
step() { # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  (cd $W && timeout $seconds "$@") > $name.txt 2>&1; echo "rc $?" >> $name.txt
  tar -cf $OUT/out.tar *
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
step greedy-gpu-stores 60 $J org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu-stores 3
for v in host auto; do
  step retro-1m-$v 170 $J $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --warmup 2 --reps 3 --context 1000k \
    --batch 1 --attention retro --host-kv int4 --centroids int8 --lookups $v --out /tmp/o/retro-1m-$v.json
done
step retro-128k 60 $J $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 1 --attention retro \
  --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --warmup 4 --reps 5 --context 128k --batch 11 \
  --out /tmp/o/retro-128k.json
