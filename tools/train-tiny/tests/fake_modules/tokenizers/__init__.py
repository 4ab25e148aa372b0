"""A stand-in for Hugging Face `tokenizers` in the orchestration test: pre-tokens hashed to ids.

It lives on sys.path only in that test, so that the data processes (spawned, hence importing
`tokenizers` afresh) load it too.
"""
import json
import re
import zlib

__version__ = "fake"
_PIECES = re.compile(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*"
                     r"|\s*[\r\n]+|\s+(?!\S)|\s+")


class Encoding:
    def __init__(self, ids, offsets):
        self.ids = ids
        self.offsets = offsets


class Tokenizer:
    def __init__(self, spec):
        self.spec = spec

    @staticmethod
    def from_file(path):
        with open(path) as f:
            return Tokenizer(json.load(f))

    def save(self, path):
        with open(path, "w") as f:
            json.dump(self.spec, f)

    def get_vocab_size(self):
        return self.spec["vocab"]

    def token_to_id(self, token):
        return self.spec["special"].get(token)

    def encode(self, text, add_special_tokens=True):
        ids, offsets = [], []
        for m in _PIECES.finditer(text):
            ids.append(2 + zlib.crc32(m.group().encode()) % (self.spec["vocab"] - 2))
            offsets.append((m.start(), m.end()))
        if add_special_tokens:
            ids, offsets = [0] + ids, [(0, 0)] + offsets
        return Encoding(ids, offsets)
