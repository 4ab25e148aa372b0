"""The held-out evaluation set: task samples fitted to 8K, 16K and 32K tokens, one JSON object a line.

Held-out samples differ from training ones in their seeds (a separate base seed), their word keys
(the held-out tenth of adjective-noun pairs) and their text (held-out documents). Each record:

  task, target_length, index, seed (hex), size (haystack units), length (tokens of BOS + prompt),
  answer_length (tokens of the answer), prompt, answer, references (RULER's reference strings)

The prompt ends with the answer prefix and the answer starts with a space; the prompt and the answer
tokenize separately into exactly the tokens of their concatenation (checked here), so a model's
greedy continuation can be compared with the answer token for token or as text.
"""
import tasks
from lengthfit import fit_size, sample_tokens
from rng import derive_seed


def sample_seed(eval_seed, task, target, index):
    return derive_seed(eval_seed, f"heldout/{task}/{target}/{index}")


def record(task, target, index, eval_seed, ctx, encode):
    """One held-out record; encode(text) -> token ids without special tokens."""
    seed = sample_seed(eval_seed, task, target, index)

    def build(size):
        return tasks.generate(task, seed, size, ctx, target_tokens=target)

    size = fit_size(build, lambda s: sample_tokens(s, encode), target, tasks.MIN_SIZE[task])
    sample = build(size)
    prompt_ids, answer_ids = list(encode(sample.prompt)), list(encode(sample.answer))
    if list(encode(sample.prompt + sample.answer)) != prompt_ids + answer_ids:
        raise RuntimeError(f"{task} sample {index} at {target}: the prompt and the answer do not tokenize "
                           f"independently; the answer {sample.answer!r} must start at a pre-token boundary")
    return {
        "task": task,
        "target_length": target,
        "index": index,
        "seed": f"{seed:016x}",
        "size": size,
        "length": 1 + len(prompt_ids),
        "answer_length": len(answer_ids),
        "prompt": sample.prompt,
        "answer": sample.answer,
        "references": sample.references,
    }


def plan(counts, task_names=None):
    """(task, target, index) for every record: counts maps a target length to samples per task."""
    names = tasks.TASKS if task_names is None else task_names
    return [(task, target, i) for target in sorted(counts) for task in names for i in range(counts[target])]
