#!/usr/bin/env python3
"""Golden logits for the project's random model fixtures, computed by Hugging Face transformers.

Each fixture directory holds a Hugging Face checkpoint written by the Java test utility
(config.json, model.safetensors, tokenizer.json) and inputs.json ({"tokens": [...],
"positions": [...]}: the prompt's token ids and the positions whose logits to keep). The model runs
in float64 on the CPU with eager attention, so the goldens carry no rounding of their own beyond
transformers' float32 RoPE angles. Writes <out>/<fixture name>.json with the logits, the rotary
inverse frequencies and attention scaling transformers used, and the library versions.

Where a fixture also holds model.gguf and the `gguf` package is installed, the GGUF file is loaded
by transformers too (gguf_file=...) and its logits are written next to the others, as an outside
check that the project's GGUF writer produces files other readers accept.

usage: python3 tools/golden/make_golden.py FIXTURE_DIR [FIXTURE_DIR ...] --out OUT_DIR
"""
import argparse
import json
import os
import platform
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM


def load(path, **kwargs):
    try:
        return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float64, attn_implementation="eager", **kwargs)
    except TypeError:
        return AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float64, attn_implementation="eager", **kwargs)


def logits_at(model, tokens, positions):
    with torch.no_grad():
        out = model(torch.tensor([tokens], dtype=torch.long)).logits[0].to(torch.float64)
    return [out[p].tolist() for p in positions]


def same_bytes_as_safetensors_library(fixture):
    """Whether the safetensors library writes exactly the bytes of our file for the same tensors."""
    import tempfile
    from safetensors.torch import load_file, save_file
    ours = os.path.join(fixture, "model.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        theirs = os.path.join(tmp, "model.safetensors")
        save_file(load_file(ours), theirs, metadata={"format": "pt"})
        with open(ours, "rb") as a, open(theirs, "rb") as b:
            return a.read() == b.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("fixtures", nargs="+")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    for fixture in args.fixtures:
        name = os.path.basename(os.path.normpath(fixture))
        with open(os.path.join(fixture, "inputs.json")) as f:
            inputs = json.load(f)
        model = load(fixture).eval()
        rotary = model.model.rotary_emb
        golden = {
            "fixture": name,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "dtype": "float64",
            "architecture": type(model).__name__,
            "tokens": inputs["tokens"],
            "positions": inputs["positions"],
            "inv_freq": rotary.inv_freq.to(torch.float64).tolist(),
            "attention_scaling": float(rotary.attention_scaling),
            "logits": logits_at(model, inputs["tokens"], inputs["positions"]),
        }
        golden["safetensors_bytes_identical"] = same_bytes_as_safetensors_library(fixture)
        gguf_path = os.path.join(fixture, "model.gguf")
        if os.path.exists(gguf_path):
            try:
                import gguf  # noqa: F401  (transformers needs it to read GGUF files)
                gguf_model = load(fixture, gguf_file="model.gguf").eval()
                golden["gguf_logits"] = logits_at(gguf_model, inputs["tokens"], inputs["positions"])
            except Exception as e:  # recorded, not fatal: the safetensors goldens stand on their own
                golden["gguf_error"] = f"{type(e).__name__}: {e}"
        with open(os.path.join(args.out, name + ".json"), "w") as f:
            json.dump(golden, f)
        print(f"{name}: {type(model).__name__}, {len(inputs['positions'])} positions, transformers "
              f"{transformers.__version__}, same bytes as safetensors: {golden['safetensors_bytes_identical']}, "
              f"gguf: {'gguf_logits' in golden or golden.get('gguf_error', 'absent')}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
