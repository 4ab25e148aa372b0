#!/bin/bash
# call s9-6 of 2026-11-28 (ninth session), NVIDIA H200 (card.txt), commit a23d452 (as s9-call-5): seed 2. With the GPU
# held to 79 GiB: retro (INT8 value sums) and full attention at 128K, 64K and 32K, each at the largest batch that fits,
# 4 warm-up and 5 timed passes each, the card's clocks and power sampled every 200 ms (smi.csv, starts.txt)
M="bash .device/java"
MAIN="org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79 --seed 2"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --warmup 4 --reps 5"
F="--attention full --warmup 4 --reps 5"
mkdir -p /tmp/o && cd /tmp/o && rm -f /tmp/o/* && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,power.limit,temperature.gpu,clocks_event_reasons.active \
  --format=csv -lms 200 > smi.csv 2>&1 & SMI=$!
run() { # name, bench options, timeout
  echo "$(date +%H:%M:%S.%N) $1" >> starts.txt
  (cd $W && timeout $3 $M $MAIN $B $2 --out /tmp/o/$1.json) > $1.txt 2>&1; echo "rc $?" >> $1.txt
}
run retro-128k "$R --context 128k" 55
run full-128k "$F --context 128k" 20
run retro-64k "$R --context 64k" 45
run full-64k "$F --context 64k" 20
run retro-32k "$R --context 32k" 40
run full-32k "$F --context 32k" 20
kill $SMI
gzip -f /tmp/o/*.csv
tar -cf $OUT/out.tar *
