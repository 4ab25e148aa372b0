#!/bin/bash
# call s11-call-5 of 2026-11-29 (eleventh session), NVIDIA H200 (143771 MiB, driver 580.159.04): 6d0f6b3, issue 7's
# table with 16-bit and INT8 centroids over two seeds
mkdir -p /tmp/o && rm -rf /tmp/o/* /tmp/i7
bash tools/device/issue7-bench /tmp/i7 --seeds "1 2" --centroids both --tar $OUT/i7.tar
