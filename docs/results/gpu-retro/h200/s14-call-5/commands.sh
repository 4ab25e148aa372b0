#!/bin/bash
# call s14-call-5 of 2026-11-29 (fourteenth session), NVIDIA H200: the host's lookups and LRU updates loading each
# retrieved cluster's entries ahead (88a6250, b3f9fe4's tree) against 46bcb50's kvstore jar (tools/device/pack-old 46bcb50
# kvstore: .device/java-old). Greedy tokens on retro-tiny with every layer's store in host memory and looked up on the
# host; then 128K x 8 with every store in host memory (INT4) and --lookups host, old then new.
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
step greedy-host 60 $NEW org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro host 0
for v in old new; do
  J=$NEW; [[ $v == old ]] && J=$OLD
  step retro-128k-host-$v 70 $J $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --seed 1 --attention retro \
    --host-kv int4 --gpu-store-layers 0 --lookups host --centroids int8 --warmup 2 --reps 3 --context 128k --batch 8 \
    --out /tmp/o/retro-128k-host-$v.json
done
