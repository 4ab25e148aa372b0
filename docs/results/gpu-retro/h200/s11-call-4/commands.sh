#!/bin/bash
# call s11-call-4 of 2026-11-29 (eleventh session), NVIDIA H200 (143771 MiB, driver 580.159.04): 6d0f6b3's tree (select
# formation and division by powers of two as shifts in the compiler, ClusterTopK's keys in shared memory, logitsInt8's
# integer transposed sum) against c2c4fc3's accel and kernels jars (.device/old, first on the class path) in the same call.
# Checks on the new jars (greedy tokens, cluster ranking, decode attention, retro-tiny's RULER at 8K with INT8 centroids
# and the INT4 GPU tier as s10-call-3 ran it), then bench A/B at 128K x 11 and 32K x 42 (retro, INT8 centroids) and full
# attention at 128K x 3, old and new alternating
# .device/old held c2c4fc3's accel and kernels jars, copied from the pack made at c2c4fc3 before repacking;
# tools/device/pack-old c2c4fc3 (after tools/device/pack) makes the same, with .device/java-old as the OLD launcher.
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
step greedy 60 $NEW org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu
step ranking-new 80 $NEW $K.ClusterRankingGpuCheck 11 131072 0 42 32768 0
step decode-attention 70 $NEW $K.DecodeAttentionGpuCheck 4 131072 0 16 32768 0
step ruler-int8-8k 100 $NEW $M eval ruler --model models/retro-tiny --lengths 8k --samples 5 --attention retro --device gpu \
  --prefill-chunk 512 --no-plots --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --out /tmp/o/ruler-int8-8k
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 1"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --warmup 4 --reps 5"
for v in old new; do
  J=$NEW; [[ $v == old ]] && J=$OLD
  step retro-128k-$v 90 $J $M $B $R --context 128k --batch 11 --out /tmp/o/retro-128k-$v.json
done
for v in old new; do
  J=$NEW; [[ $v == old ]] && J=$OLD
  step retro-32k-$v 80 $J $M $B $R --context 32k --batch 42 --out /tmp/o/retro-32k-$v.json
done
for v in old new; do
  J=$NEW; [[ $v == old ]] && J=$OLD
  step full-128k-$v 60 $J $M $B --attention full --warmup 4 --reps 5 --context 128k --batch 3 --out /tmp/o/full-128k-$v.json
done
