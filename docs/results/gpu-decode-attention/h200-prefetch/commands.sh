#!/bin/bash
# call 1 of 2026-11-28 (second session), H200, at commit d2f6283 (the L2 prefetch, reverted in dbc3074): K/V prefetch
# sweep of the dense decode kernel, PyTorch SDPA beside it, and the dense 32K bench with and without the prefetch
J="bash .device/java"
M="$J org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --reps 3 --context 32k"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv > $OUT/sdpa.txt 2>&1
free -g >> $OUT/sdpa.txt
for n in 2 0 1; do
  JAVA_TOOL_OPTIONS=-Dretroinfer.attention.prefetchTiles=$n timeout 100 $J org.retroinfer.kernels.gpu.DecodeAttentionGpuCheck \
    4 131072 0 16 32768 0 8 65536 0 32 32768 0 4 32768 0 2 65536 0 > $OUT/dac-pf$n.txt 2>&1
done
timeout 90 python3 tools/device/sdpa_decode.py 4x131072 16x32768 8x65536 32x32768 4x32768 2x65536 >> $OUT/sdpa.txt 2>&1
for n in 2 0; do
  echo "== full 32K prefetchTiles=$n" >> $OUT/bench-full.txt
  JAVA_TOOL_OPTIONS=-Dretroinfer.attention.prefetchTiles=$n timeout 150 $M $B --attention full --out $OUT/full-pf$n.json >> $OUT/bench-full.txt 2>&1
done
ls -la $OUT
