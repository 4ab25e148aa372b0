#!/bin/bash
# call s14-call-2 of 2026-11-29 (fourteenth session), NVIDIA H200: 128K x 11 (INT8 centroids, INT4 GPU tier) at 46bcb50
# against 874c351's kernels jar (tools/device/pack-old 874c351 kernels: .device/java-old), alternating twice, to check
# that lookUp's comparisons (the bit set kept for zones past 512 ids since 6eacd17) run as before; then two 1M-token
# sequences with both tiers in INT4, beside s14-call-1's four (every layer's store fits the GPU at two).
NEW="bash .device/java"
OLD="bash .device/java-old"
bash .device/java -version > /dev/null 2>&1 # unpacks the runtime
M=org.retroinfer.examples.Main
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
step() { # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  (cd $W && timeout $seconds "$@") > $name.txt 2>&1; echo "rc $?" >> $name.txt
  tar -cf $OUT/out.tar *
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
for r in 1 2; do
  for v in old new; do
    J=$NEW; [[ $v == old ]] && J=$OLD
    step retro-128k-$v-$r 60 $J $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 1 \
      --attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --warmup 4 --reps 5 \
      --context 128k --batch 11 --out /tmp/o/retro-128k-$v-$r.json
  done
done
step retro-1m-b2 300 $NEW $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --warmup 1 --reps 2 --context 1000k \
  --batch 2 --attention retro --gpu-kv int4 --host-kv int4 --value-sums int8 --centroids int8 --out /tmp/o/retro-1m-b2.json
