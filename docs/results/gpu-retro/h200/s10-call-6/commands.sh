#!/bin/bash
# call s10-6 of 2026-11-29 (tenth session), NVIDIA H200 (card.txt): 4b8728b, cluster scoring timed at more splits than one
# wave of resident blocks takes: 128K x 11 at 7 (the rule's) and 14 splits, 32K x 42 at 1 (the rule's), 2 and 4
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
(cd $W && timeout 300 bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck 11 131072 0 11 131072 14 42 32768 0 \
  42 32768 2 42 32768 4) > ranking-splits.txt 2>&1; echo "rc $?" >> ranking-splits.txt
tar -cf $OUT/out.tar *
