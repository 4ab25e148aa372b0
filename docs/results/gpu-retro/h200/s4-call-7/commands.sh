#!/bin/bash
# call s4-7 of 2026-11-28 (fourth session), H200, at the code of 23d3d7a: the linear kernels and cuBLAS (BlasLinear, the
# inputs in two bfloat16 parts, so 2 x rows GEMM rows) at 16 to 72 decode rows, as GB/s of weights beside a copy
J="bash .device/java"
timeout 200 $J org.retroinfer.kernels.gpu.LinearGpuCheck 30 36 64 65 72 > $OUT/linear.txt 2>&1
echo "rc $?" >> $OUT/linear.txt
# the device tool's limit (170 s, the session's last device time) cut the run off during the LM head's 72 rows: rc 124
