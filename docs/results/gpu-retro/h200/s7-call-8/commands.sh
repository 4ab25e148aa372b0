#!/bin/bash
# call s7-8 of 2026-11-28 (seventh session), NVIDIA H200 (143771 MiB, driver 580.159.04): d2afe70, the 16-bit scoring
# kernel at the bench's row stride: ClusterRankingGpuCheck at 10 sequences of 135328 tokens (8458 clusters a row, the
# bench's capacity at 128K) and 8 splits, under ncu (one timed launch), beside 131072 (8192 a row)
C="bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck"
mkdir -p /tmp/o && cd /tmp/o && W=$OLDPWD
for ctx in 135328 131072; do
  (cd $W && timeout 60 ncu --target-processes all --metrics gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed --csv \
    -k regex:'^logitsHalf$' --launch-skip 3 --launch-count 1 --log-file /tmp/o/ncu-$ctx.csv $C 10 $ctx 8) > check-$ctx.txt 2>&1; echo "rc $?" >> check-$ctx.txt
done
tar -cf $OUT/out.tar *
