#!/bin/bash
# call s4-5 of 2026-11-28 (fourth session), H200, at d991e78: split counts with one split more only under a 75%-full
# wave (DecodeAttentionShape.splitsFor), exact attention read in place from the INT4 GPU tier, FMA scoring; the 32K,
# 64K and 128K ratios, each pair in this one call
J="bash .device/java"
M="$J org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --warmup 2 --reps 3"
mkdir -p /tmp/json
run() { name=$1; shift; echo "== $name: $JAVA_TOOL_OPTIONS $*" >> $OUT/bench.txt; timeout $T $M $B "$@" --out /tmp/json/$name.json >> $OUT/bench.txt 2>&1; echo "rc $?" >> $OUT/bench.txt; }
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
T=50 run full-32k --context 32k --attention full
T=95 run retro-32k --context 32k $R
T=55 run full-64k --context 64k --attention full
T=100 run retro-64k --context 64k $R
T=60 run full-128k --context 128k --attention full
T=110 run retro-128k --context 128k $R
tar -C /tmp/json -cf $OUT/json.tar .
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt
ls -la $OUT /tmp/json
