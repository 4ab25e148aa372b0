#!/bin/bash
# call s8-6 of 2026-11-28 (eighth session), NVIDIA H200 (card.txt): 2d004cc. Whether the machine has nsys, to see kernel
# durations inside replayed graphs: it has not (tools.txt: only ncu), so the rest of the script did nothing
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --context 128k"
mkdir -p /tmp/o && cd /tmp/o && rm -f /tmp/o/* && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
NSYS=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys /usr/local/cuda/nsight-systems*/bin/nsys 2>/dev/null | head -1)
echo "nsys: $NSYS" > tools.txt; command -v ncu >> tools.txt
if [ -n "$NSYS" ]; then
  (cd $W && timeout 300 $NSYS profile --trace=cuda --cuda-graph-trace=node --sample=none --cpuctxsw=none -o /tmp/o/step \
    $M $B $R --gen 16 --warmup 2 --reps 2) > nsys.txt 2>&1; echo "rc $?" >> nsys.txt
fi
tar -cf $OUT/out.tar *
