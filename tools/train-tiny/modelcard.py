"""The model card (models/retro-tiny/README.md) written from what a run knows about itself."""
import tasks


def _quality_table(quality):
    if not quality:
        return "Not measured by this run.\n"
    rows = ["| length | needle tasks exact | samples | per task (exact/n) |", "| --- | --- | --- | --- |"]
    for length, s in quality["summary"].items():
        per_task = ", ".join(f"{t} {c['exact']}/{c['n']}" for t, c in s["tasks"].items())
        rate = "n/a" if s["needle_tasks_exact"] is None else f"{100 * s['needle_tasks_exact']:.1f}%"
        rows.append(f"| {length} | {rate} | {s['needle_tasks_samples']} | {per_task} |")
    loss = quality.get("heldout_text_loss")
    tail = f"\nHeld-out text loss (2048-token rows): {loss['loss']}.\n" if loss else "\n"
    return "\n".join(rows) + "\n" + tail


def _stages(schedule):
    return ", ".join(f"{s['length']} tokens x {s['rows']} rows from {int(100 * s['start'])}%"
                     for s in schedule["stages"])


def _weights(weights):
    """E.g. 'task weights niah_multivalue 4, passkey 0.5, the other tasks 1'."""
    other = [f"{t} {weights.get(t, 0):g}" for t in tasks.TASKS if weights.get(t, 0) != 1]
    return "task weights " + ", ".join(other + ["the other tasks 1" if other else "every task 1"])


def _extensions(state):
    """A paragraph per --extend call: what it trained, on which schedule and mix."""
    out = []
    for e in state.get("extensions", []):
        s = e["schedule"]
        decay_share = int(round(100 * (1 - s["decay_start"])))
        out.append(
            f"\nExtension (call {e['call']}, `--extend`): from step {e['from_step']} "
            f"({e['from_seconds']:.0f} s trained), {e['steps']} steps, {e['tokens'] / 1e6:.1f} M tokens,\n"
            f"{e['seconds']} s of training. Curriculum (by share of the extension's time): {_stages(s)}.\n"
            f"AdamW restarted, learning rate warmed up over {s['rewarm_steps']} steps to {s['peak_lr']}, constant,\n"
            f"linear decay to {s['final_ratio']} of it over the last {decay_share}%;\n"
            f"{_weights(e['task_weights'])}; answer loss weight {e['answer_weight']:g}.\n")
    return "".join(out)


def _call_line(call):
    line = (f"- {call['started']}: {call['device']}, {call['steps']} steps, {call['tokens'] / 1e6:.1f} M tokens, "
            f"{call['seconds']} s of training")
    return line + (" (extension)" if call.get("extension") else "")


def render(config, parameters, state, device, command, quality, corpus_description, tokenizer_vocab):
    c = config
    heads, kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
    schedule = state["schedule"]
    stages = _stages(schedule)
    decay_share = int(round(100 * (1 - schedule["decay_start"])))
    calls = "\n".join(_call_line(call) for call in state["calls"])
    return f"""# retro-tiny

A small long-context Llama model trained by the RetroInfer project (issue 5) for its demo, its tests
and accuracy evaluation of sparse attention. It retrieves: RULER-style needles, variable chains,
frequent words and pass keys in contexts up to 16K tokens (trained), evaluated to 32K. It is not a
general assistant: its language comes from Python sources and package documentation.

## Architecture

`LlamaForCausalLM`: {c['num_hidden_layers']} layers, hidden size {c['hidden_size']}, {heads} query heads and
{kv_heads} KV heads of dimension {c['head_dim']} (GQA {heads // kv_heads}:1), SwiGLU MLP of {c['intermediate_size']},
RMSNorm (eps {c['rms_norm_eps']}), RoPE with theta {c['rope_theta']:.0f} and no scaling, tied input and
output embeddings, vocabulary {c['vocab_size']}, at most {c['max_position_embeddings']} positions.
{parameters / 1e6:.2f} M parameters, stored as BF16 safetensors in shards of at most 15 MiB
(`model.safetensors.index.json`).

Tokenizer: byte-level BPE with {tokenizer_vocab} tokens trained on the same text (`tokenizers`), Qwen2's
pre-tokenizer (NFC, one digit per token), `<|bos|>` (id {c['bos_token_id']}) added in front of every text and
`<|eos|>` (id {c['eos_token_id']}) ending every document and answer.

GGUF: `./retroinfer convert --model models/retro-tiny --out retro-tiny.gguf --type bf16` (or `f16`,
`q8_0`, `q4_0`) writes the model as one GGUF file with llama.cpp's names and metadata; the BF16 file
decodes the same greedy tokens as the safetensors (`ConvertCommandTest`). It is made on demand rather
than committed: runs on the GPU machine send the working tree and a Java runtime in 64 MiB, and the
safetensors already take 30 MB of it.

## Data

Made on the training machine from seed {state['seed']}: {corpus_description};
mixed with synthetic tasks in the style of NVIDIA RULER ({', '.join(tasks.TASKS)}),
with prompts ending in an answer prefix and answers of the form ` value.` followed by EOS. Loss on
real text and on answers only. Held-out evaluation uses other seeds (base {state['eval_seed']}), the
held-out tenth of the key words and held-out documents: `eval/heldout.jsonl.gz`. Formats:
`tools/train-tiny/README.md`.

## Training

Curriculum (by share of training time): {stages}. AdamW (betas 0.9/0.95, weight decay 0.1), peak
learning rate {schedule['peak_lr']}, warm-up, constant, linear decay to {schedule['final_ratio']} of the peak
over the last {decay_share}% of the time; BF16 autocast on float32 weights, SDPA attention.
{state['step']} steps, {state['tokens'] / 1e6:.1f} M tokens, {state['trained_seconds']:.0f} s of training:
{calls}
{_extensions(state)}
Command (from the repository root, on the GPU machine):

```
{command}
```

## Quality

Measured at the end of training by transformers on the GPU ({device}; teacher-forced greedy exact
match, float32):

{_quality_table(quality)}
Measured by the RetroInfer Java engine with full attention on a trained model's samples: see
`docs/results/retro-tiny-heldout/` (re-run it after training: the figures there belong to the weights
they were measured on).

`./retroinfer eval heldout --model models/retro-tiny` runs this
held-out set, counting exact matches as above (greedy decoding, scored as `tools/train-tiny/quality.py`
scores), with `--attention full,retro` to set RetroInfer beside full attention and `--lengths 8k
--samples 2` for a quick look; it writes `results.json` and `results.md`.
"""
