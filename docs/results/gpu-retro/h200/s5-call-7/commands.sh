#!/bin/bash
# call s5-7 of 2026-11-28 (fifth session), H200, at the code of bba4b18: the three pairs with the GPU held to 79 GiB
# (--gpu-memory 79: an H100 80GB's usable memory; the H200's bandwidth stays), each mode at the largest batch that fits
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
for c in 32k 64k 128k; do
  timeout 120 $M $B $R --warmup 4 --reps 5 --context $c --out /tmp/retro-$c.json >> $OUT/bench.txt 2>&1
  echo "rc $?" >> $OUT/bench.txt
  timeout 60 $M $B --attention full --warmup 2 --reps 3 --context $c --out /tmp/full-$c.json >> $OUT/bench.txt 2>&1
  echo "rc $?" >> $OUT/bench.txt
done
cd /tmp && tar -cf $OUT/json.tar retro-*.json full-*.json 2>/dev/null
