"""Test doubles: a pre-tokenizer-only 'tokenizer' shaped like the real one, and a small text corpus."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tasks  # noqa: E402
from corpus import TextSource  # noqa: E402

# The real tokenizer's split regex with \p{L} and \p{N} spelled for Python's re (ASCII test text only).
_PIECES = re.compile(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*"
                     r"|\s*[\r\n]+|\s+(?!\S)|\s+")


class PieceTokenizer:
    """Every pre-token is one token: lengths and boundaries behave like the BPE tokenizer's, only longer."""

    BOS, EOS = 0, 1

    def __init__(self):
        self.ids = {}

    def encode_with_starts(self, text):
        ids, starts = [], []
        for m in _PIECES.finditer(text):
            ids.append(self.ids.setdefault(m.group(), len(self.ids) + 2))
            starts.append(m.start())
        return ids, starts

    def encode(self, text):
        return self.encode_with_starts(text)[0]


DOCS = [
    "def add(a, b):\n    return a + b\n\n\nclass Point:\n    x = 0\n    y = 0",
    "Installation\n============\n\nRun the installer and follow the steps.\nThen restart the shell.",
    "import os\nfor name in os.listdir('.'):\n    print(name)\n# done",
    "The quick brown fox jumps over the lazy dog.\nIt was not amused.\nNeither was the fox.",
] * 8


def context(split="train"):
    adjectives, nouns = tasks.word_lists()
    return tasks.TaskContext(adjectives, nouns, split, TextSource(DOCS))
