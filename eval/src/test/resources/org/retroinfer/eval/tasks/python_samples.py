"""Writes python-samples.jsonl.gz: prompts made by tools/train-tiny/tasks.py for RulerTasksTest.

Every task of tasks.py at a few seeds and sizes, fwe at several target lengths, the text tasks over
two sources: retro-tiny's shipped haystack (models/retro-tiny/eval/haystack.txt.gz, read by
haystack.py) and "tiny", four short documents (one empty, one ending in a blank line) that small
sizes already wrap around. The Java test rebuilds each prompt from the same seed, size and source.

    python3 eval/src/test/resources/org/retroinfer/eval/tasks/python_samples.py   (from the repository root)
"""
import gzip
import json
import os
import random
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 8))
sys.path.insert(0, os.path.join(ROOT, "tools", "train-tiny"))

import haystack  # noqa: E402
import tasks  # noqa: E402
from corpus import TextSource  # noqa: E402

TINY = ["alpha\nbeta", "", "gamma\n\ndelta\n", "last line"]  # RulerTasksTest.TINY
SIZES = {"vt": [5, 33], "fwe": [100, 457], "passkey": [1, 9, 40]}
NIAH_SIZES = [4, 17, 60]
FWE_TARGETS = [256, 8192, 30000]


def main():
    draw = random.Random(2026)
    sources = {"haystack": TextSource(haystack.read(os.path.join(ROOT, "models/retro-tiny/eval/haystack.txt.gz"))),
               "tiny": TextSource(TINY)}
    adjectives, nouns = tasks.word_lists()
    out = []
    for task in tasks.TASKS:
        text_names = ["haystack", "tiny"] if task in tasks.TEXT_HAYSTACK_TASKS else [None]
        for size in SIZES.get(task, NIAH_SIZES):
            for text in text_names:
                for target in (FWE_TARGETS if task == "fwe" else [8192]):
                    split = draw.choice(["train", "heldout"])
                    seed = draw.getrandbits(64)
                    ctx = tasks.TaskContext(adjectives, nouns, split, sources.get(text))
                    s = tasks.generate(task, seed, size, ctx, target_tokens=target)
                    out.append({"task": task, "seed": f"{seed:016x}", "size": size, "target": target, "split": split,
                                "text": text, "prompt": s.prompt, "answer": s.answer, "references": s.references})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python-samples.jsonl.gz")
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
        f.write("".join(json.dumps(r) + "\n" for r in out).encode("utf-8"))
    print(f"{len(out)} samples, {os.path.getsize(path)} bytes in {path}")


if __name__ == "__main__":
    main()
