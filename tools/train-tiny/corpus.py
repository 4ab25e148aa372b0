"""Real text and code found on the training machine, split into training and held-out documents.

The sources are the installed Python packages (their .py, .md, .txt and .rst files), the Python
standard library and /usr/share/doc. Files are chosen in the order of a hash of their path, so that a
size cap still samples every package, and split by a hash of their content (one in twenty held out),
so that a file copied into two packages lands on one side only.
"""
import glob
import hashlib
import os
import site
from dataclasses import dataclass, field

EXTENSIONS = (".py", ".md", ".txt", ".rst")
SKIPPED_DIRECTORIES = {"__pycache__", ".git", "node_modules"}
MIN_FILE_BYTES = 256
MAX_FILE_BYTES = 512 * 1024
MAX_LINE_CHARS = 1000  # longer lines are data or minified code, not text to learn from
HELDOUT_ONE_IN = 20


def default_roots():
    roots = []
    try:
        roots += site.getsitepackages()
    except AttributeError:  # site of some virtual environments lacks it
        pass
    roots += sorted(glob.glob("/usr/lib/python3*"))
    roots.append("/usr/share/doc")
    seen, out = set(), []
    for r in roots:
        real = os.path.realpath(r)
        if os.path.isdir(real) and real not in seen:
            seen.add(real)
            out.append(real)
    return out


@dataclass
class Corpus:
    train: list
    heldout: list
    roots: list
    files_seen: int = 0
    bytes_read: int = 0
    rejected: dict = field(default_factory=dict)

    def check(self):
        """The corpus, or an error if either split is empty."""
        if not self.train or not self.heldout:
            raise RuntimeError(f"too little text under {self.roots}: {len(self.train)} training and {len(self.heldout)} "
                               f"held-out documents; raise --corpus-mb or check that the directories exist")
        return self

    def describe(self):
        chars = sum(map(len, self.train)) + sum(map(len, self.heldout))
        return (f"{len(self.train)} training and {len(self.heldout)} held-out documents, {chars / 1e6:.1f} M characters "
                f"from {self.files_seen} candidate files under {', '.join(self.roots)}; rejected: {self.rejected}")


def _candidates(roots):
    found = {}
    for root in roots:
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRECTORIES)
            for name in sorted(filenames):
                if not name.endswith(EXTENSIONS):
                    continue
                path = os.path.join(directory, name)
                try:
                    if os.path.islink(path):
                        continue
                    size = os.path.getsize(path)
                except OSError:
                    continue
                if MIN_FILE_BYTES <= size <= MAX_FILE_BYTES:
                    found.setdefault(os.path.realpath(path), (os.path.relpath(path, root), size))
    # Ordered by a hash of the path below its root, so the order (and what a size cap keeps) does
    # not depend on where the packages are installed.
    return sorted(found.items(), key=lambda item: (hashlib.sha1(item[1][0].encode("utf-8")).hexdigest(), item[0]))


def clean(raw):
    """The document text of a file's bytes, or the reason it is not used."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    if "\x00" in text:
        return None, "NUL bytes"
    if "<|bos|>" in text or "<|eos|>" in text:  # the tokenizer would read them as its special tokens
        return None, "special-token text"
    text = text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    if not text:
        return None, "blank"
    if max(len(line) for line in text.split("\n")) > MAX_LINE_CHARS:
        return None, "very long lines"
    return text, None


def is_heldout(text):
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) % HELDOUT_ONE_IN == 0


def collect(max_bytes, roots=None):
    """Reads candidate files in path-hash order until max_bytes of accepted text."""
    roots = default_roots() if roots is None else roots
    candidates = _candidates(roots)
    corpus = Corpus([], [], roots, files_seen=len(candidates))
    seen_content = set()
    total = 0
    for path, _ in candidates:
        if total >= max_bytes:
            break
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError:
            corpus.rejected["unreadable"] = corpus.rejected.get("unreadable", 0) + 1
            continue
        corpus.bytes_read += len(raw)
        text, reason = clean(raw)
        if text is None:
            corpus.rejected[reason] = corpus.rejected.get(reason, 0) + 1
            continue
        digest = hashlib.sha1(text.encode("utf-8")).digest()
        if digest in seen_content:
            corpus.rejected["duplicate"] = corpus.rejected.get("duplicate", 0) + 1
            continue
        seen_content.add(digest)
        (corpus.heldout if is_heldout(text) else corpus.train).append(text)
        total += len(raw)
    return corpus


class TextSource:
    """Lines of consecutive documents, wrapping around; one blank line between two documents."""

    def __init__(self, docs):
        if not docs:
            raise ValueError("a text source needs at least one document")
        self.docs = docs

    def __len__(self):
        return len(self.docs)

    def lines_from(self, index, n):
        out = []
        i = index
        while len(out) < n:
            if out:
                out.append("")
            out += self.docs[i % len(self.docs)].split("\n")
            i += 1
        return out[:n]
