#!/bin/bash
# call s7-1 of 2026-11-28 (seventh session), NVIDIA H200 (card.txt): f6a4f3c (the bench's peak and free-memory columns)
# with the GPU held to 79 GiB: where the memory goes at 128K x 10 (peak of the project's allocations, the driver's free
# memory after), and where the time goes (ncu: every attention kernel of one decode step, each kernel alone, caches
# flushed), then the stall sections (these failed here: ncu's kernel replay found no room to save memory, see s7-call-2)
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --context 128k"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt
timeout 100 $M $B $R --gen 16 --warmup 4 --reps 5 --out $OUT/bench-128k.json > $OUT/bench-128k.txt 2>&1; echo "rc $?" >> $OUT/bench-128k.txt
K='^(fromF32|logitsHalf|select|lookUp|partialsInt4Bf16|partialsWeightedIndexed|merge|mergeWithPrevious)$'
timeout 200 ncu --target-processes all --metrics gpu__time_duration.sum,sm__warps_active.avg.pct_of_peak_sustained_active,dram__throughput.avg.pct_of_peak_sustained_elapsed \
  --csv --log-file $OUT/ncu-times.csv -k regex:"$K" --launch-skip 512 --launch-count 256 \
  $M $B $R --gen 4 --warmup 0 --reps 1 > $OUT/ncu-times-bench.txt 2>&1; echo "rc $?" >> $OUT/ncu-times-bench.txt
timeout 200 ncu --target-processes all --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats \
  --section MemoryWorkloadAnalysis -k regex:'^(logitsHalf|select|partialsInt4Bf16)$' --launch-skip 96 --launch-count 6 \
  --log-file $OUT/ncu-sections.txt $M $B $R --gen 4 --warmup 0 --reps 1 > $OUT/ncu-sections-bench.txt 2>&1; echo "rc $?" >> $OUT/ncu-sections-bench.txt
