"""Quick quality numbers from transformers on the GPU, at the end of a run.

Exact match is measured teacher-forced: one forward pass over BOS + prompt + answer, and a sample
counts as exact when the argmax at every answer position is the answer's token and the argmax after
the answer is EOS or a token that starts with a newline. That is exactly "greedy decoding writes the
answer and stops", at the cost of one pass instead of a decoding loop; a few samples are also decoded
greedily with a KV cache to show that both agree. The model runs in float32 (weights as exported,
BF16-rounded), TF32 off, like the Java engine's F32 arithmetic.
"""
import time

import torch

import tasks

CODE_PROMPTS = [
    'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n',
    "import os\nimport sys\n\n\ndef main(argv):\n    if len(argv) < 2:\n",
]


def stop_ids(tok, eos):
    """EOS and every token whose text starts with a newline: where an answer ends."""
    out = {eos}
    for i in range(tok.get_vocab_size()):
        if tok.decode([i], skip_special_tokens=False).startswith("\n"):
            out.add(i)
    return out


def _hidden(model, ids):
    return model.model(input_ids=torch.tensor([ids], device=next(model.parameters()).device),
                       use_cache=False).last_hidden_state[0]


@torch.no_grad()
def teacher_forced(model, tok, bos, stops, record):
    prompt = [bos] + tok.encode(record["prompt"], add_special_tokens=False).ids
    answer = tok.encode(record["answer"], add_special_tokens=False).ids
    hidden = _hidden(model, prompt + answer)[len(prompt) - 1:]
    predicted = model.lm_head(hidden).argmax(-1).tolist()
    wrong = next((i for i, (p, a) in enumerate(zip(predicted, answer)) if p != a), None)
    exact = wrong is None and predicted[len(answer)] in stops
    return {"task": record["task"], "target_length": record["target_length"], "index": record["index"],
            "length": len(prompt), "exact": exact, "first_wrong_answer_token": wrong,
            "predicted": tok.decode(predicted[:len(answer) + 1], skip_special_tokens=False)}


@torch.no_grad()
def greedy(model, ids, max_new, stops):
    device = next(model.parameters()).device
    out = model(input_ids=torch.tensor([ids], device=device), use_cache=True)
    past, token = out.past_key_values, int(out.logits[0, -1].argmax())
    generated = [token]
    while len(generated) < max_new and token not in stops:
        out = model(input_ids=torch.tensor([[token]], device=device), past_key_values=past, use_cache=True)
        past, token = out.past_key_values, int(out.logits[0, -1].argmax())
        generated.append(token)
    return generated


def _answer_text(tok, generated, eos):
    text = tok.decode([t for t in generated if t != eos], skip_special_tokens=False)
    return text.split("\n")[0].strip()


@torch.no_grad()
def heldout_lm_loss(model, tok, bos, eos, docs, rows, length):
    ids = []
    for doc in docs:
        ids += [bos] + tok.encode(doc[:length * 8], add_special_tokens=False).ids + [eos]
        if len(ids) > rows * (length + 1):
            break
    rows = min(rows, len(ids) // (length + 1))
    if rows == 0:
        return None
    x = torch.tensor(ids[:rows * (length + 1)], device=next(model.parameters()).device).view(rows, length + 1)
    hidden = model.model(input_ids=x[:, :-1], use_cache=False).last_hidden_state
    loss = torch.nn.functional.cross_entropy(model.lm_head(hidden).flatten(0, 1).float(), x[:, 1:].reshape(-1))
    return {"rows": rows, "length": length, "loss": round(float(loss), 4)}


def _summary(results):
    by_length = {}
    for r in results:
        cell = by_length.setdefault(r["target_length"], {}).setdefault(r["task"], {"n": 0, "exact": 0})
        cell["n"] += 1
        cell["exact"] += int(r["exact"])
    summary = {}
    for length, per_task in sorted(by_length.items()):
        needle = [c for t, c in per_task.items() if t in tasks.NEEDLE_TASKS]
        n = sum(c["n"] for c in needle)
        summary[str(length)] = {
            "needle_tasks_exact": round(sum(c["exact"] for c in needle) / n, 4) if n else None,
            "needle_tasks_samples": n,
            "tasks": {t: {**c, "rate": round(c["exact"] / c["n"], 4)} for t, c in sorted(per_task.items())},
        }
    return summary


def evaluate(model, tok, bos, eos, records, heldout_docs, deadline, log, greedy_checks=2, code_prompts=()):
    """The quality report; records not reached before the monotonic deadline are counted as skipped."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model.eval()
    stops = stop_ids(tok, eos)
    # 8K and 16K first, index by index, so that a deadline leaves every task equally covered
    ordered = sorted(records, key=lambda r: (r["target_length"] > 16384, r["index"], r["target_length"], r["task"]))
    results, skipped, errors = [], 0, []
    start = time.monotonic()
    for record in ordered:
        if time.monotonic() > deadline:
            skipped += 1
            continue
        try:
            results.append(teacher_forced(model, tok, bos, stops, record))
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            errors.append(f"{record['task']} {record['target_length']} #{record['index']}: out of GPU memory")
    log({"eval_samples": len(results), "eval_seconds": round(time.monotonic() - start, 1), "skipped": skipped})

    checks = []
    for length in sorted({r["target_length"] for r in records}):
        for record in [r for r in ordered if r["target_length"] == length][:greedy_checks]:
            if time.monotonic() > deadline:
                break
            ids = [bos] + tok.encode(record["prompt"], add_special_tokens=False).ids
            n_answer = len(tok.encode(record["answer"], add_special_tokens=False).ids)
            generated = greedy(model, ids, n_answer + 2, stops)
            text = _answer_text(tok, generated, eos)
            forced = next((r["exact"] for r in results if (r["task"], r["target_length"], r["index"]) ==
                           (record["task"], record["target_length"], record["index"])), None)
            checks.append({"task": record["task"], "target_length": length, "index": record["index"],
                           "generated": tok.decode(generated, skip_special_tokens=False),
                           "greedy_exact": text == record["answer"].strip(), "teacher_forced_exact": forced})

    samples = []
    for prompt in code_prompts:
        if time.monotonic() > deadline:
            break
        generated = greedy(model, [bos] + tok.encode(prompt, add_special_tokens=False).ids, 80, {eos})
        samples.append({"prompt": prompt, "continuation": tok.decode(generated, skip_special_tokens=False)})

    return {
        "method": "teacher-forced greedy exact match (see tools/train-tiny/quality.py), float32, SDPA, transformers",
        "summary": _summary(results),
        "skipped_for_time": skipped,
        "errors": errors,
        "greedy_checks": checks,
        "code_samples": samples,
        "heldout_text_loss": heldout_lm_loss(model, tok, bos, eos, heldout_docs, 8, 2048),
        "results": results,
    }
