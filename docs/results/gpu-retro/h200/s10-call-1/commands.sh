#!/bin/bash
# call s10-1 of 2026-11-29 (tenth session), NVIDIA H200 (card.txt): bd44592, tools/device/issue7-bench's first run on a GPU
# (and the greedy check's first over EstimationZone). The device tool returns at most 8 files: the retro runs' .txt/.json,
# smi.csv, starts.txt and summary.md were left out; summary.md here is the script's printed summary (the call's output),
# copied by hand. The script now takes --tar to return everything in one file.
mkdir -p $OUT/i7
bash tools/device/issue7-bench $OUT/i7 --seeds 1
