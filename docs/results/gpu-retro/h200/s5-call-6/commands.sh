#!/bin/bash
# call s5-6 of 2026-11-28 (fifth session), H200, at the code of 5d0003a: a 1M-token RetroInfer decode (one sequence, the
# host tier in INT4 as on the H100 before), and full attention asked for the same context
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt 2>&1
free -g >> $OUT/card.txt 2>&1
timeout 400 $M $B --warmup 2 --reps 3 --context 1000k --batch 1 --attention retro --host-kv int4 --out /tmp/retro-1m.json > $OUT/bench-1m.txt 2>&1
echo "rc $?" >> $OUT/bench-1m.txt
timeout 60 $M $B --warmup 1 --reps 1 --context 1000k --attention full > $OUT/full-1m.txt 2>&1
echo "rc $?" >> $OUT/full-1m.txt
cd /tmp && tar -cf $OUT/json.tar retro-1m.json 2>/dev/null
