#!/bin/bash
# call 8 of 2026-11-28 (second session), H200: kernel by kernel at 32K x 72, the INT4 GPU tier with no host tier and
# the estimation zone read in place (ncu, each kernel alone)
M="bash .device/java org.retroinfer.examples.Main"
which ncu > $OUT/ncu-version.txt 2>&1; ncu --version >> $OUT/ncu-version.txt 2>&1
timeout 230 ncu --target-processes all --metrics gpu__time_duration.sum --csv --log-file $OUT/ncu-32k-b72.csv \
  -k regex:'^(logitsHalf|select|gatherInt4Bf16|lookUp|partials|partialsWeightedIndexed|merge|mergeWithPrevious|into|rows|linear.*|gemm.*|.*gemm.*)$' \
  --launch-skip 600 --launch-count 700 $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 4 --warmup 0 --reps 1 \
  --attention retro --gpu-kv int4 --gpu-store-layers all --context 32k --batch 72 > $OUT/bench.txt 2>&1
echo "rc $?" >> $OUT/bench.txt
ls -la $OUT
