#!/bin/bash
# call s10-4 of 2026-11-29 (tenth session), NVIDIA H200 (card.txt): ea76c46, issue 7's table with RetroInfer's centroids in
# INT8 (the dp4a scoring kernel), seeds 1 and 2, at 79 GiB: greedy check, then per seed RetroInfer and full attention at
# 128K, 64K and 32K
bash tools/device/issue7-bench /tmp/i7 --seeds "1 2" --centroids int8 --tar $OUT/i7.tar
