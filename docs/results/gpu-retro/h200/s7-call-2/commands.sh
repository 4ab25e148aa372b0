#!/bin/bash
# call s7-2 of 2026-11-28 (seventh session), NVIDIA H200: f6a4f3c, 128K x 10 (the GPU not held back, so that ncu's
# kernel replay has room to save memory; CUDA graphs off): the stall sections of scoring, selection and the exact and
# estimation zones, two launches each (layers 4-5 of the first step)
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --cuda-graphs off"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --context 128k --gen 4 --warmup 0 --reps 1"
S="--section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats --section MemoryWorkloadAnalysis --section SchedulerStats"
timeout 250 ncu --target-processes all $S -k regex:'^(logitsHalf|select|partialsInt4Bf16|partialsWeightedIndexed)$' --launch-skip 96 --launch-count 8 \
  --log-file $OUT/ncu-sections.txt $M $B $R --batch 10 > $OUT/ncu-sections-bench.txt 2>&1; echo "rc $?" >> $OUT/ncu-sections-bench.txt
