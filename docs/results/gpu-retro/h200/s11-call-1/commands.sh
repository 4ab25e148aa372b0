#!/bin/bash
# call s11-call-1 of 2026-11-29 (eleventh session), NVIDIA H200 (143771 MiB, driver 580.159.04), at c2c4fc3: stall profiles
# (ncu 2025.3.1 sections and per-SASS stall samples) of CentroidScoring.logitsInt8 and logitsHalf (uniform centroids, the
# first timed launches) and ClusterTopK.select (launch 9: uniform centroids, whose ties take the id passes) at 128K x 11.
# The script's search for select's first random-centroid launch failed (ncu writes the unit 'ns', which its table
# lacked), so that profile is missing; select-times.csv shows it is launch 492 (43 us under ncu against 92 us uniform).
# The .ncu-rep files are not kept; the SASS tables are gzipped.
C="bash .device/java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck"
S="--section SpeedOfLight --section WarpStateStats --section SourceCounters --section LaunchStats --section Occupancy --section MemoryWorkloadAnalysis --section SchedulerStats --section InstructionStats"
mkdir -p /tmp/o && rm -rf /tmp/o/* && cd /tmp/o && W=$OLDPWD
(ls -la ~/.cache/huggingface ~/.cache 2>&1 | head -20; timeout 20 find / -xdev \( -name '*.safetensors' -o -name '*.gguf' \) -size +1M 2>/dev/null | head -20) > model-files.txt 2>&1
ncu --version > ncu-version.txt 2>&1
(cd $W && timeout 150 ncu --target-processes all --metrics gpu__time_duration.sum --csv -k regex:'^select$' --launch-count 1000 \
  --log-file /tmp/o/select-times.csv $C 11 131072 0) > check-pass1.txt 2>&1; echo "rc $?" >> check-pass1.txt
skip=$(python3 - <<'P'
import csv
rows=[r for r in csv.reader(open('/tmp/o/select-times.csv')) if len(r)>5]
h=rows[0]; name=h.index('Metric Name'); unit=h.index('Metric Unit'); val=h.index('Metric Value')
per_us={'nsecond':1e-3,'usecond':1.0,'msecond':1e3}
us=[float(r[val].replace(',',''))*per_us[r[unit]] for r in rows[1:] if r[name]=='gpu__time_duration.sum']
# after the 9 check launches: the first launch under 50 us is a random-centroid one (uniform ones tie: ~70 us)
print(next(k for k,v in enumerate(us) if k>=9 and v<50))
P
)
echo "select skip $skip" > skips.txt
tar -cf $OUT/out.tar *
for k in "logitsInt8 3" "logitsHalf 3" "select 9" "select $skip"; do
  set -- $k
  (cd $W && timeout 100 ncu --target-processes all $S -k regex:"^$1\$" --launch-skip $2 --launch-count 1 -o /tmp/o/$1-$2 $C 11 131072 0) > check-$1-$2.txt 2>&1; echo "rc $?" >> check-$1-$2.txt
  ncu -i /tmp/o/$1-$2.ncu-rep --page details > ncu-$1-$2.txt 2>&1
  ncu -i /tmp/o/$1-$2.ncu-rep --page source --csv --print-source sass > sass-$1-$2.csv 2>&1
  tar -cf $OUT/out.tar *
done
