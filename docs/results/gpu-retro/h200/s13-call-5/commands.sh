#!/bin/bash
# call s13-call-5 of 2026-11-29 (thirteenth session), NVIDIA H200: 5cc576c (lookUp's bit-set ordering) against 874c351's
# kernels jar (tools/device/pack-old 874c351 kernels: .device/java-old) at 128K x 11, where s13-call-4's new run (1034.9
# tok/s) was slower than s13-call-3's 1065.7 in another call: retro, INT8 centroids, INT4 GPU tier, old and new
# alternating twice.
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
