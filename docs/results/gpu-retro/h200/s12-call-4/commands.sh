#!/bin/bash
# call s12-call-4 of 2026-11-29 (twelfth session), NVIDIA H200: commit 8cefcde (this session's logitsInt8). Issue 7's
# table for RetroInfer with INT8 centroids, one seed (tools/device/issue7-bench --seeds 1 --centroids int8: greedy tokens,
# then retro and full attention at 128K, 64K and 32K, each at the largest batch that fits 79 GiB), then one 1M-token
# RetroInfer sequence (host tier INT4, INT8 centroids) as s10-call-5 ran it: the decode paths at every scale after the
# eleventh and twelfth sessions' compiler and kernel changes.
mkdir -p /tmp/o && rm -rf /tmp/o/* && W=$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > /tmp/o/card.txt
timeout 300 bash tools/device/issue7-bench /tmp/i7 --seeds 1 --centroids int8 > /tmp/o/issue7-bench.txt 2>&1
echo "rc $?" >> /tmp/o/issue7-bench.txt
cp -r /tmp/i7 /tmp/o/i7; cd /tmp/o && tar -cf $OUT/out.tar *
(cd $W && timeout 230 bash .device/java org.retroinfer.examples.Main bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 \
  --warmup 2 --reps 3 --context 1000k --batch 1 --attention retro --host-kv int4 --centroids int8 --out /tmp/o/retro-1m.json) > retro-1m.txt 2>&1
echo "rc $?" >> retro-1m.txt
tar -cf $OUT/out.tar *
