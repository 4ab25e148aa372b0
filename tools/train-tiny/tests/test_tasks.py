import collections
import random
import re
import unittest
import zlib

import fakes
import tasks
from rng import Rng


def fresh_seed():
    seed = random.randrange(1 << 64)
    print(f"seed {seed}")
    return seed


def needles(text):
    return re.findall(r"One of the special magic (\w+) for (\S+) is: (\S+)\.", text)


class TaskTest(unittest.TestCase):
    def setUp(self):
        self.ctx = fakes.context()

    def test_every_task_ends_its_prompt_with_the_answer_prefix_and_answers_with_a_sentence(self):
        seed = fresh_seed()
        for task in tasks.TASKS:
            s = tasks.generate(task, seed, 120, self.ctx, target_tokens=2048)
            self.assertEqual(s.text, s.prompt + s.answer, task)
            self.assertRegex(s.answer, r"^ \S.*\.$", task)
            self.assertFalse(s.prompt.endswith(" "), task)
            for ref in s.references:
                self.assertIn(ref, s.answer, task)

    def test_same_seed_gives_the_same_sample_and_another_seed_another(self):
        seed = fresh_seed()
        for task in tasks.TASKS:
            a = tasks.generate(task, seed, 160, self.ctx, target_tokens=1024)
            b = tasks.generate(task, seed, 160, self.ctx, target_tokens=1024)
            c = tasks.generate(task, seed ^ 1, 160, self.ctx, target_tokens=1024)
            self.assertEqual(a, b, task)
            self.assertNotEqual(a.prompt, c.prompt, task)

    def test_single_needle_prompt_is_rulers_singular_template(self):
        s = tasks.generate("niah_single_1", fresh_seed(), 5, self.ctx)
        (kind, key, value), = needles(s.prompt)
        self.assertEqual(kind, "numbers")
        lines = s.prompt.split("\n")
        self.assertEqual(lines[0], "A special magic number is hidden within the following text. Make sure to memorize it. "
                                   "I will quiz you about the number afterwards.")
        self.assertEqual(lines[-1], f"What is the special magic number for {key} mentioned in the provided text? "
                                    f"The special magic number for {key} mentioned in the provided text is")
        self.assertEqual(lines[1:-1].count(tasks.NOISE), 5)
        self.assertEqual(len(lines), 5 + 3)
        self.assertEqual(s.answer, f" {value}.")
        self.assertRegex(value, r"^[1-9]\d{6}$")

    def test_multikey_answers_the_queried_key_among_distractors(self):
        for task in ("niah_multikey_1", "niah_multikey_2", "niah_multikey_3"):
            s = tasks.generate(task, fresh_seed(), 40, self.ctx)
            found = needles(s.prompt)
            key = re.search(r"for (\S+) mentioned in the provided text is$", s.prompt).group(1)
            values = [v for _, k, v in found if k == key]
            self.assertEqual(len(values), 1, task)
            self.assertEqual(s.answer, f" {values[0]}.", task)
            self.assertGreaterEqual(len({k for _, k, _ in found}), 4, task)
        s = tasks.generate("niah_multikey_3", fresh_seed(), 10, self.ctx)
        self.assertRegex(s.answer, r"^ [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.$")

    def test_multivalue_lists_the_values_in_their_order_in_the_text(self):
        s = tasks.generate("niah_multivalue", fresh_seed(), 50, self.ctx)
        found = needles(s.prompt)
        self.assertEqual(len(found), 4)
        self.assertEqual(len({k for _, k, _ in found}), 1)
        self.assertEqual(s.answer, " " + ", ".join(v for _, _, v in found) + ".")
        self.assertIn("Some special magic numbers are hidden", s.prompt)
        self.assertTrue(s.prompt.endswith("mentioned in the provided text are"))

    def test_multiquery_lists_one_value_per_key_in_the_order_asked(self):
        s = tasks.generate("niah_multiquery", fresh_seed(), 50, self.ctx)
        value_of = {k: v for _, k, v in needles(s.prompt)}
        query = re.search(r"The special magic numbers for ([^?]+) mentioned in the provided text are$", s.prompt).group(1)
        keys = re.split(r", and |, ", query)
        self.assertEqual(len(keys), 4)
        self.assertEqual(s.answer, " " + ", ".join(value_of[k] for k in keys) + ".")

    def test_text_haystack_keeps_the_document_lines_in_order(self):
        s = tasks.generate("niah_single_2", fresh_seed(), 30, self.ctx)
        body = s.prompt.split("\n")[1:-1]
        text_lines = [line for line in body if not line.startswith("One of the special magic")]
        self.assertEqual(len(text_lines), 30)
        joined = "\n".join(fakes.DOCS)
        self.assertIn("\n".join(text_lines[1:5]), joined + "\n\n" + joined)
        self.assertEqual({c for t, c in s.segments if "Installation" in t or "import os" in t}, {tasks.LM})

    def test_word_keys_come_from_their_split_only(self):
        for split in ("train", "heldout"):
            ctx = fakes.context(split)
            s = tasks.generate("niah_multikey_2", fresh_seed(), 200, ctx)
            keys = [k for _, k, _ in needles(s.prompt)]
            self.assertEqual(len(keys), 201)
            self.assertEqual(len(set(keys)), 201)
            held = [zlib.crc32(k.encode()) % 10 == 0 for k in keys]
            self.assertTrue(all(held) if split == "heldout" else not any(held), split)

    def test_variable_tracking_chain_leads_from_the_value_to_the_answer(self):
        s = tasks.generate("vt", fresh_seed(), 40, self.ctx)
        task_text = s.prompt.split("\n\n", 1)[1].split("\n\n", 1)[1]
        value = re.search(r"assigned the value (\d{5}) in the text above", task_text).group(1)
        assigned = dict(re.findall(r"^VAR (\w+) = (?:VAR )?(\w+)$", task_text, re.M))
        chain = [n for n, v in assigned.items() if v == value]
        while len(chain) < 5:
            chain += [n for n, v in assigned.items() if v == chain[-1]]
        self.assertEqual(s.answer, " " + ", ".join(chain) + ".")
        self.assertEqual(task_text.count(tasks.NOISE), 40)
        self.assertIn("Memorize and track the chain(s) of variable assignment", s.prompt.split("\n")[0])

    def test_frequent_words_answer_the_three_most_frequent_after_the_dots(self):
        for size in (100, 101, 997, 5000):
            s = tasks.generate("fwe", fresh_seed(), size, self.ctx, target_tokens=8192)
            context = s.prompt.split("coded words. ", 1)[1].split("\nQuestion:")[0]
            counts = collections.Counter(context.split(" ")).most_common()
            self.assertEqual(counts[0][0], "...")
            self.assertEqual(s.answer, " " + ", ".join(w for w, _ in counts[1:4]) + ".")
            self.assertGreater(counts[3][1], counts[4][1], size)
            self.assertEqual(len({w for w, _ in counts}), sum(1 for c in tasks.fwe_counts(size, 163) if c > 0))

    def test_passkey_follows_the_landmark_attention_layout(self):
        s = tasks.generate("passkey", fresh_seed(), 12, self.ctx)
        lines = s.prompt.split("\n")
        self.assertEqual(len(lines), 5)
        key = re.fullmatch(r"The pass key is (\d+)\. Remember it\. \1 is the pass key\.", lines[2]).group(1)
        self.assertTrue(1 <= int(key) <= 50000)
        self.assertEqual(s.answer, f" {key}.")
        self.assertEqual((lines[1] + " " + lines[3]).strip().count(tasks.NOISE), 12)
        self.assertEqual(lines[4], tasks.PASSKEY_QUESTION)

    def test_extra_queries_ask_about_needles_that_are_in_the_text(self):
        s = tasks.generate("niah_multikey_2", fresh_seed(), 30, self.ctx, extra_queries=3)
        value_of = {k: v for _, k, v in needles(s.text)}
        extras = re.findall(r"The special magic number for (\S+) mentioned in the provided text is (\d+)\.", s.text)
        self.assertEqual(len(extras), 4)
        for key, value in extras:
            self.assertEqual(value_of[key], value)
        answers = [t for t, c in s.segments if c == tasks.ANSWER]
        self.assertEqual(answers, [f" {v}." for _, v in extras])
        self.assertEqual(len({k for k, _ in extras}), 4)

    def test_too_small_a_haystack_is_refused(self):
        self.assertRaises(ValueError, tasks.generate, "fwe", 1, 99, self.ctx, target_tokens=1024)
        self.assertRaises(ValueError, tasks.generate, "vt", 1, 4, self.ctx)
        self.assertRaises(ValueError, tasks.generate, "nope", 1, 10, self.ctx)

    def test_segments_cover_the_text_with_answers_marked(self):
        seed = fresh_seed()
        for task in tasks.TASKS:
            s = tasks.generate(task, seed, 20 if task != "fwe" else 100, self.ctx, target_tokens=1024)
            self.assertEqual([t for t, c in s.segments if c == tasks.ANSWER], [s.answer], task)
            self.assertEqual(s.segments[-1], (s.answer, tasks.ANSWER), task)


class RulerSeedIndependenceTest(unittest.TestCase):
    def test_needle_positions_spread_over_the_haystack(self):
        ctx = fakes.context()
        r = Rng(fresh_seed())
        depths = []
        for _ in range(200):
            s = tasks.generate("niah_single_1", r.next_u64(), 99, ctx)
            lines = s.prompt.split("\n")[1:-1]
            depths.append(next(i for i, line in enumerate(lines) if line.startswith("One of")))
        self.assertLess(min(depths), 15)
        self.assertGreater(max(depths), 85)


if __name__ == "__main__":
    unittest.main()
