"""The byte-level BPE tokenizer, trained with Hugging Face `tokenizers` on the machine's text.

Its shape is Qwen2's, which RetroInfer's Java tokenizer reads (tokenizer.json) and can export to
GGUF (pre-tokenizer 'qwen2'): an NFC normalizer, a Split on Qwen2's regex (one digit per piece, so
numbers and UUIDs are copied digit by digit) followed by ByteLevel without its own regex, a
ByteLevel decoder, and a TemplateProcessing post-processor that puts BOS in front of every text.
"""
import unicodedata

QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")
BOS = "<|bos|>"
EOS = "<|eos|>"
CHECK_TEXTS = [
    "def f(x):\n    return x + 1234567\n",
    "One of the special magic uuids for 0f1e2d3c-4b5a-4697-8877-66554433aa22 is: 9.",
    "  indented\t\ttabs\n\n\nblank lines, Ünïcödé and emoji 🙂 and CJK 漢字",
]


def train(texts, vocab_size, path):
    """Trains on an iterable of strings, saves tokenizer.json to path and returns the Tokenizer."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B",
                                                       special_tokens=[(BOS, tok.token_to_id(BOS))])
    check(tok)
    tok.save(path)
    return tok


def check(tok):
    """Fails unless the tokenizer round-trips text, splits digits and adds BOS."""
    bos, eos = tok.token_to_id(BOS), tok.token_to_id(EOS)
    if bos is None or eos is None:
        raise RuntimeError(f"the tokenizer lacks {BOS} or {EOS}")
    for text in CHECK_TEXTS:
        enc = tok.encode(text)
        if enc.ids[0] != bos:
            raise RuntimeError(f"the tokenizer does not start {text!r} with {BOS}")
        if tok.decode(enc.ids[1:]) != unicodedata.normalize("NFC", text):
            raise RuntimeError(f"the tokenizer does not round-trip {text!r}: {tok.decode(enc.ids[1:])!r}")
    if len(tok.encode("1234567", add_special_tokens=False).ids) != 7:
        raise RuntimeError("the tokenizer merges digits; numbers must be one token per digit")
