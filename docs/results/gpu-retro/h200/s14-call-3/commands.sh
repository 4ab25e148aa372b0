#!/bin/bash
# call s14-call-3 of 2026-11-29 (fourteenth session), NVIDIA H200: 128K x 11 (INT8 centroids, INT4 GPU tier), the whole
# tree at 46bcb50 against the whole tree at 874c351 (tools/device/pack-old 874c351 accel,kernels,kvstore,model,eval,serve,
# examples: .device/java-old), alternating three times: s14-call-2's runs at 46bcb50 gave 1037.4 and 1041.9 tok/s, where
# s13-call-2 and -3 had given 1066.7 and 1065.7 (its old runs failed: 874c351's kernels lack lookUpLong).
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
for r in 1 2 3; do
  for v in old new; do
    J=$NEW; [[ $v == old ]] && J=$OLD
    step retro-128k-$v-$r 70 $J $M bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 1 \
      --attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --centroids int8 --warmup 4 --reps 5 \
      --context 128k --batch 11 --out /tmp/o/retro-128k-$v-$r.json
  done
done
