#!/usr/bin/env python3
"""PyTorch's scaled_dot_product_attention at decode (one query row per sequence): the yardstick of
issue 7's dense GPU baseline. Run on the GPU machine, in the same call as the Java kernels it is
compared with (DecodeAttentionGpuCheck), so both see the same card and clocks.

Llama 3 8B's attention shape: 32 query heads, 8 KV heads (enable_gqa=True), head dim 128, bf16.
For each batch x context, each backend (cuDNN, flash, memory-efficient) is timed with CUDA events
(median of 20 back-to-back calls after warm-ups) and reported as K/V bytes read per second, next
to a device-to-device copy of the same bytes timed in the same way, whose bandwidth counts the
bytes read plus the bytes written (the issue's 3.0 TB/s on an H100).

    python3 tools/device/sdpa_decode.py 4x32768 4x131072 16x32768 [--json OUT]
"""
import argparse
import json
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

QUERY_HEADS, KV_HEADS, HEAD_DIM = 32, 8, 128
BACKENDS = {
    "cudnn": SDPBackend.CUDNN_ATTENTION,
    "flash": SDPBackend.FLASH_ATTENTION,
    "efficient": SDPBackend.EFFICIENT_ATTENTION,
}


def median_ms(fn, reps=20, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    marks = [torch.cuda.Event(enable_timing=True) for _ in range(reps + 1)]
    fn()
    marks[0].record()
    for i in range(reps):
        fn()
        marks[i + 1].record()
    torch.cuda.synchronize()
    return statistics.median(marks[i].elapsed_time(marks[i + 1]) for i in range(reps))


def measure(batch, context):
    q = torch.randn(batch, QUERY_HEADS, 1, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(batch, KV_HEADS, context, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    v = torch.randn_like(k)
    kv_bytes = 2 * k.numel() * k.element_size()
    source = torch.empty(kv_bytes, dtype=torch.uint8, device="cuda")
    target = torch.empty_like(source)
    copy_ms = median_ms(lambda: target.copy_(source))
    row = {"batch": batch, "context": context, "kv_bytes": kv_bytes, "copy_ms": copy_ms,
           "copy_gbs_read_plus_written": 2 * kv_bytes / copy_ms / 1e6, "backends": {}}
    reference = None
    for name, backend in BACKENDS.items():
        try:
            with sdpa_kernel(backend):
                out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
                ms = median_ms(lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True))
        except RuntimeError as e:  # a backend that refuses this shape or card
            row["backends"][name] = {"error": str(e).splitlines()[0][:200]}
            continue
        if reference is None:
            reference = out.float()
        gbs = kv_bytes / ms / 1e6
        row["backends"][name] = {"ms": ms, "kv_read_gbs": gbs,
                                 "share_of_copy": gbs / row["copy_gbs_read_plus_written"],
                                 "max_abs_diff_vs_first": (out.float() - reference).abs().max().item()}
    del q, k, v, source, target
    torch.cuda.empty_cache()
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shapes", nargs="+", help="BATCHxCONTEXT, e.g. 4x131072")
    parser.add_argument("--json", help="write the rows as JSON here")
    args = parser.parse_args()
    rows = []
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}")
    for shape in args.shapes:
        try:
            batch, context = (int(x) for x in shape.lower().split("x"))
        except ValueError:
            sys.exit(f"sdpa_decode.py: shape '{shape}' is not BATCHxCONTEXT (e.g. 4x131072)")
        row = measure(batch, context)
        rows.append(row)
        print(f"sdpa batch {batch} context {context}: D2D copy {row['copy_gbs_read_plus_written']:.0f} GB/s (read + written)")
        for name, r in row["backends"].items():
            if "error" in r:
                print(f"  {name:9s} unavailable: {r['error']}")
            else:
                print(f"  {name:9s} {r['ms']:.3f} ms = {r['kv_read_gbs']:.0f} GB/s of K/V, "
                      f"{100 * r['share_of_copy']:.1f}% of the copy")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
