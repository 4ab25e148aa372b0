"""Golden logits of the exported retro-tiny model, computed by transformers, for the Java engine's tests.

Same method and fields as tools/golden/make_golden.py: the checkpoint loaded in float64 with eager
attention, logits kept at a few positions of each prompt, with the rotary inverse frequencies and
attention scaling transformers used and the library versions. It runs on the GPU when there is one
(float64 there too), because one prompt is longer than 8K tokens. Each file also holds the prompt's
text, so a Java test can check its tokenizer on the way (tokens = BOS + encode(text)).
"""
import json
import os
import platform

import torch


def positions(n):
    """Start, quarters and end of a prompt of n tokens."""
    return sorted({0, 1, 2, n // 4, n // 2, (3 * n) // 4, n - 3, n - 2, n - 1} & set(range(n)))


@torch.no_grad()
def write(model_dir, prompts, tok, bos, out_dir, log):
    """prompts: [(fixture name, text)]; writes <out_dir>/<name>.json for each; returns the paths."""
    import transformers

    import modeling
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = modeling.load(model_dir, dtype=torch.float64, attention="eager").to(device).eval()
    rotary = model.model.rotary_emb
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, text in prompts:
        tokens = [bos] + tok.encode(text, add_special_tokens=False).ids
        keep = positions(len(tokens))
        logits = model(torch.tensor([tokens], device=device)).logits[0].to(torch.float64)
        golden = {
            "fixture": name,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "dtype": "float64",
            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
            "architecture": type(model).__name__,
            "text": text,
            "tokens": tokens,
            "positions": keep,
            "inv_freq": rotary.inv_freq.to(torch.float64).tolist(),
            "attention_scaling": float(rotary.attention_scaling),
            "logits": [logits[p].tolist() for p in keep],
        }
        path = os.path.join(out_dir, name + ".json")
        with open(path, "w") as f:
            json.dump(golden, f)
        paths.append(path)
        log(f"golden {name}: {len(tokens)} tokens, positions {keep}")
        del logits
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return paths
