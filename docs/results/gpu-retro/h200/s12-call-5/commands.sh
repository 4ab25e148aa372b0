#!/bin/bash
# call s12-call-5 of 2026-11-29 (twelfth session), NVIDIA H200: commit 40e0095 (RmsNorm.rowsAfterResidual: the residual
# add in the next block's norm launch) against 8cefcde's accel, kernels and model jars (tools/device/pack-old 8cefcde
# accel,kernels,model: .device/java-old) in the same call. Checks on the new jars (the decode layer's kernels, greedy
# tokens against the CPU), then bench A/B at 128K x 11 and 32K x 42 (retro, INT8 centroids), old and new alternating.
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
step decode-layer 30 $NEW $K.DecodeLayerGpuCheck 16
step greedy 30 $NEW org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 1"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --warmup 4 --reps 5"
for v in old new; do
  J=$NEW; [[ $v == old ]] && J=$OLD
  step retro-128k-$v 50 $J $M $B $R --context 128k --batch 11 --out /tmp/o/retro-128k-$v.json
done
for v in old new; do
  J=$NEW; [[ $v == old ]] && J=$OLD
  step retro-32k-$v 45 $J $M $B $R --context 32k --batch 42 --out /tmp/o/retro-32k-$v.json
done
