"""The training schedule, on training time rather than steps.

A run ends with its learning rate decayed however fast the card is: progress p = seconds trained /
seconds planned picks the curriculum stage (sequence length and rows per batch; short first) and
the learning rate (linear warm-up over steps, constant, then a linear decay to final_ratio of the
peak over the last part: warmup-stable-decay). A resumed run starts its optimizer without moments,
so its learning rate warms up again over rewarm_steps.
"""
from dataclasses import asdict, dataclass


def progress(trained_seconds, origin, end):
    """The share done of a schedule spanning [origin, end] seconds of training, after trained_seconds in all."""
    return (trained_seconds - origin) / (end - origin) if end > origin else 1.0


@dataclass(frozen=True)
class Stage:
    start: float   # progress at which the stage begins
    length: int    # tokens per row
    rows: int      # rows per batch


@dataclass(frozen=True)
class Schedule:
    stages: tuple
    peak_lr: float
    warmup_steps: int
    rewarm_steps: int     # after a resume, whose optimizer starts without moments
    decay_start: float
    final_ratio: float

    def stage(self, progress):
        current = self.stages[0]
        for s in self.stages:
            if s.start <= progress:
                current = s
        return current

    def lr(self, progress, step, call_step, resumed):
        f = min(1.0, (step + 1) / self.warmup_steps)
        if resumed:
            f = min(f, (call_step + 1) / self.rewarm_steps)
        if progress > self.decay_start:
            f *= 1.0 - (1.0 - self.final_ratio) * min(1.0, (progress - self.decay_start) / (1.0 - self.decay_start))
        return self.peak_lr * f

    def to_json(self):
        return {**asdict(self), "stages": [asdict(s) for s in self.stages]}

    @staticmethod
    def from_json(d):
        return Schedule(**{**d, "stages": tuple(Stage(**s) for s in d["stages"])})
