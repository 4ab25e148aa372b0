#!/bin/bash
# call s7-3 of 2026-11-28 (seventh session), NVIDIA H200: a working tree (f6a4f3c, plus centroids scored on tensor
# cores, tensor-scoring.diff here, on by default for BF16 with -Dretroinfer.decode.tensorScoring=off to compare, plus
# selection blocks of 1024 threads at every row count) against 091828e (.device-base): 128K x 10 with the GPU held to
# 79 GiB, base and new over seeds 1 and 2, new with tensor scoring off (seed 1). The ranking check and greedy check this
# call also ran did not come back (the device tool returns at most eight files; s7-call-4 has both).
M="bash .device/java org.retroinfer.examples.Main"
MB="bash .device-base/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --warmup 4 --reps 5 --context 128k"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt
timeout 120 bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck > $OUT/ranking-check.txt 2>&1; echo "rc $?" >> $OUT/ranking-check.txt
timeout 80 bash .device/java org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu > $OUT/greedy.txt 2>&1; echo "rc $?" >> $OUT/greedy.txt
for seed in 1 2; do
  timeout 100 $MB $B $R --seed $seed > $OUT/bench-128k-seed$seed-base.txt 2>&1; echo "rc $?" >> $OUT/bench-128k-seed$seed-base.txt
  timeout 100 $M $B $R --seed $seed --out $OUT/bench-128k-seed$seed-new.json > $OUT/bench-128k-seed$seed-new.txt 2>&1; echo "rc $?" >> $OUT/bench-128k-seed$seed-new.txt
done
timeout 100 bash .device/java -Dretroinfer.decode.tensorScoring=off org.retroinfer.examples.Main $B $R --seed 1 > $OUT/bench-128k-seed1-cuda-cores.txt 2>&1; echo "rc $?" >> $OUT/bench-128k-seed1-cuda-cores.txt
