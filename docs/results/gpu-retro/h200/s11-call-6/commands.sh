#!/bin/bash
# call s11-call-6 of 2026-11-29 (eleventh session), NVIDIA H200 (143771 MiB, driver 580.159.04): c3ff243
# (ctx.ballot and ctx.matchAny in the kernel language; ClusterTopK counts each distinct digit of a
# warp with one atomic and claims its compaction slots with a ballot) against 6d0f6b3's accel and kernels jars
# (.device/old, first on the class path) in the same call: ClusterRankingGpuCheck at 128K x 11 both ways (its checks
# on the new jars), greedy tokens, then retro at 128K x 11 with INT8 centroids, old and new
# .device/old held 6d0f6b3's accel and kernels jars, copied from the pack made at 6d0f6b3 before repacking;
# tools/device/pack-old 6d0f6b3 (after tools/device/pack) makes the same, with .device/java-old as the OLD launcher.
NEW="bash .device/java"
bash .device/java -version > /dev/null 2>&1 # unpacks the runtime
OLD=".device/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp .device/old/*:.device/lib/*"
K=org.retroinfer.kernels.gpu
M=org.retroinfer.examples.Main
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
step() { # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  (cd $W && timeout $seconds "$@") > $name.txt 2>&1; echo "rc $?" >> $name.txt
  tar -cf $OUT/out.tar *
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
step ranking-new 50 $NEW $K.ClusterRankingGpuCheck 11 131072 0
step greedy 30 $NEW org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 1"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --warmup 4 --reps 5"
step retro-128k-old 50 $OLD $M $B $R --context 128k --batch 11 --out /tmp/o/retro-128k-old.json
step retro-128k-new 50 $NEW $M $B $R --context 128k --batch 11 --out /tmp/o/retro-128k-new.json
step ranking-old 50 $OLD $K.ClusterRankingGpuCheck 11 131072 0
