import os
import random
import tempfile
import unittest

import numpy as np

import fakes
import heldout
import tasks
from corpus import TextSource, collect
from lengthfit import fit_size, sample_tokens
from packing import DEFAULT_TASK_WEIGHTS, RowBuilder, parse_task_weights


def fresh_seed():
    seed = random.randrange(1 << 64)
    print(f"seed {seed}")
    return seed


class LengthFitTest(unittest.TestCase):
    def test_fitted_sample_is_the_longest_that_fits(self):
        tok = fakes.PieceTokenizer()
        ctx = fakes.context()
        seed = fresh_seed()
        for task in tasks.TASKS:
            target = random.randrange(1500, 4000)

            def build(size):
                return tasks.generate(task, seed, size, ctx, target_tokens=target)

            size = fit_size(build, lambda s: sample_tokens(s, tok.encode), target, tasks.MIN_SIZE[task])
            self.assertLessEqual(sample_tokens(build(size), tok.encode), target, task)
            self.assertGreater(sample_tokens(build(size + 1), tok.encode), target, task)
            self.assertGreater(sample_tokens(build(size), tok.encode), target * 0.9, task)

    def test_target_below_the_smallest_sample_is_refused(self):
        tok = fakes.PieceTokenizer()
        ctx = fakes.context()
        with self.assertRaisesRegex(ValueError, "smallest haystack"):
            fit_size(lambda size: tasks.generate("vt", 1, size, ctx), lambda s: sample_tokens(s, tok.encode), 50, 5)


class HeldoutTest(unittest.TestCase):
    def test_records_fit_their_target_and_answer_tokens_follow_the_prompt(self):
        tok = fakes.PieceTokenizer()
        ctx = fakes.context("heldout")
        eval_seed = fresh_seed()
        for task, target, index in heldout.plan({1024: 1, 2048: 1}):
            r = heldout.record(task, target, index, eval_seed, ctx, tok.encode)
            self.assertEqual(r["length"], 1 + len(tok.encode(r["prompt"])))
            self.assertLessEqual(r["length"] + r["answer_length"] + 1, target)
            self.assertGreater(r["length"], 0.85 * target)
            self.assertEqual(r["seed"], f"{heldout.sample_seed(eval_seed, task, target, index):016x}")
            again = tasks.generate(task, int(r["seed"], 16), r["size"], ctx, target_tokens=target)
            self.assertEqual((again.prompt, again.answer), (r["prompt"], r["answer"]))

    def test_plan_covers_every_task_and_length(self):
        p = heldout.plan({8192: 10, 16384: 10, 32768: 3})
        self.assertEqual(len(p), len(tasks.TASKS) * 23)
        self.assertEqual(len(set(p)), len(p))


class PackingTest(unittest.TestCase):
    def builder(self, seed):
        tok = fakes.PieceTokenizer()
        self.tok = tok
        return RowBuilder(tok.encode_with_starts, tok.BOS, tok.EOS, fakes.context(), fakes.DOCS, seed)

    def test_rows_have_the_length_asked_and_start_with_bos(self):
        b = self.builder(fresh_seed())
        ids, cls, stats = b.batch(step=3, length=1024, rows=4)
        self.assertEqual(ids.shape, (4, 1025))
        self.assertEqual(cls.shape, (4, 1025))
        self.assertTrue((ids[:, 0] == self.tok.BOS).all())
        self.assertTrue((cls[:, 0] == tasks.NO_LOSS).all())
        self.assertGreater(sum(stats["tasks"].values()), 0)

    def test_same_step_gives_the_same_batch(self):
        seed = fresh_seed()
        a = self.builder(seed).batch(7, 512, 2)
        b = self.builder(seed).batch(7, 512, 2)
        np.testing.assert_array_equal(a[0] != 0, b[0] != 0)  # ids are assigned per tokenizer instance
        np.testing.assert_array_equal(a[1], b[1])
        c = self.builder(seed).batch(8, 512, 2)
        self.assertFalse(np.array_equal(a[1], c[1]))

    def test_answer_tokens_spell_the_answers_and_are_followed_by_eos(self):
        b = self.builder(fresh_seed())
        sample = tasks.generate("niah_multikey_2", 5, 20, fakes.context(), extra_queries=2)
        ids, cls = b.encode_sample(sample)
        pieces = {v: k for k, v in self.tok.ids.items()}
        answers = []
        current = ""
        for i, c in zip(ids, cls):
            if c == tasks.ANSWER:
                current += pieces.get(i, "<eos>") if i != self.tok.EOS else "<eos>"
            elif current:
                answers.append(current)
                current = ""
        answers.append(current)
        expected = [t for t, c in sample.segments if c == tasks.ANSWER]
        # the last "." of an answer followed by a question is merged with the newline and learnt by nobody
        self.assertEqual(answers, [a[:-1] for a in expected[:-1]] + [expected[-1] + "<eos>"])
        self.assertEqual(ids[0], self.tok.BOS)
        self.assertEqual(ids[-1], self.tok.EOS)

    def test_long_rows_open_with_a_task_sample_most_of_the_row_long(self):
        b = self.builder(fresh_seed())
        long_first = 0
        for r in range(20):
            ids, cls, _ = b.row(0, r, 2048)
            eos = np.flatnonzero(ids == self.tok.EOS)
            if len(eos) and eos[0] > 0.55 * 2048 and (cls[:eos[0] + 1] == tasks.ANSWER).any():
                long_first += 1
        self.assertGreater(long_first, 3)


    def test_task_weights_set_how_often_each_task_is_drawn(self):
        tok = fakes.PieceTokenizer()
        weights = {t: 0.0 for t in tasks.TASKS}
        weights.update(niah_multivalue=3.0, passkey=1.0)
        b = RowBuilder(tok.encode_with_starts, tok.BOS, tok.EOS, fakes.context(), fakes.DOCS, fresh_seed(),
                       task_weights=weights)
        counts = {}
        for step in range(12):
            for t, n in b.batch(step, 2048, 4)[2]["tasks"].items():
                counts[t] = counts.get(t, 0) + n
        self.assertEqual(set(counts), {"niah_multivalue", "passkey"})
        self.assertGreater(counts["niah_multivalue"], counts["passkey"])


class TaskWeightsTest(unittest.TestCase):
    def test_named_tasks_get_their_weight_and_the_others_keep_the_base(self):
        w = parse_task_weights("niah_multivalue=4, vt=2.5,fwe=0")
        self.assertEqual((w["niah_multivalue"], w["vt"], w["fwe"]), (4.0, 2.5, 0.0))
        self.assertEqual({t: v for t, v in w.items() if t not in ("niah_multivalue", "vt", "fwe")},
                         {t: v for t, v in DEFAULT_TASK_WEIGHTS.items() if t not in ("niah_multivalue", "vt", "fwe")})
        base = {**DEFAULT_TASK_WEIGHTS, "passkey": 2.0}
        self.assertEqual(parse_task_weights("vt=3", base=base)["passkey"], 2.0)

    def test_unknown_names_bad_numbers_and_all_zero_are_refused(self):
        for text, message in (("multivalue=3", "name one of"), ("vt", "expected name=weight"),
                              ("vt=x", "is not a number"), ("vt=-1", ">= 0"), ("vt=nan", ">= 0"),
                              (",".join(f"{t}=0" for t in tasks.TASKS), "no task with a positive weight")):
            with self.assertRaisesRegex(ValueError, message):
                parse_task_weights(text)


class CorpusTest(unittest.TestCase):
    def test_collect_keeps_text_and_rejects_binary_duplicates_and_long_lines(self):
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "pkg", "__pycache__"))
            texts = {f"pkg/m{i}.py": f"def f{i}(x):\n    return x + {i}\n" + "# comment line\n" * 30 for i in range(60)}
            texts["pkg/copy.py"] = texts["pkg/m0.py"]
            texts["pkg/notes.md"] = "Notes\n=====\n\n" + "Some words about the package.\n" * 20
            for name, text in texts.items():
                with open(os.path.join(root, name), "w") as f:
                    f.write(text)
            with open(os.path.join(root, "pkg", "blob.txt"), "wb") as f:
                f.write(b"\x00\x01" * 400)
            with open(os.path.join(root, "pkg", "chat.md"), "w") as f:
                f.write("A template ends each turn with <|eos|> like this.\n" * 10)
            with open(os.path.join(root, "pkg", "minified.py"), "w") as f:
                f.write("x=1;" * 600)
            with open(os.path.join(root, "pkg", "__pycache__", "m0.py"), "w") as f:
                f.write("cached " * 100)
            with open(os.path.join(root, "pkg", "image.png"), "w") as f:
                f.write("not text " * 100)
            c = collect(10 ** 9, roots=[root])
            docs = c.train + c.heldout
            self.assertEqual(len(docs), 61)
            self.assertEqual(c.rejected, {"duplicate": 1, "NUL bytes": 1, "very long lines": 1, "special-token text": 1})
            self.assertTrue(all(not d.endswith("\n") for d in docs))
            self.assertGreater(len(c.heldout), 0)
            again = collect(10 ** 9, roots=[root])
            self.assertEqual((again.train, again.heldout), (c.train, c.heldout))
            small = collect(3000, roots=[root])
            self.assertLess(len(small.train) + len(small.heldout), 10)
            self.assertTrue(set(small.train) <= set(c.train))

    def test_an_empty_split_is_an_error_naming_the_flag(self):
        with tempfile.TemporaryDirectory() as root:
            with self.assertRaisesRegex(RuntimeError, "--corpus-mb"):
                collect(10 ** 9, roots=[root]).check()

    def test_text_source_wraps_around_with_a_blank_line_between_documents(self):
        s = TextSource(["a\nb", "c"])
        self.assertEqual(s.lines_from(1, 6), ["c", "", "a", "b", "", "c"])
        self.assertEqual(len(s), 2)


if __name__ == "__main__":
    unittest.main()
