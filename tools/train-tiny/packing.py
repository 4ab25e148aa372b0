"""Training rows: real text and synthetic task samples packed end to end, with a loss class per token.

Each row is built from its own seed (the run's seed, the step and the row index), so a batch is the
same whatever process makes it. A row holds documents, each `BOS ... EOS`: with probability
`p_long` it opens with one task sample filling 60-100% of the row (the long-range retrieval the model
must learn), then further pieces until it is full: a text piece with probability `p_text`, otherwise
a task sample of log-uniform length. Text pieces may be cut at the end of the row; task samples are
never cut (a sample that does not fit is made smaller).

Loss classes (per target token): NO_LOSS for instructions, noise and needles, LM for real text, and
ANSWER for the answers and the EOS after them; the trainer averages LM and ANSWER tokens separately.
"""
import numpy as np

import tasks
from rng import Rng, derive_seed

EXTRA_QUERY_TASKS = {"niah_multikey_1", "niah_multikey_2", "niah_multikey_3", "niah_multiquery"}
DEFAULT_TASK_WEIGHTS = {**{t: 1.0 for t in tasks.TASKS}, "passkey": 0.5}


def parse_task_weights(text, base=None):
    """`name=w,name=w` over base (default: DEFAULT_TASK_WEIGHTS): the tasks named get w, the others keep theirs.

    A weight of 0 drops a task; at least one task must keep a positive weight.
    """
    weights = dict(DEFAULT_TASK_WEIGHTS if base is None else base)
    for item in text.split(","):
        name, eq, value = item.strip().partition("=")
        if not eq or name not in weights:
            raise ValueError(f"--task-weights item {item.strip()!r}: expected name=weight with name one of "
                             f"{', '.join(tasks.TASKS)}")
        try:
            w = float(value)
        except ValueError:
            raise ValueError(f"--task-weights item {item.strip()!r}: {value!r} is not a number") from None
        if not w >= 0 or w == float("inf"):
            raise ValueError(f"--task-weights item {item.strip()!r}: a weight is a finite number >= 0")
        weights[name] = w
    if not any(w > 0 for w in weights.values()):
        raise ValueError(f"--task-weights {text!r} leaves no task with a positive weight")
    return weights


class RowBuilder:
    def __init__(self, encode, bos, eos, ctx, text_docs, seed, task_weights=None, p_long=0.5, p_text=0.3,
                 min_task_tokens=256, min_piece_tokens=32):
        """encode(text) -> (token ids, start character offset of each token), without special tokens."""
        self.encode = encode
        self.bos, self.eos = bos, eos
        self.ctx = ctx
        self.docs = text_docs
        self.seed = seed
        weights = dict(DEFAULT_TASK_WEIGHTS if task_weights is None else task_weights)
        self.tasks = [t for t in tasks.TASKS if weights.get(t, 0) > 0]
        total = sum(weights[t] for t in self.tasks)
        self.cumulative = np.cumsum([weights[t] / total for t in self.tasks])
        self.p_long, self.p_text = p_long, p_text
        self.min_task_tokens, self.min_piece_tokens = min_task_tokens, min_piece_tokens
        self.lines = {}
        sample = "\n\n".join(text_docs[:64])[:200_000]
        self.chars_per_token = max(1.0, len(sample) / max(1, len(encode(sample)[0])))

    def encode_sample(self, sample):
        """BOS + sample + EOS as (ids, classes); EOS is an answer token: the model learns to stop."""
        text = sample.text
        ids, starts = self.encode(text)
        char_cls = np.empty(len(text), np.uint8)
        pos = 0
        for piece, cls in sample.segments:
            char_cls[pos:pos + len(piece)] = cls
            pos += len(piece)
        first = np.asarray(starts, np.int64)
        # A token whose characters span two classes (".\n" after an answer followed by another
        # question) is learnt by nobody: the answer's own "." comes from samples that end there.
        last = np.maximum(first, np.append(first[1:], len(text)) - 1)
        token_cls = np.where(char_cls[first] == char_cls[last], char_cls[first], tasks.NO_LOSS)
        return ([self.bos] + list(ids) + [self.eos],
                np.concatenate([[tasks.NO_LOSS], token_cls, [tasks.ANSWER]]).astype(np.uint8))

    def _line(self, task, target):
        """Tokens ~ a + b * size for this task, measured once on calibration samples."""
        if task not in self.lines:
            lo = tasks.MIN_SIZE[task]
            hi = lo * 16
            counts = {lo: [], hi: []}
            for i in range(4 if task in tasks.TEXT_HAYSTACK_TASKS else 1):
                for size in (lo, hi):
                    s = tasks.generate(task, derive_seed(self.seed, f"calibrate/{task}/{i}"), size, self.ctx,
                                       target_tokens=4096)
                    counts[size].append(len(self.encode(s.text)[0]) + 2)
            a_lo, a_hi = np.mean(counts[lo]), np.mean(counts[hi])
            slope = max(1e-3, (a_hi - a_lo) / (hi - lo))
            self.lines[task] = (a_lo - slope * lo, slope)
        intercept, slope = self.lines[task]
        return max(tasks.MIN_SIZE[task], int((target - intercept) / slope))

    def _task_piece(self, rng, target, room, stats):
        task = self.tasks[int(np.searchsorted(self.cumulative, rng.uniform(), side="right"))]
        size = self._line(task, target)
        extra = rng.below(4) if task in EXTRA_QUERY_TASKS and rng.uniform() < 0.5 else 0
        seed = rng.next_u64()
        for _ in range(4):
            sample = tasks.generate(task, seed, size, self.ctx, target_tokens=target, extra_queries=extra)
            ids, cls = self.encode_sample(sample)
            if len(ids) <= room:
                stats["tasks"][task] = stats["tasks"].get(task, 0) + 1
                return ids, cls
            size = int(size * room / len(ids) * 0.95)
            if size < tasks.MIN_SIZE[task]:
                break
        stats["misfits"] += 1
        return None

    def _text_piece(self, rng, room):
        want = room if room <= 64 else min(room, int(rng.log_uniform(64, room)))
        doc = self.docs[rng.below(len(self.docs))]
        start = 0
        if rng.uniform() < 0.5:
            start = doc.find("\n", rng.below(len(doc))) + 1  # a line start (0 when there is none after)
        chars = int(want * self.chars_per_token * 1.3) + 64
        piece = doc[start:start + chars]
        cut = start + chars < len(doc)
        ids = list(self.encode(piece)[0])
        if cut:
            ids = ids[:-1]  # the last token may be a fragment of a word cut in two
        ids = [self.bos] + ids[:want - 1]
        if not cut and len(ids) < want:
            ids.append(self.eos)
        classes = np.full(len(ids), tasks.LM, np.uint8)
        classes[0] = tasks.NO_LOSS
        return ids, classes

    def row(self, step, index, length):
        """length + 1 tokens (inputs are the first length, targets the last length) and their classes."""
        rng = Rng(derive_seed(self.seed, f"row/{step}/{index}"))
        total = length + 1
        ids, classes = [], []
        stats = {"tasks": {}, "misfits": 0}
        first = True
        while len(ids) < total:
            room = total - len(ids)
            piece = None
            if room >= self.min_piece_tokens:
                if first and rng.uniform() < self.p_long:
                    piece = self._task_piece(rng, int(room * (0.6 + 0.4 * rng.uniform())), room, stats)
                elif rng.uniform() >= self.p_text and room >= self.min_task_tokens:
                    piece = self._task_piece(rng, int(rng.log_uniform(self.min_task_tokens, room)), room, stats)
            first = False
            if piece is None:
                piece = self._text_piece(rng, room)
            ids += piece[0]
            classes.append(piece[1])
        return np.asarray(ids[:total], np.int32), np.concatenate(classes)[:total], stats

    def batch(self, step, length, rows):
        out_ids = np.empty((rows, length + 1), np.int32)
        out_cls = np.empty((rows, length + 1), np.uint8)
        stats = {"tasks": {}, "misfits": 0}
        for r in range(rows):
            out_ids[r], out_cls[r], s = self.row(step, r, length)
            for t, n in s["tasks"].items():
                stats["tasks"][t] = stats["tasks"].get(t, 0) + n
            stats["misfits"] += s["misfits"]
        return out_ids, out_cls, stats
