"""RULER-style long-context tasks, generated from a seed with the portable Rng.

Each generator builds one sample from a seed and a haystack size (a count of haystack units: noise
lines, text lines, distractor needles, coded words or noise blocks). Prompts follow NVIDIA RULER's
templates (see shared/design/benchmarks.md part B.1) with the 'base' model template, except where
the README's "Task formats" section names a deviation; the answer is the exact continuation of the
prompt, so that exact match is a plain string comparison. The README specifies every draw, in the
order it is made, so that a Java port regenerates the same prompts from the same seed.

A sample is kept as segments of text, each with a loss class: NO_LOSS (instructions, noise, needles),
LM (real text inside a haystack, learnt as language) and ANSWER (what the model must produce).
"""
import math
import os
import zlib
from dataclasses import dataclass

from rng import Rng

NO_LOSS, LM, ANSWER = 0, 1, 2

NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."

NIAH_TEMPLATE = ("Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. "
                 "I will quiz you about the {type_needle_v} afterwards.\n{context}\n"
                 "What are all the special magic {type_needle_v} for {query} mentioned in the provided text?")
NIAH_ANSWER_PREFIX = " The special magic {type_needle_v} for {query} mentioned in the provided text are"
NEEDLE = "One of the special magic {type_needle_v} for {key} is: {value}."

VT_TEMPLATE = ("Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\n"
               "Question: Find all variables that are assigned the value {query} in the text above.")
VT_ANSWER_PREFIX = (" Answer: According to the chain(s) of variable assignment in the text above, 5 variables are "
                    "assigned the value {query}, they are:")
VT_HOPS = 4
VT_EXAMPLE_NOISE_LINES = 8

FWE_TEMPLATE = ("Read the following coded text and track the frequency of each coded word. Find the three most "
                "frequently appeared coded words. {context}\nQuestion: Do not provide any explanation. Please ignore "
                "the dots '....'. What are the three most frequently appeared words in the above coded text?")
FWE_ANSWER_PREFIX = " Answer: According to the coded text above, the three most frequently appeared words are:"
ZETA2 = math.pi * math.pi / 6.0

PASSKEY_INTRO = ("There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. "
                 "I will quiz you about the important information there.")
PASSKEY_QUESTION = "What is the pass key? The pass key is"


@dataclass(frozen=True)
class NiahSpec:
    haystack: str   # "noise", "text" or "needle"
    key: str        # "words" or "uuids"
    value: str      # "numbers" or "uuids"
    num_k: int
    num_v: int
    num_q: int


NIAH = {
    "niah_single_1": NiahSpec("noise", "words", "numbers", 1, 1, 1),
    "niah_single_2": NiahSpec("text", "words", "numbers", 1, 1, 1),
    "niah_single_3": NiahSpec("text", "words", "uuids", 1, 1, 1),
    "niah_multikey_1": NiahSpec("text", "words", "numbers", 4, 1, 1),
    "niah_multikey_2": NiahSpec("needle", "words", "numbers", 1, 1, 1),
    "niah_multikey_3": NiahSpec("needle", "uuids", "uuids", 1, 1, 1),
    "niah_multivalue": NiahSpec("text", "words", "numbers", 1, 4, 1),
    "niah_multiquery": NiahSpec("text", "words", "numbers", 4, 1, 4),
}
TASKS = list(NIAH) + ["vt", "fwe", "passkey"]
NEEDLE_TASKS = list(NIAH) + ["passkey"]
MIN_SIZE = {**{t: 4 for t in NIAH}, "vt": VT_HOPS + 1, "fwe": 100, "passkey": 1}
# Tasks whose prompt contains real text (the README calls them text-haystack tasks): their prompts
# can only be rebuilt from the JSONL file, not from the seed alone.
TEXT_HAYSTACK_TASKS = [t for t, s in NIAH.items() if s.haystack == "text"]


@dataclass
class Sample:
    task: str
    size: int
    prompt: str
    answer: str
    references: list
    segments: list  # [(text, loss class)], whose concatenation is prompt + answer (+ training-only extra queries)

    @property
    def text(self):
        return "".join(t for t, _ in self.segments)


@dataclass
class TaskContext:
    adjectives: list
    nouns: list
    split: str      # "train" or "heldout": which half of the word-key space and of the text corpus
    text: object    # corpus.TextSource for the text haystacks


def word_lists():
    """The adjectives and nouns of the word keys (words/*.txt next to this file, one per line)."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "words")
    lists = []
    for name in ("adjectives.txt", "nouns.txt"):
        with open(os.path.join(here, name), encoding="utf-8") as f:
            lists.append([w for w in f.read().split("\n") if w])
    return lists


class _Segments:
    def __init__(self):
        self.items = []

    def add(self, text, cls=NO_LOSS):
        if not text:
            return
        if self.items and self.items[-1][1] == cls:
            self.items[-1] = (self.items[-1][0] + text, cls)
        else:
            self.items.append((text, cls))


def key_split(key):
    """Which split a word key belongs to: CRC-32 of its UTF-8 bytes; one in ten is held out."""
    return "heldout" if zlib.crc32(key.encode("utf-8")) % 10 == 0 else "train"


def word_key(rng, ctx, used):
    while True:
        key = ctx.adjectives[rng.below(len(ctx.adjectives))] + "-" + ctx.nouns[rng.below(len(ctx.nouns))]
        if key_split(key) == ctx.split and key not in used:
            used.add(key)
            return key


def uuid4(rng):
    """128 random bits (first draw high) with version 4 and the RFC 4122 variant, as uuid.UUID(int=x, version=4)."""
    x = (rng.next_u64() << 64) | rng.next_u64()
    x = (x & ~(0xF << 76)) | (4 << 76)
    x = (x & ~(0xC << 60)) | (0x8 << 60)
    h = f"{x:032x}"
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _key(kind, rng, ctx, used):
    if kind == "words":
        return word_key(rng, ctx, used)
    while True:
        key = uuid4(rng)
        if key not in used:
            used.add(key)
            return key


def _value(kind, rng):
    return str(rng.between(1_000_000, 9_999_999)) if kind == "numbers" else uuid4(rng)


def _singular(template):
    """RULER's rewrite of the template when one value is asked for, in RULER's order."""
    for old, new in (("Some", "A"), ("are all", "is"), ("are", "is"), ("answers", "answer")):
        template = template.replace(old, new)
    return template


def _question(type_needle_v, query, plural):
    """The NIAH template split around {context}: (head, tail with answer prefix)."""
    template = NIAH_TEMPLATE + NIAH_ANSWER_PREFIX
    if not plural:
        template = _singular(template)
        type_needle_v = type_needle_v[:-1]
    head, tail = template.split("{context}")
    return head.format(type_needle_v=type_needle_v), tail.format(type_needle_v=type_needle_v, query=query)


def _join_query(keys):
    return keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + ", and " + keys[-1]


def _answer(values):
    return " " + ", ".join(values) + "."


def _insert(haystack, inserts, positions):
    """Lines of the haystack with inserts[i] placed before haystack line positions[i] (at the end if == len)."""
    at = {p: i for i, p in enumerate(positions)}
    lines, order = [], []
    for slot in range(len(haystack) + 1):
        if slot in at:
            lines.append(inserts[at[slot]])
            order.append(at[slot])
        if slot < len(haystack):
            lines.append(haystack[slot])
    return lines, order


def _add_lines(seg, lines):
    for i, (line, cls) in enumerate(lines):
        seg.add(line, cls)
        if i + 1 < len(lines):
            seg.add("\n", cls)


def _niah(task, spec, rng, size, ctx, extra_queries):
    num_k = max(spec.num_k, spec.num_q)
    used = set()
    keys = [_key(spec.key, rng, ctx, used) for _ in range(num_k)]
    values = [[_value(spec.value, rng) for _ in range(spec.num_v)] for _ in keys]
    queried = rng.distinct(num_k, spec.num_q)

    distractors = []
    if spec.haystack == "noise":
        haystack = [(NOISE, NO_LOSS)] * size
    elif spec.haystack == "needle":
        haystack = []
        for _ in range(size):
            k = _key(spec.key, rng, ctx, used)
            v = _value(spec.value, rng)
            distractors.append((k, v))
            haystack.append((NEEDLE.format(type_needle_v=spec.value, key=k, value=v), NO_LOSS))
    else:
        start = rng.below(len(ctx.text))
        haystack = [(line, LM) for line in ctx.text.lines_from(start, size)]

    needles = [(keys[i], v) for i in range(num_k) for v in values[i]]
    positions = rng.distinct(size + 1, len(needles))
    inserts = [(NEEDLE.format(type_needle_v=spec.value, key=k, value=v), NO_LOSS) for k, v in needles]
    lines, order = _insert(haystack, inserts, positions)

    answer_values = []
    for qi in queried:
        answer_values += [needles[n][1] for n in order if needles[n][0] == keys[qi]]
    query = _join_query([keys[qi] for qi in queried])
    head, tail = _question(spec.value, query, spec.num_q * spec.num_v > 1)
    answer = _answer(answer_values)

    seg = _Segments()
    seg.add(head)
    _add_lines(seg, lines)
    seg.add(tail)
    prompt = "".join(t for t, _ in seg.items)
    seg.add(answer, ANSWER)
    if extra_queries and spec.num_v == 1:
        asked = {keys[qi] for qi in queried}
        pool = [(keys[i], values[i][0]) for i in range(num_k) if keys[i] not in asked] + distractors
        for _ in range(min(extra_queries, len(pool))):
            k, v = pool.pop(rng.below(len(pool)))
            seg.add(_question(spec.value, k, False)[1])
            seg.add(_answer([v]), ANSWER)
    return Sample(task, size, prompt, answer, answer_values, seg.items)


def _vt_name(rng, used):
    while True:
        name = "".join(chr(ord("A") + rng.below(26)) for _ in range(5))
        if name not in used:
            used.add(name)
            return name


def _vt_block(names, value, noise_lines, positions):
    chain = [f"VAR {names[0]} = {value}"] + [f"VAR {names[i]} = VAR {names[i - 1]}" for i in range(1, len(names))]
    lines, _ = _insert([NOISE] * noise_lines, chain, sorted(positions))
    head, tail = VT_TEMPLATE.split("{context}")
    return head, lines, tail.format(query=value) + VT_ANSWER_PREFIX.format(query=value)


def _vt(rng, size):
    used = set()
    example_names = [_vt_name(rng, used) for _ in range(VT_HOPS + 1)]
    example_value = rng.between(10000, 99999)
    names = [_vt_name(rng, used) for _ in range(VT_HOPS + 1)]
    value = rng.between(10000, 99999)
    while value == example_value:
        value = rng.between(10000, 99999)
    example_positions = rng.distinct(VT_EXAMPLE_NOISE_LINES + 1, VT_HOPS + 1)
    positions = rng.distinct(size + 1, VT_HOPS + 1)

    seg = _Segments()
    head, lines, tail = _vt_block(example_names, example_value, VT_EXAMPLE_NOISE_LINES, example_positions)
    seg.add(head + "\n".join(lines) + tail + _answer(example_names) + "\n\n")
    head, lines, tail = _vt_block(names, value, size, positions)
    seg.add(head + "\n".join(lines) + tail)
    prompt = seg.items[0][0]
    answer = _answer(names)
    seg.add(answer, ANSWER)
    return Sample("vt", size, prompt, answer, list(names), seg.items)


def fwe_vocabulary_size(target_tokens):
    """RULER's (max_seq_length - tokens_to_generate) // 50 with 50 tokens to generate, at least 16."""
    return max(16, (target_tokens - 50) // 50)


def fwe_counts(size, vocabulary):
    """Occurrences of the word of rank k (1-based): floor(size / k^2 / zeta(2)), Zipf with alpha 2."""
    return [math.floor(size / (k * k) / ZETA2) for k in range(1, vocabulary + 1)]


def _fwe(rng, size, target_tokens):
    vocabulary = fwe_vocabulary_size(target_tokens)
    words = set()
    while len(words) < vocabulary:
        words.add("".join(chr(ord("a") + rng.below(26)) for _ in range(6)))
    vocab = sorted(words)
    rng.shuffle(vocab)
    vocab[0] = "..."
    sequence = []
    for word, count in zip(vocab, fwe_counts(size, vocabulary)):
        sequence += [word] * count
    rng.shuffle(sequence)
    head, tail = FWE_TEMPLATE.split("{context}")
    prompt = head + " ".join(sequence) + tail + FWE_ANSWER_PREFIX
    answer = _answer(vocab[1:4])
    return Sample("fwe", size, prompt, answer, vocab[1:4], [(prompt, NO_LOSS), (answer, ANSWER)])


def _passkey(rng, size):
    key = rng.between(1, 50000)
    split = rng.below(size + 1)
    info = f"The pass key is {key}. Remember it. {key} is the pass key."
    prompt = "\n".join([PASSKEY_INTRO, " ".join([NOISE] * split), info, " ".join([NOISE] * (size - split)),
                        PASSKEY_QUESTION])
    answer = f" {key}."
    return Sample("passkey", size, prompt, answer, [str(key)], [(prompt, NO_LOSS), (answer, ANSWER)])


def generate(task, seed, size, ctx, target_tokens=None, extra_queries=0):
    """One sample of `task` from `seed` with a haystack of `size` units.

    target_tokens is the length the sample is fitted to; only fwe uses it (its vocabulary size).
    extra_queries (training only) appends that many more questions about other single-value needles.
    """
    if task not in MIN_SIZE:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    if size < MIN_SIZE[task]:
        raise ValueError(f"task {task} needs a haystack of at least {MIN_SIZE[task]} units, got {size}")
    rng = Rng(seed)
    if task in NIAH:
        return _niah(task, NIAH[task], rng, size, ctx, extra_queries)
    if task == "vt":
        return _vt(rng, size)
    if task == "fwe":
        if target_tokens is None:
            raise ValueError("task fwe needs target_tokens (its vocabulary size follows the length)")
        return _fwe(rng, size, target_tokens)
    return _passkey(rng, size)
