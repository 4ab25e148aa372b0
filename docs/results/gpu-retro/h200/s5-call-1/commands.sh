#!/bin/bash
# call s5-1 of 2026-11-28 (fifth session), H200, at the code of 907aa67: where a 32K x 72 RetroInfer step goes inside its
# CUDA graph (nsys, every graph node: not installed on the device, so that part did not run), and the 32K pair with a
# longer warm-up
M="bash .device/java org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16"
R="--attention retro --gpu-kv int4 --gpu-store-layers all"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; which nsys ncu; ls -d /opt/nvidia/nsight-systems* /usr/local/cuda/bin/nsys* 2>&1; } > $OUT/env.txt 2>&1
NSYS=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys /usr/local/cuda/nsight-systems*/bin/nsys 2>/dev/null | head -1)
if [ -n "$NSYS" ]; then
  timeout 240 $NSYS profile --cuda-graph-trace=node -t cuda -o /tmp/r32 -f true $M $B $R --warmup 1 --reps 1 --context 32k \
    --out /tmp/nsys-bench.json > $OUT/nsys.txt 2>&1
  echo "rc $?" >> $OUT/nsys.txt
  $NSYS stats -q -r cuda_gpu_trace -f csv -o /tmp/trace /tmp/r32.nsys-rep >> $OUT/nsys.txt 2>&1
  ls -la /tmp/trace* >> $OUT/nsys.txt 2>&1
  gzip -c /tmp/trace*cuda_gpu_trace*.csv > $OUT/trace-32k.csv.gz
fi
timeout 150 $M $B $R --warmup 4 --reps 5 --context 32k --out /tmp/retro-32k.json > $OUT/bench.txt 2>&1
echo "rc $?" >> $OUT/bench.txt
timeout 80 $M $B --attention full --warmup 2 --reps 3 --context 32k --out /tmp/full-32k.json >> $OUT/bench.txt 2>&1
echo "rc $?" >> $OUT/bench.txt
tar -C /tmp -cf $OUT/json.tar retro-32k.json full-32k.json nsys-bench.json 2>/dev/null
