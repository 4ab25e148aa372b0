#!/bin/bash
# call s12-call-2 of 2026-11-29 (twelfth session), NVIDIA H200: commit f8c5c34 (logitsInt8 with four lanes a
# centroid) against 3ebca29's accel and kernels jars (tools/device/pack-old 3ebca29: .device/java-old) in the same call.
# Checks on the new jars (cluster ranking at 128K x 11 and 32K x 42, greedy tokens, retro-tiny's RULER at 8K with INT8
# centroids and the INT4 GPU tier as s11-call-4 ran it), ncu of the new logitsInt8 (launch 3 of the ranking check, as
# s11-call-3 profiled the old), then bench A/B at 128K x 11 and 32K x 42 (retro, INT8 centroids), old and new alternating.
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
step ranking-new 80 $NEW $K.ClusterRankingGpuCheck 11 131072 0 42 32768 0
step greedy 40 $NEW org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu
step ruler-int8-8k 100 $NEW $M eval ruler --model models/retro-tiny --lengths 8k --samples 5 --attention retro --device gpu \
  --prefill-chunk 512 --no-plots --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --out /tmp/o/ruler-int8-8k
S="--section SpeedOfLight --section WarpStateStats --section LaunchStats --section Occupancy --section MemoryWorkloadAnalysis --section SchedulerStats --section InstructionStats"
step ncu-logitsInt8 100 ncu --target-processes all $S -k regex:'^logitsInt8$' --launch-skip 3 --launch-count 1 $NEW $K.ClusterRankingGpuCheck 11 131072 0
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
