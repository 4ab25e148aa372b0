#!/bin/bash
# call s5-9 of 2026-11-28 (fifth session), H200, at the code of 70415a4 (the selection's loads four clusters at once): the
# selection's time a layer at 32K x 72 (0.050 ms in s5-call-5) and at 128K with the GPU held to 79 GiB (0.053 in s5-call-7)
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16"
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
timeout 75 $M $B $R --warmup 4 --reps 5 --context 32k --out /tmp/retro-32k.json > $OUT/bench.txt 2>&1
echo "rc $?" >> $OUT/bench.txt
timeout 75 $M $B $R --warmup 4 --reps 5 --context 128k --gpu-memory 79 --out /tmp/retro-128k-79g.json >> $OUT/bench.txt 2>&1
echo "rc $?" >> $OUT/bench.txt
cd /tmp && tar -cf $OUT/json.tar retro-*.json 2>/dev/null
