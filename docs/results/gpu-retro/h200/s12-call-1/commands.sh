#!/bin/bash
# call s12-call-1 of 2026-11-29 (twelfth session), NVIDIA H200 (143771 MiB, driver 580.159.04): commit 3ebca29 (the
# eleventh session's head). Rewritten from the exact text sent (dev-call.sh was overwritten by the next call's).
# 1. ncu SpeedOfLight and launch statistics of every RetroInfer attention kernel of one decode layer in the bench at
#    128K x 11 (INT8 centroids, INT4 GPU tier), the launches past the warm-up pass; full sections and per-SASS samples
#    of CentroidScoring.logitsInt8 and StoreDecode.partialsInt4Bf16 there (after the shifts: re-profile).
# 2. The GPU checks not rerun since the strength reduction (s11-call-2 ran them with the selects only), the linear
#    layers and the accel GpuCheck with longer timeouts (both ran past 45 s there).
K=org.retroinfer.kernels.gpu
NEW="bash .device/java"
bash .device/java -version > /dev/null 2>&1 # unpacks the runtime
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
step() { # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  (cd $W && timeout $seconds "$@") > $name.txt 2>&1; echo "rc $?" >> $name.txt
  tar -cf $OUT/out.tar *
}
BENCH="$NEW org.retroinfer.examples.Main bench --shape llama3-8b --device gpu --kv-type bf16 --gen 4 --attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --warmup 1 --reps 1 --context 128k --batch 11 --seed 1"
step ncu-overview 200 ncu --target-processes all --section SpeedOfLight --section LaunchStats --section Occupancy \
  -k regex:'^(logitsInt8|select|gather|partialsInt4Bf16|partialsWeightedIndexedInt8|partialsScoredIndexedInt8|mergeWithPrevious|merge|admit|lookUp|update|rows|into)$' \
  --launch-skip 700 --launch-count 48 --print-summary per-kernel $BENCH
S="--section SpeedOfLight --section WarpStateStats --section SourceCounters --section LaunchStats --section Occupancy --section MemoryWorkloadAnalysis --section SchedulerStats --section InstructionStats"
(cd $W && timeout 200 ncu --target-processes all $S -k regex:'^(logitsInt8|partialsInt4Bf16)$' --launch-skip 130 --launch-count 2 -o /tmp/o/detail $BENCH) > check-detail.txt 2>&1
echo "rc $?" >> check-detail.txt
ncu -i /tmp/o/detail.ncu-rep --page details > ncu-detail.txt 2>&1
ncu -i /tmp/o/detail.ncu-rep --page source --csv --print-source sass > sass-detail.csv 2>&1
rm -f /tmp/o/detail.ncu-rep; gzip sass-detail.csv
tar -cf $OUT/out.tar *
step decode-layer 45 $NEW $K.DecodeLayerGpuCheck 16
step wave-buffer-copy 45 $NEW $K.WaveBufferCopyGpuCheck
step index-store 45 $NEW $K.IndexStoreGpuCheck 65536
step kmeans 45 $NEW $K.KMeansGpuCheck 32768 2048 4 10
step flash-prefill 45 $NEW $K.FlashPrefillGpuCheck
step accel-gpu-check 100 $NEW org.retroinfer.accel.GpuCheck --out /tmp/o/accel-gpu-check.json
step linear 200 $NEW $K.LinearGpuCheck 11
