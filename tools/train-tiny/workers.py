"""What the data processes run: training batches and held-out records, on the CPU, beside training.

The processes are started with 'spawn' (never fork: the parent holds CUDA and tokenizer threads),
read the tokenizer and the corpus from files the parent wrote, and import no torch.
"""
import os
import pickle

_state = {}


def init(config):
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from tokenizers import Tokenizer

    import heldout  # noqa: F401  (imported here so a broken import fails at start, not mid-run)
    import tasks
    from corpus import TextSource
    from packing import RowBuilder

    tok = Tokenizer.from_file(config["tokenizer"])
    with open(config["corpus"], "rb") as f:
        train_docs, heldout_docs = pickle.load(f)
    adjectives, nouns = tasks.word_lists()

    def encode_with_starts(text):
        enc = tok.encode(text, add_special_tokens=False)
        return enc.ids, [start for start, _ in enc.offsets]

    def encode(text):
        return tok.encode(text, add_special_tokens=False).ids

    train_ctx = tasks.TaskContext(adjectives, nouns, "train", TextSource(train_docs))
    _state.update(
        builder=RowBuilder(encode_with_starts, config["bos"], config["eos"], train_ctx, train_docs, config["seed"],
                           task_weights=config.get("task_weights")),
        encode=encode,
        heldout_ctx=tasks.TaskContext(adjectives, nouns, "heldout", TextSource(heldout_docs)),
        eval_seed=config["eval_seed"],
    )


def train_batch(step, length, rows):
    return _state["builder"].batch(step, length, rows)


def heldout_record(item):
    import heldout
    task, target, index = item
    return heldout.record(task, target, index, _state["eval_seed"], _state["heldout_ctx"], _state["encode"])
