#!/bin/bash
# call s10-5 of 2026-11-29 (tenth session), NVIDIA H200 (card.txt): ea76c46, one 1M-token RetroInfer sequence with INT8
# centroids (issue7-bench's --1m run, host tier INT4)
mkdir -p /tmp/o && cd /tmp/o && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
(cd $W && timeout 400 bash .device/java org.retroinfer.examples.Main bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 \
  --warmup 2 --reps 3 --context 1000k --batch 1 --attention retro --host-kv int4 --centroids int8 --out /tmp/o/retro-1m.json) > retro-1m.txt 2>&1
echo "rc $?" >> retro-1m.txt
tar -cf $OUT/out.tar *
# (The call found call 3's machine still warm, with its files in /tmp/o; the tar brought them back again, and they were
# dropped here: they are s10-call-3's.)
