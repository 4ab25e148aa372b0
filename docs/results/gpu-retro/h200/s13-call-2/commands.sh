#!/bin/bash
# call s13-call-2 of 2026-11-29 (thirteenth session), NVIDIA H200: ClusterTopK.launch selecting one block per row up to
# 10240 clusters a row (as before) and with ChunkedClusterTopK's five kernels past it, against de7f540's accel, kernels
# and kvstore jars (tools/device/pack-old de7f540: .device/java-old) in the same call. Cluster ranking checked (new jars;
# a 1M-token shape's rows go chunked) and timed at 128K x 11 and 1M x 1; greedy tokens; bench at 128K x 11 (retro, INT8
# centroids, INT4 GPU tier: the path unchanged there), then one 1M-token RetroInfer sequence (host tier INT4, INT8
# centroids, as s12-call-4 ran it), old then new.
NEW="bash .device/java"
OLD="bash .device/java-old"
bash .device/java -version > /dev/null 2>&1 # unpacks the runtime
K=org.retroinfer.kernels.gpu
M=org.retroinfer.examples.Main
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
step() { # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  (cd $W && timeout $seconds "$@") > $name.txt 2>&1; echo "rc $?" >> $name.txt
  tar -cf $OUT/out.tar *
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
step ranking-new 110 $NEW $K.ClusterRankingGpuCheck 11 131072 0 1 1048576 0
step greedy 40 $NEW org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 1"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --warmup 4 --reps 5"
step retro-128k-new 60 $NEW $M $B $R --context 128k --batch 11 --out /tmp/o/retro-128k-new.json
for v in old new; do
  J=$NEW; [[ $v == old ]] && J=$OLD
  step retro-1m-$v 170 $J $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --warmup 2 --reps 3 --context 1000k \
    --batch 1 --attention retro --host-kv int4 --centroids int8 --out /tmp/o/retro-1m-$v.json
done
