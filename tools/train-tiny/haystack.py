"""The text haystack of an evaluation set, recovered from its held-out prompts.

The text-haystack tasks (niah_single_2, niah_single_3, niah_multikey_1, niah_multivalue,
niah_multiquery) draw their lines from held-out documents of the training machine, which are not kept.
Their prompts in eval/heldout.jsonl.gz hold some of those lines, though: this script takes them back
out so that new text-task prompts can be made from held-out text only.

For each text-task record it regenerates the sample with tasks.py from the record's seed and size over
a stand-in source of `size` placeholder lines. The draws do not depend on the lines (the first document
is one below(documents) draw whatever the count; see the README, "Random draws"), so the regenerated
prompt has the record's template head, needles and question at the same places, and every placeholder
marks the record line that is haystack line i. That finds the needles exactly, even where a text line
happens to look like one. Each record gives one run of consecutive lines starting at a document start;
runs that overlap (two records that drew neighbouring documents) are merged, in file order.

Output (`--out`, default models/retro-tiny/eval/haystack.txt.gz): gzip of UTF-8 text, the runs joined by
a NUL character, each run its lines joined by "\\n". corpus.clean refuses documents with NUL bytes, so
the separator never occurs in the text. `corpus.TextSource(read(path))` serves it, and so does the Java
`TextHaystack`. Runs are not the original documents: a run may span several documents (with the blank
line TextSource puts between two) and ends where its record's haystack ended.

    python3 tools/train-tiny/haystack.py [--heldout models/retro-tiny/eval/heldout.jsonl.gz] [--out FILE]
"""
import argparse
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tasks  # noqa: E402
from corpus import TextSource  # noqa: E402

SEPARATOR = "\x00"
# Two runs are merged only where they agree on at least this many lines, so that a short chance match
# (a blank line, a licence header line) does not glue unrelated text together.
MIN_OVERLAP = 8


def placeholder(i):
    return f"{SEPARATOR}{i}"


def haystack_lines(record):
    """The haystack lines of a text-task record, in order, with the needles and the template taken out."""
    task, size = record["task"], record["size"]
    stand_in = TextSource(["\n".join(placeholder(i) for i in range(size))])
    ctx = tasks.TaskContext(*tasks.word_lists(), split="heldout", text=stand_in)
    sample = tasks.generate(task, int(record["seed"], 16), size, ctx, target_tokens=record["target_length"])
    made, real = sample.prompt.split("\n"), record["prompt"].split("\n")
    label = f"{task} {record['target_length']} #{record['index']}"
    if sample.answer != record["answer"] or len(made) != len(real):
        raise ValueError(f"{label}: the regenerated sample does not match the record (answer or line count)")
    lines = [None] * size
    for m, r in zip(made, real):
        if m.startswith(SEPARATOR):
            lines[int(m[1:])] = r
        elif m != r:
            raise ValueError(f"{label}: line {m!r} of the regenerated prompt is {r!r} in the record")
    return lines


def merge(runs):
    """Runs with every overlap of MIN_OVERLAP lines or more merged, kept in the order they first appear."""
    runs = [list(r) for r in runs]
    merged = True
    while merged:
        merged = False
        for a in range(len(runs)):
            for b in range(len(runs)):
                if a == b or runs[a] is None or runs[b] is None:
                    continue
                joined = _overlap(runs[a], runs[b])
                if joined is not None:
                    runs[a], runs[b] = joined, None
                    merged = True
        runs = [r for r in runs if r is not None]
    return runs


def _overlap(a, b):
    """a extended by b where b starts inside a and agrees with it to a's end (or b's), else None."""
    first = b[0]
    for o in range(len(a)):
        if a[o] != first:
            continue
        k = min(len(a) - o, len(b))
        if k >= min(MIN_OVERLAP, len(b)) and a[o:o + k] == b[:k]:
            return a + b[k:]
    return None


def build(heldout_path):
    with gzip.open(heldout_path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    runs = [haystack_lines(r) for r in records if r["task"] in tasks.TEXT_HAYSTACK_TASKS]
    return runs, merge(runs)


def write(path, runs):
    data = SEPARATOR.join("\n".join(run) for run in runs).encode("utf-8")
    with open(path, "wb") as raw:
        # mtime 0 and no file name: the same runs give the same bytes, so the file only changes in git
        # when its text does
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as f:
            f.write(data)


def read(path):
    """The runs of a haystack file, as the documents of a corpus.TextSource."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        return f.read().split(SEPARATOR)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    model_eval = os.path.join(here, "..", "..", "models", "retro-tiny", "eval")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--heldout", default=os.path.join(model_eval, "heldout.jsonl.gz"))
    p.add_argument("--out", default=os.path.join(model_eval, "haystack.txt.gz"))
    args = p.parse_args()
    records, runs = build(args.heldout)
    write(args.out, runs)
    lines = sum(map(len, runs))
    print(f"{len(records)} text-task records, {sum(map(len, records))} lines -> {len(runs)} runs, {lines} lines, "
          f"{os.path.getsize(args.out)} bytes in {args.out}")


if __name__ == "__main__":
    main()
