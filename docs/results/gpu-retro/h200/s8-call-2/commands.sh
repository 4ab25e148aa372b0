#!/bin/bash
# call s8-2 of 2026-11-28 (eighth session), NVIDIA H200 (card.txt): a0351d1 + ClusterRankingGpuCheck timing random
# centroids beside uniform ones: RULER on retro-tiny with the GPU tier in INT4 and every layer's store on the GPU, with
# INT8 and with 16-bit value sums (the default), at 8K and 16K; the ranking check at the bench's 128K x 10 and 32K x 41
M="bash .device/java org.retroinfer.examples.Main"
mkdir -p /tmp/o && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
for len in 8k 16k; do
  for vs in int8 default; do
    V=""; [ $vs = int8 ] && V="--value-sums int8"
    (cd $W && timeout 150 $M eval ruler --model models/retro-tiny --lengths $len --samples 5 --attention retro --device gpu --prefill-chunk 512 \
      --no-plots --gpu-kv int4 --gpu-store-layers all $V --out /tmp/o/ruler-$vs-$len) > ruler-$vs-$len.txt 2>&1; echo "rc $?" >> ruler-$vs-$len.txt
  done
done
(cd $W && timeout 150 bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck 10 131072 0 41 32768 0) > ranking-check.txt 2>&1; echo "rc $?" >> ranking-check.txt
tar -cf $OUT/out.tar *
