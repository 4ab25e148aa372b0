#!/bin/bash
# call s14-call-1 of 2026-11-29 (fourteenth session), NVIDIA H200: four 1M-token RetroInfer sequences decoded together
# (the paper's batch at 1M), both KV tiers in INT4 (as many layers' stores on the GPU as fit, the rest in pinned host memory),
# INT8 value sums and centroids, --lookups auto.
NEW="bash .device/java"
bash .device/java -version > /dev/null 2>&1 # unpacks the runtime
M=org.retroinfer.examples.Main
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
step() { # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  (cd $W && timeout $seconds "$@") > $name.txt 2>&1; echo "rc $?" >> $name.txt
  tar -cf $OUT/out.tar *
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
free -g > host-memory.txt
step retro-1m-b4 575 $NEW $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --warmup 1 --reps 2 --context 1000k \
  --batch 4 --attention retro --gpu-kv int4 --host-kv int4 --value-sums int8 --centroids int8 --out /tmp/o/retro-1m-b4.json
