#!/bin/bash
# call s11-call-3 of 2026-11-29 (eleventh session), NVIDIA H200 (143771 MiB, driver 580.159.04): the working tree of
# s11-call-2. ncu sections and per-SASS stall samples of ClusterTopK.select on random centroids (launch 492 of
# ClusterRankingGpuCheck 11 131072 0, found by s11-call-1's timing pass) and of CentroidScoring.logitsInt8 (launch 3);
# then in the bench at 128K x 4 (INT8 centroids, INT4 GPU tier): one select and one StoreDecode.partialsInt4Bf16 launch
# of the second decode step. The .ncu-rep files are not kept; the SASS tables are gzipped.
C="bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck"
S="--section SpeedOfLight --section WarpStateStats --section SourceCounters --section LaunchStats --section Occupancy --section MemoryWorkloadAnalysis --section SchedulerStats --section InstructionStats"
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
prof() { # name, seconds, kernel regex, skip, count, command...
  local name=$1 seconds=$2 regex=$3 skip=$4 count=$5; shift 5
  (cd $W && timeout $seconds ncu --target-processes all $S -k regex:"$regex" --launch-skip $skip --launch-count $count -o /tmp/o/$name "$@") > check-$name.txt 2>&1
  echo "rc $?" >> check-$name.txt
  ncu -i /tmp/o/$name.ncu-rep --page details > ncu-$name.txt 2>&1
  ncu -i /tmp/o/$name.ncu-rep --page source --csv --print-source sass > sass-$name.csv 2>&1
  rm -f /tmp/o/$name.ncu-rep
  tar -cf $OUT/out.tar *
}
prof select-random 100 '^select$' 492 1 $C 11 131072 0
prof logitsInt8 100 '^logitsInt8$' 3 1 $C 11 131072 0
prof bench-128k-4 240 '^(select|partialsInt4Bf16)$' 64 2 bash .device/java org.retroinfer.examples.Main bench --shape llama3-8b \
  --device gpu --kv-type bf16 --gen 4 --attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 \
  --warmup 1 --reps 1 --context 128k --batch 4 --seed 1
