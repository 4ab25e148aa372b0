"""A portable random number generator for the task generators.

Python's `random` is not reproducible outside Python, so every draw that shapes a prompt goes
through SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
OOPSLA 2014), which a Java port reproduces bit for bit with `long` arithmetic. Every helper here is
specified in the README ("Random draws") so that the Java evaluation can regenerate the prompts.
"""

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def mix64(z):
    """SplitMix64's output function (Stafford's variant 13) of a 64-bit value."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def fnv1a64(data):
    """FNV-1a, 64 bits, of a byte string."""
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def derive_seed(base, label):
    """The seed of one sample: the base seed and a label such as 'heldout/vt/8192/3' mixed together."""
    x = (base & MASK64) ^ fnv1a64(label.encode("utf-8"))
    return mix64((x + GOLDEN_GAMMA) & MASK64)


class Rng:
    """SplitMix64: the state advances by the golden gamma and each output is mix64 of the state."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next_u64(self):
        self.state = (self.state + GOLDEN_GAMMA) & MASK64
        return mix64(self.state)

    def below(self, n):
        """Uniform in [0, n): a 64-bit draw, rejected while it falls in the last partial block of n."""
        if n <= 0:
            raise ValueError(f"below(n) needs n > 0, got {n}")
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            r = self.next_u64()
            if r < limit:
                return r % n

    def between(self, lo, hi):
        """Uniform integer in [lo, hi], both ends included."""
        return lo + self.below(hi - lo + 1)

    def uniform(self):
        """Uniform float in [0, 1) from the top 53 bits of one draw."""
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))

    def choice(self, items):
        return items[self.below(len(items))]

    def shuffle(self, items):
        """Fisher-Yates from the last element down: swap i with below(i + 1)."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def distinct(self, n, k):
        """k distinct values of [0, n), in the order drawn: below(n) repeated, skipping repeats."""
        if k > n:
            raise ValueError(f"cannot draw {k} distinct values below {n}")
        seen = set()
        out = []
        while len(out) < k:
            x = self.below(n)
            if x not in seen:
                seen.add(x)
                out.append(x)
        return out

    def log_uniform(self, lo, hi):
        """Float with a uniform logarithm in [lo, hi) (training data only: Java never needs it)."""
        return lo * (hi / lo) ** self.uniform()
