#!/bin/bash
# call s9-5 of 2026-11-28 (ninth session), NVIDIA H200 (card.txt), commit a23d452: the estimation zone's scores taken
# from the layer's logits (-Dretroinfer.decode.estimationScored). Greedy tokens on retro-tiny against the CPU's; with
# the GPU held to 79 GiB, seed 1: retro (INT8 value sums) at 128K x 11 with and without it, at 64K and 32K with it, and
# full attention at 128K, 64K and 32K, 4 warm-up and 5 timed passes each, the card's clocks, power and temperature
# sampled every 200 ms throughout (smi.csv, the runs' start times in starts.txt)
M="bash .device/java"
MAIN="org.retroinfer.examples.Main"
B="bench --shape llama3-8b --device gpu --kv-type bf16 --gen 16 --gpu-memory 79"
R="--attention retro --gpu-kv int4 --gpu-store-layers all --value-sums int8 --warmup 4 --reps 5"
F="--attention full --warmup 4 --reps 5"
mkdir -p /tmp/o && cd /tmp/o && rm -f /tmp/o/* && W=$OLDPWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > card.txt
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,power.limit,temperature.gpu,clocks_event_reasons.active \
  --format=csv -lms 200 > smi.csv 2>&1 & SMI=$!
(cd $W && timeout 60 $M org.retroinfer.examples.GpuGreedyCheck models/retro-tiny 1024,4096,8192 48 bf16 retro gpu) > greedy.txt 2>&1; echo "rc $?" >> greedy.txt
run() { # name, JVM options, bench options, timeout
  echo "$(date +%H:%M:%S.%N) $1" >> starts.txt
  (cd $W && timeout $4 $M $2 $MAIN $B $3 --out /tmp/o/$1.json) > $1.txt 2>&1; echo "rc $?" >> $1.txt
}
run retro-128k-scored "-Dretroinfer.decode.estimationScored=on" "$R --context 128k" 70
run retro-128k-centroids "-Dretroinfer.decode.estimationScored=off" "$R --context 128k" 70
run full-128k "" "$F --context 128k" 40
run retro-64k-scored "" "$R --context 64k" 70
run full-64k "" "$F --context 64k" 40
run retro-32k-scored "" "$R --context 32k" 70
run full-32k "" "$F --context 32k" 40
kill $SMI
gzip -f /tmp/o/*.csv
tar -cf $OUT/out.tar *
