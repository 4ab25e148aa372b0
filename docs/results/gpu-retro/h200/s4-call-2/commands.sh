#!/bin/bash
# call s4-2 of 2026-11-28 (fourth session), H200, at 23d3d7a: the in-place exact attention without rounding to 16 bits and
# with levels turned into floats by the 2^23 trick (no conversion instructions); 32K and 64K; kernel times at 32K x 72
# (ncu)
J="bash .device/java"
M="$J org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --warmup 2 --reps 3"
run() { name=$1; shift; echo "== $name: $JAVA_TOOL_OPTIONS $*" >> $OUT/bench.txt; timeout $T $M $B "$@" --out $OUT/$name.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt; }
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
T=95 run retro-32k --context 32k $R
T=55 run full-64k --context 64k --attention full
T=100 run retro-64k --context 64k $R
timeout 230 ncu --target-processes all --metrics gpu__time_duration.sum --csv --log-file $OUT/ncu-32k-b72.csv \
  -k regex:'^(logitsHalf|select|partialsInt4Bf16|lookUp|partialsWeightedIndexed|merge|mergeWithPrevious)$' \
  --launch-skip 600 --launch-count 700 $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 4 --warmup 0 --reps 1 \
  $R --context 32k --batch 72 > $OUT/ncu-bench.txt 2>&1
echo "rc $?" >> $OUT/ncu-bench.txt
ls -la $OUT
