#!/bin/bash
# call s11-call-2 of 2026-11-29 (eleventh session), NVIDIA H200 (143771 MiB, driver 580.159.04): the working tree after
# c2c4fc3 with select formation in the compiler (bc3188c's SelectFormation, without its StrengthReduction),
# ClusterTopK's keys in shared memory (6ea60dd) and logitsInt8's integer transposed sum (6d0f6b3), against c2c4fc3's
# accel and kernels jars (.device/old, first on the class path) in the same call: ClusterRankingGpuCheck at 128K x 11
# and 32K x 42 both ways; then every GPU check on the new jars (the compiler change touches every kernel). The accel
# GpuCheck ran past its 45 s (its checks so far all OK).
# .device/old held c2c4fc3's accel and kernels jars, copied from the pack made at c2c4fc3 before repacking;
# tools/device/pack-old c2c4fc3 (after tools/device/pack) makes the same, with .device/java-old as the OLD launcher.
NEW="bash .device/java"
bash .device/java -version > /dev/null 2>&1 # unpacks the runtime
OLD=".device/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp .device/old/*:.device/lib/*"
K=org.retroinfer.kernels.gpu
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
step() { # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  (cd $W && timeout $seconds "$@") > $name.txt 2>&1; echo "rc $?" >> $name.txt
  tar -cf $OUT/out.tar *
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
step ranking-new 80 $NEW $K.ClusterRankingGpuCheck 11 131072 0 42 32768 0
step ranking-old 80 $OLD $K.ClusterRankingGpuCheck 11 131072 0 42 32768 0
step greedy 60 $NEW org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu
step decode-attention 70 $NEW $K.DecodeAttentionGpuCheck 4 131072 0 16 32768 0
step decode-layer 45 $NEW $K.DecodeLayerGpuCheck 16
step wave-buffer-copy 45 $NEW $K.WaveBufferCopyGpuCheck
step index-store 45 $NEW $K.IndexStoreGpuCheck 65536
step kmeans 45 $NEW $K.KMeansGpuCheck 32768 2048 4 10
step flash-prefill 45 $NEW $K.FlashPrefillGpuCheck
step linear 45 $NEW $K.LinearGpuCheck 11
step accel-gpu-check 45 $NEW org.retroinfer.accel.GpuCheck --out /tmp/o/accel-gpu-check.json
