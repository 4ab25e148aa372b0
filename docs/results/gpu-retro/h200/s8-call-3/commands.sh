#!/bin/bash
# call s8-3 of 2026-11-28 (eighth session), NVIDIA H200 (card.txt): a0351d1 + ClusterRankingGpuCheck timing random
# centroids, then random centroids with the row counts in mapped host memory (as GpuRetroKvCache kept them), at the
# bench's 128K x 10 and 32K x 41
mkdir -p /tmp/o && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
(cd $W && timeout 200 bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck 10 131072 0 41 32768 0) > ranking-check.txt 2>&1; echo "rc $?" >> ranking-check.txt
tar -cf $OUT/out.tar *
