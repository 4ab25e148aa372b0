#!/bin/bash
# call s7-7 of 2026-11-28 (seventh session), NVIDIA H200 (143771 MiB, driver 580.159.04): d2afe70, why the 16-bit scoring kernel reads BF16 centroids
# slower per byte than the F32 kernel reads F32 ones: ClusterRankingGpuCheck timed at the bench's 128K x 10 and 32K x 39,
# then ncu's stall sections of one timed launch of each kernel at 128K x 10
C="bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck"
S="--section SpeedOfLight --section Occupancy --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis --section LaunchStats"
mkdir -p /tmp/o && cd /tmp/o && W=$OLDPWD
(cd $W && timeout 120 $C 10 131072 0 39 32768 0) > ranking-check.txt 2>&1; echo "rc $?" >> ranking-check.txt
for k in logitsHalf logitsF32; do
  (cd $W && timeout 120 ncu --target-processes all $S -k regex:"^$k\$" --launch-skip 3 --launch-count 1 --log-file /tmp/o/ncu-$k.txt $C 10 131072 0) > ncu-$k-check.txt 2>&1; echo "rc $?" >> ncu-$k-check.txt
done
tar -cf $OUT/out.tar *
