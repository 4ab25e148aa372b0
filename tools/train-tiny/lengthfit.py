"""Fitting a sample to a length in tokens.

The fitted size is found by a search that the Java side can repeat exactly: sizes double from the
task's minimum while the sample fits, then bisection between the last fitting size and the first
that does not. A sample's length counts BOS, the prompt, the answer and EOS.
"""


def sample_tokens(sample, encode):
    """Tokens of BOS + prompt + answer + EOS, with `encode` a text -> ids function without special tokens."""
    return len(encode(sample.prompt)) + len(encode(sample.answer)) + 2


def fit_size(build, length, target, min_size):
    """The size the search settles on: build(size) makes a sample, length(sample) counts its tokens."""
    cache = {}

    def fits(size):
        if size not in cache:
            cache[size] = length(build(size)) <= target
        return cache[size]

    if not fits(min_size):
        raise ValueError(f"even the smallest haystack ({min_size} units) is longer than {target} tokens")
    lo, hi = min_size, 2 * min_size
    while fits(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo
