import os
import random
import tempfile
import unittest

import fakes  # noqa: F401  (puts the tool's directory on sys.path)
import haystack
import tasks
from corpus import TextSource


def record(task, seed, size, source):
    ctx = tasks.TaskContext(*tasks.word_lists(), split="heldout", text=source)
    s = tasks.generate(task, seed, size, ctx, target_tokens=8192)
    return {"task": task, "target_length": 8192, "index": 0, "seed": f"{seed:016x}", "size": size,
            "prompt": s.prompt, "answer": s.answer}


class HaystackTest(unittest.TestCase):
    def test_recovers_the_haystack_lines_of_every_text_task_even_lines_that_look_like_needles(self):
        seed = random.randrange(1 << 64)
        print(f"seed {seed}")
        fake_needle = "One of the special magic numbers for fake-key is: 1234567."
        docs = [f"doc {d} line {i}" if i != 3 else fake_needle for d in range(7) for i in range(6)]
        source = TextSource(["\n".join(docs[i:i + 6]) for i in range(0, len(docs), 6)])
        for task in tasks.TEXT_HAYSTACK_TASKS:
            r = record(task, seed, 25, source)
            lines = haystack.haystack_lines(r)
            self.assertEqual(25, len(lines))
            self.assertIn(lines[:10], [source.lines_from(d, 10) for d in range(len(source))], task)

    def test_overlapping_runs_merge_and_short_chance_matches_do_not(self):
        a = [f"a{i}" for i in range(20)]
        b = a[12:] + ["b0", "b1"]
        c = ["x", "a19", "y"]
        self.assertEqual([a + ["b0", "b1"], c], haystack.merge([a, c, b]))
        self.assertEqual([a], haystack.merge([a, a[3:9]]), "a run inside another")

    def test_written_file_reads_back_as_the_same_documents(self):
        runs = [["first", "", "x"], ["second", ""], [""]]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "h.txt.gz")
            haystack.write(path, runs)
            self.assertEqual(["\n".join(r) for r in runs], haystack.read(path))


if __name__ == "__main__":
    unittest.main()
