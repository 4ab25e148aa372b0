"""The retro-tiny model: its Llama configuration, and its export to (and load from) a Hugging Face directory.

The export is also the training checkpoint: BF16 weights in safetensors shards of at most 15 MiB
(the GPU machine returns files of at most 16 MiB), model.safetensors.index.json, config.json,
generation_config.json, tokenizer.json and tokenizer_config.json. Resuming from it loses the
optimizer's moments and rounds the weights to BF16 once; the trainer warms the learning rate up
again for that (see trainer.py).
"""
import json
import os

import torch

SHARD_BYTES = 15 * 1024 * 1024
HEADER_ALLOWANCE = 64 * 1024  # a shard's JSON header (tensor names, shapes, offsets) stays far below this


def config_dict(vocab_size, hidden, layers, heads, kv_heads, head_dim, intermediate, rope_theta, max_positions,
                bos, eos):
    """config.json as written: the v4 layout (rope_theta), which transformers 5 and RetroInfer both read."""
    if heads % kv_heads != 0 or heads // kv_heads < 2:
        raise ValueError(f"GQA needs at least 2 query heads per KV head; got {heads} heads and {kv_heads} KV heads")
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": vocab_size,
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "hidden_act": "silu",
        "max_position_embeddings": max_positions,
        "rms_norm_eps": 1e-5,
        "rope_theta": float(rope_theta),
        "tie_word_embeddings": True,
        "attention_bias": False,
        "mlp_bias": False,
        "initializer_range": 0.02,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "torch_dtype": "bfloat16",
    }


def check_rope(model, config):
    """Fails unless transformers built the rotary frequencies of config's rope_theta and head_dim."""
    rotary = model.model.rotary_emb
    d = config["head_dim"]
    expected = 1.0 / (config["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    got = rotary.inv_freq.detach().to("cpu", torch.float64)
    if got.shape != expected.shape or not torch.allclose(got, expected, rtol=1e-6) or rotary.attention_scaling != 1.0:
        raise RuntimeError(f"transformers' rotary embedding does not use rope_theta {config['rope_theta']} and head_dim "
                           f"{d}: inv_freq starts {got[:3].tolist()}, expected {expected[:3].tolist()}")


def build(config):
    """A freshly initialised LlamaForCausalLM (float32, SDPA attention) for config."""
    from transformers import AutoModelForCausalLM, LlamaConfig
    # config.json names BF16 (the exported weights); training keeps float32 master weights
    model = AutoModelForCausalLM.from_config(LlamaConfig.from_dict(config), attn_implementation="sdpa").float()
    check(model, config)
    return model


def check(model, config):
    check_rope(model, config)
    if model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
        raise RuntimeError("the input embedding and lm_head are not tied")


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def load(directory, dtype=torch.float32, attention="sdpa"):
    from transformers import AutoModelForCausalLM
    try:
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype, attn_implementation=attention)
    except TypeError:  # transformers before 4.56 named it torch_dtype
        model = AutoModelForCausalLM.from_pretrained(directory, torch_dtype=dtype, attn_implementation=attention)
    model = model.to(dtype)
    with open(os.path.join(directory, "config.json")) as f:
        check(model, json.load(f))
    return model


def shard_plan(tensors, limit=SHARD_BYTES):
    """Consecutive tensors grouped into shards of at most limit bytes (header included)."""
    shards, current, size = [], [], 0
    for name, t in tensors.items():
        n = t.numel() * t.element_size()
        if n + HEADER_ALLOWANCE > limit:
            raise ValueError(f"tensor {name} ({n} bytes) does not fit a {limit}-byte shard")
        if current and size + n + HEADER_ALLOWANCE > limit:
            shards.append(current)
            current, size = [], 0
        current.append(name)
        size += n
    shards.append(current)
    return shards


def export(model, config, tokenizer_file, directory, model_max_length):
    """Writes the Hugging Face directory; returns the shard file names."""
    from safetensors.torch import save_file
    os.makedirs(directory, exist_ok=True)
    # Parameters only: the rotary frequencies are recomputed from config.json by every reader, and
    # the tied lm_head is the embedding (named_parameters lists a shared tensor once).
    tensors = {name: t.detach().to("cpu", torch.bfloat16).contiguous()
               for name, t in model.named_parameters() if name != "lm_head.weight"}
    plan = shard_plan(tensors)
    files = [f"model-{i + 1:05d}-of-{len(plan):05d}.safetensors" for i in range(len(plan))]
    weight_map = {}
    for file, names in zip(files, plan):
        save_file({n: tensors[n] for n in names}, os.path.join(directory, file), metadata={"format": "pt"})
        weight_map.update({n: file for n in names})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    _write_json(os.path.join(directory, "model.safetensors.index.json"),
                {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})
    _write_json(os.path.join(directory, "config.json"), config)
    _write_json(os.path.join(directory, "generation_config.json"), {
        "bos_token_id": config["bos_token_id"],
        "eos_token_id": config["eos_token_id"],
        "pad_token_id": config["eos_token_id"],
        "do_sample": False,
    })
    with open(tokenizer_file, "rb") as src, open(os.path.join(directory, "tokenizer.json"), "wb") as dst:
        dst.write(src.read())
    special = {"content": None, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
               "special": True}
    import bpe
    _write_json(os.path.join(directory, "tokenizer_config.json"), {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": bpe.BOS,
        "eos_token": bpe.EOS,
        "pad_token": bpe.EOS,
        "add_bos_token": True,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
        "added_tokens_decoder": {
            str(config["bos_token_id"]): {**special, "content": bpe.BOS},
            str(config["eos_token_id"]): {**special, "content": bpe.EOS},
        },
    })
    return files


def _write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
