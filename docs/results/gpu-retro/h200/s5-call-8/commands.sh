#!/bin/bash
# call s5-8 of 2026-11-28 (fifth session), H200, at the code of bba4b18 (the split-KV kernel with launch bounds and its
# arithmetic-only id look-ahead): the dense decode kernel against the device copy and PyTorch's SDPA backends, same call
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/card.txt 2>&1
timeout 150 bash .device/java org.retroinfer.kernels.gpu.DecodeAttentionGpuCheck 4 131072 0 16 32768 0 8 65536 0 32 32768 0 > $OUT/decode-attention-check.txt 2>&1
echo "rc $?" >> $OUT/decode-attention-check.txt
timeout 120 python3 tools/device/sdpa_decode.py 4x131072 16x32768 8x65536 32x32768 > $OUT/sdpa-decode.txt 2>&1
echo "rc $?" >> $OUT/sdpa-decode.txt
