#!/bin/bash
# call s6-3 of 2026-11-28 (sixth session), NVIDIA H200: b6020eb (INT4 scales in BF16) against 0e0bda1 (F32 scales,
# .device-base) at 128K x 10 sequences, each at --gpu-memory 90 so that both fit (new, base, new); full attention at
# 128K with 79 GiB; RULER on retro-tiny with the GPU tier in INT4 (every layer's store on the GPU, the bench's
# configuration) at 8K for both builds and at 16K for the new one
# (the RULER runs stopped on the stacked-linear bug that b46d9d8 fixes; the 8K run of the new build wrote no file back)
M="bash .device/java org.retroinfer.examples.Main"
MB="bash .device-base/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --warmup 4 --reps 5 --context 128k"
E="eval ruler --model models/retro-tiny --samples 5 --attention retro --device gpu --prefill-chunk 512 --no-plots --gpu-kv int4 --gpu-store-layers all"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt
timeout 100 $M $B $R --gpu-memory 90 --batch 10 --out /tmp/retro-128k-new-1.json > $OUT/bench-new-1.txt 2>&1; echo "rc $?" >> $OUT/bench-new-1.txt
timeout 100 $MB $B $R --gpu-memory 90 --batch 10 --out /tmp/retro-128k-base.json > $OUT/bench-base.txt 2>&1; echo "rc $?" >> $OUT/bench-base.txt
timeout 100 $M $B $R --gpu-memory 90 --batch 10 --out /tmp/retro-128k-new-2.json > $OUT/bench-new-2.txt 2>&1; echo "rc $?" >> $OUT/bench-new-2.txt
timeout 60 $M $B --attention full --warmup 2 --reps 3 --gpu-memory 79 --context 128k --out /tmp/full-128k.json > $OUT/bench-full.txt 2>&1; echo "rc $?" >> $OUT/bench-full.txt
timeout 90 $M $E --lengths 8k --out /tmp/ruler-8k > $OUT/ruler-int4-gpu-8k.txt 2>&1; echo "rc $?" >> $OUT/ruler-int4-gpu-8k.txt
timeout 90 $MB $E --lengths 8k --out /tmp/ruler-8k-base > $OUT/ruler-int4-gpu-8k-base.txt 2>&1; echo "rc $?" >> $OUT/ruler-int4-gpu-8k-base.txt
timeout 120 $M $E --lengths 16k --out /tmp/ruler-16k > $OUT/ruler-int4-gpu-16k.txt 2>&1; echo "rc $?" >> $OUT/ruler-int4-gpu-16k.txt
cd /tmp && tar -cf $OUT/json.tar retro-*.json full-*.json ruler-8k ruler-8k-base ruler-16k 2>/dev/null
