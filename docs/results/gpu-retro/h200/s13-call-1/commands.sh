#!/bin/bash
# call s13-call-1 of 2026-11-29 (thirteenth session), NVIDIA H200: the selection spread over blocks of 2048 clusters
# of a row (ClusterTopK's five kernels) against de7f540's accel, kernels and kvstore jars (tools/device/pack-old de7f540:
# .device/java-old) in the same call. Cluster ranking checked and timed (scoring + selection, graph-replayed) at 128K x 11,
# 32K x 42 and 1M x 1, old then new; greedy tokens on the new jars; bench A/B at 128K x 11 and 32K x 42 (retro, INT8
# centroids, INT4 GPU tier), old and new alternating.
# The new jars held the chunked kernels' first version, uncommitted, which selected every row chunked (the shape's
# selectionGrid() and ClusterTopK.launch without the one-block path): slower at 128K x 11 and 32K x 42, so commit 13fcc09
# keeps one block per row up to 10240 clusters and chunks only longer rows (s13-call-2).
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
step ranking-new 150 $NEW $K.ClusterRankingGpuCheck 11 131072 0 42 32768 0 1 1048576 0
step ranking-old 120 $OLD $K.ClusterRankingGpuCheck 11 131072 0 42 32768 0 1 1048576 0
step greedy 40 $NEW org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 1"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --warmup 4 --reps 5"
for v in old new; do
  J=$NEW; [[ $v == old ]] && J=$OLD
  step retro-128k-$v 60 $J $M $B $R --context 128k --batch 11 --out /tmp/o/retro-128k-$v.json
done
for v in old new; do
  J=$NEW; [[ $v == old ]] && J=$OLD
  step retro-32k-$v 70 $J $M $B $R --context 32k --batch 42 --out /tmp/o/retro-32k-$v.json
done
