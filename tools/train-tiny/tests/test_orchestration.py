"""The whole --smoke flow of train_tiny.py (two calls, checkpoint and resume, held-out set, bundle,
output limits) on the CPU, with torch, transformers and tokenizers replaced by stand-ins.

What the stand-ins replace is checked on the GPU machine by the real --smoke; this test pins down
the glue: which files each call writes, what the tar holds, how a call decides to finish or to
checkpoint, and that the data processes (spawned, with the stand-in tokenizer) make batches and
held-out records.
"""
import contextlib
import io
import json
import os
import sys
import tarfile
import tempfile
import time
import types
import unittest
from types import SimpleNamespace

import fakes

HERE = os.path.dirname(os.path.abspath(__file__))


class FakeModel:
    def cuda(self):
        return self


def install_fakes(test):
    saved = {name: sys.modules.get(name) for name in
             ("tokenizers", "torch", "transformers", "bpe", "modeling", "trainer", "quality", "golden")}
    sys.path.insert(0, os.path.join(HERE, "fake_modules"))
    sys.modules.pop("tokenizers", None)
    import tokenizers
    test.addCleanup(lambda: [sys.modules.pop(n, None) if m is None else sys.modules.__setitem__(n, m)
                             for n, m in saved.items()])
    test.addCleanup(sys.path.remove, os.path.join(HERE, "fake_modules"))

    torch = types.ModuleType("torch")
    torch.__version__ = "fake"
    torch.cuda = SimpleNamespace(is_available=lambda: True, get_device_name=lambda: "Fake GPU", empty_cache=lambda: None)
    torch.backends = SimpleNamespace(cuda=SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False)),
                                     cudnn=SimpleNamespace(allow_tf32=False))
    torch.manual_seed = lambda seed: None
    torch.float32 = "float32"
    sys.modules["torch"] = torch
    sys.modules["transformers"] = types.ModuleType("transformers")
    sys.modules["transformers"].__version__ = "fake"

    bpe = types.ModuleType("bpe")
    bpe.BOS, bpe.EOS = "<|bos|>", "<|eos|>"

    def train(texts, vocab, path):
        tok = tokenizers.Tokenizer({"vocab": vocab, "special": {bpe.BOS: 0, bpe.EOS: 1}, "texts": sum(1 for _ in texts)})
        tok.save(path)
        return tok

    bpe.train, bpe.check = train, lambda tok: None
    sys.modules["bpe"] = bpe

    sys.modules.pop("modeling", None)
    import modeling as real_modeling  # its top level needs only `torch`, the stand-in
    modeling = types.ModuleType("modeling")
    modeling.config_dict = real_modeling.config_dict
    modeling.build = lambda config: FakeModel()
    modeling.parameter_count = lambda model: 1234

    def load(directory, **kwargs):
        with open(os.path.join(directory, "model.safetensors.index.json")) as f:
            for shard in set(json.load(f)["weight_map"].values()):
                assert os.path.exists(os.path.join(directory, shard)), shard
        return FakeModel()

    def export(model, config, tokenizer_file, directory, max_length):
        os.makedirs(directory, exist_ok=True)
        shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
        for s in shards:
            with open(os.path.join(directory, s), "wb") as f:
                f.write(b"\0" * 1000)
        files = {"model.safetensors.index.json": {"weight_map": {"a": shards[0], "b": shards[1]}},
                 "config.json": config, "generation_config.json": {}, "tokenizer_config.json": {}}
        for name, obj in files.items():
            with open(os.path.join(directory, name), "w") as f:
                json.dump(obj, f)
        with open(tokenizer_file) as src, open(os.path.join(directory, "tokenizer.json"), "w") as dst:
            dst.write(src.read())
        return shards

    modeling.load, modeling.export = load, export
    sys.modules["modeling"] = modeling

    trainer = types.ModuleType("trainer")

    test.train_calls = []

    def fake_train(model, pool, schedule, state, train_until, log, answer_weight, log_every, schedule_start):
        import workers
        test.train_calls.append({"schedule": schedule, "answer_weight": answer_weight,
                                 "schedule_start": schedule_start, "trained_before": state["trained_seconds"]})
        stats = {"tasks": {}}
        for step in range(state["step"], state["step"] + 3):
            ids, classes, s = pool.apply_async(workers.train_batch, (step, 256, 2)).get(timeout=120)
            assert ids.shape == (2, 257) and classes.shape == (2, 257)
            for t, n in s["tasks"].items():
                stats["tasks"][t] = stats["tasks"].get(t, 0) + n
        before, total = state["trained_seconds"], state["train_seconds"]
        elapsed = max(0.0, min(train_until - time.monotonic(), total - before))
        state["trained_seconds"] = before + elapsed
        state["step"] += 3
        state["tokens"] += 768
        log({"step": state["step"]})
        return {"steps": 3, "tokens": 768, "seconds": round(elapsed, 1), "data_wait_s": 0.0,
                "tasks": stats["tasks"], "misfit_samples": 0}

    trainer.train = fake_train
    sys.modules["trainer"] = trainer

    quality = types.ModuleType("quality")
    quality.CODE_PROMPTS = ["def f():\n"]

    def evaluate(model, tok, bos, eos, records, docs, deadline, log, greedy_checks, code_prompts):
        test.records = records
        results = [{"task": r["task"], "target_length": r["target_length"], "index": r["index"], "exact": False}
                   for r in records]
        summary = {str(t): {"needle_tasks_exact": 0.0, "needle_tasks_samples": 1,
                            "tasks": {r["task"]: {"n": 1, "exact": 0, "rate": 0.0}
                                      for r in records if r["target_length"] == t}}
                   for t in sorted({r["target_length"] for r in records})}
        return {"summary": summary, "results": results, "errors": [], "heldout_text_loss": None,
                "code_samples": [{"prompt": p, "continuation": "pass"} for p in code_prompts]}

    quality.evaluate = evaluate
    sys.modules["quality"] = quality

    golden = types.ModuleType("golden")

    def write(model_dir, prompts, tok, bos, out_dir, log):
        os.makedirs(out_dir, exist_ok=True)
        paths = []
        for name, text in prompts:
            path = os.path.join(out_dir, name + ".json")
            with open(path, "w") as f:
                json.dump({"text": text, "positions": [0, 1], "logits": [[0.0], [0.0]]}, f)
            paths.append(path)
        return paths

    golden.write = write
    sys.modules["golden"] = golden


def write_corpus(root):
    """Python-looking files, enough for both splits and for code prompts."""
    for i in range(300):
        os.makedirs(os.path.join(root, f"pkg{i % 7}"), exist_ok=True)
        with open(os.path.join(root, f"pkg{i % 7}", f"m{i}.py"), "w") as f:
            f.write(f"import os\n\n\ndef f{i}(x):\n    return x * {i}\n\n" + fakes.DOCS[i % 4] + "\n" + f"# {i}\n" * 20)


class SmokeFlowTest(unittest.TestCase):
    def test_smoke_checkpoints_resumes_evaluates_and_bundles_within_the_output_limits(self):
        install_fakes(self)
        sys.modules.pop("train_tiny", None)
        import corpus
        import train_tiny
        with tempfile.TemporaryDirectory() as tmp:
            write_corpus(os.path.join(tmp, "site"))
            original_roots = corpus.default_roots
            corpus.default_roots = lambda: [os.path.join(tmp, "site")]
            self.addCleanup(setattr, corpus, "default_roots", original_roots)
            out = os.path.join(tmp, "out")
            argv = ["--smoke", "--out", out, "--workers", "2", "--time-budget", "300", "--work", tmp]
            self.assertEqual(train_tiny.main(argv), 0)

            self.assertEqual(sorted(os.listdir(os.path.join(out, "part1"))),
                             ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                              "retro-tiny.tar", "train.log"])
            self.assertEqual(sorted(os.listdir(os.path.join(out, "part2"))),
                             ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                              "quality.json", "retro-tiny.tar", "train.log"])
            with tarfile.open(os.path.join(out, "part2", "retro-tiny.tar")) as tar:
                names = sorted(tar.getnames())
                state = json.load(tar.extractfile("retro-tiny/train/state.json"))
                card = tar.extractfile("retro-tiny/README.md").read().decode()
            self.assertEqual(names, [
                "retro-tiny/README.md", "retro-tiny/config.json", "retro-tiny/eval/heldout.jsonl.gz",
                "retro-tiny/eval/quality-transformers.json", "retro-tiny/generation_config.json",
                "retro-tiny/golden/retro-tiny-code.json", "retro-tiny/golden/retro-tiny-needle-1500.json",
                "retro-tiny/golden/retro-tiny-vt-1000.json", "retro-tiny/model.safetensors.index.json",
                "retro-tiny/tokenizer.json", "retro-tiny/tokenizer_config.json", "retro-tiny/train/log.jsonl",
                "retro-tiny/train/state.json"])
            self.assertTrue(state["finished"])
            self.assertEqual([c["final"] for c in state["calls"]], [False, True])
            self.assertEqual(state["step"], 6)
            self.assertAlmostEqual(state["trained_seconds"], 16.0, delta=0.5)
            self.assertEqual(len(self.records), 2 * 11)
            self.assertIn("2 layers, hidden size 128", card)
            self.assertIn("--resume", card)
            main_schedule = self.train_calls[0]["schedule"]
            self.assertEqual([c["schedule"] for c in self.train_calls[:2]], [main_schedule] * 2)
            self.assertEqual([c["schedule_start"] for c in self.train_calls[:2]], [0.0, 0.0])
            self.assertEqual([c["answer_weight"] for c in self.train_calls[:2]], [1.0, 1.0])

            # part 3 extends the finished model on its own schedule, without fwe (--task-weights fwe=0)
            extension = self.train_calls[2]
            self.assertEqual(extension["schedule"].stages[0].length, 512)
            self.assertEqual(extension["schedule_start"], extension["trained_before"])
            self.assertEqual(extension["answer_weight"], 2.0)
            with tarfile.open(os.path.join(out, "part3", "retro-tiny.tar")) as tar:
                state3 = json.load(tar.extractfile("retro-tiny/train/state.json"))
                card3 = tar.extractfile("retro-tiny/README.md").read().decode()
            self.assertTrue(state3["finished"])
            self.assertEqual([c["extension"] for c in state3["calls"]], [False, False, True])
            self.assertEqual(state3["step"], 9)
            self.assertAlmostEqual(state3["trained_seconds"], 22.0, delta=0.5)
            [record] = state3["extensions"]
            self.assertEqual((record["call"], record["from_step"], record["steps"]), (3, 6, 3))
            self.assertEqual(record["task_weights"]["fwe"], 0)
            self.assertEqual(record["task_weights"]["niah_multivalue"], 4.0)
            self.assertNotIn("fwe", state3["calls"][2]["tasks"])
            self.assertGreater(sum(state3["calls"][2]["tasks"].values()), 0)
            self.assertIn("Extension (call 3, `--extend`): from step 6", card3)
            self.assertIn("task weights niah_multivalue 4, niah_multiquery 2.5, vt 2, fwe 0, passkey 0.5, "
                          "the other tasks 1; answer loss weight 2", card3)
            self.assertIn("--extend 6", card3)
            self.assertEqual(card3.count("(extension)"), 1)

            # an unfinished checkpoint cannot be extended
            argv = ["--out", os.path.join(tmp, "out4"), "--resume", os.path.join(out, "part1"), "--extend", "5",
                    "--workers", "2", "--work", tmp]
            with self.assertRaisesRegex(SystemExit, "unfinished schedule .* --finish"):
                train_tiny.main(argv)

            # --finish ends the schedule in one call, whatever --train-seconds planned
            out3 = os.path.join(tmp, "out3")
            argv = ["--out", out3, "--resume", os.path.join(out, "part1"), "--finish", "--time-budget", "300",
                    "--workers", "2", "--work", tmp]
            self.assertEqual(train_tiny.main(argv), 0)
            with tarfile.open(os.path.join(out3, "retro-tiny.tar")) as tar:
                state = json.load(tar.extractfile("retro-tiny/train/state.json"))
            self.assertTrue(state["finished"])
            self.assertGreater(state["trained_seconds"], 200)
            self.assertAlmostEqual(state["trained_seconds"], state["train_seconds"], delta=0.5)


class ArgumentsTest(unittest.TestCase):
    def setUp(self):
        sys.modules.pop("train_tiny", None)
        import train_tiny
        self.train_tiny = train_tiny

    def refused(self, argv, message):
        with contextlib.redirect_stderr(io.StringIO()) as err, self.assertRaises(SystemExit):
            self.train_tiny.parse_args(["--out", "/tmp/x"] + argv)
        self.assertIn(message, err.getvalue())

    def test_extend_needs_a_resumed_model_and_no_other_schedule_flag(self):
        self.refused(["--extend", "300"], "--extend continues a finished model: name it with --resume")
        self.refused(["--resume", "r", "--extend", "300", "--finish"], "drop --finish")
        self.refused(["--resume", "r", "--extend", "300", "--train-seconds", "9"], "drop --train-seconds")
        self.refused(["--resume", "r", "--extend", "0"], "--extend must be positive")

    def test_task_weights_name_known_tasks_with_numbers(self):
        self.refused(["--task-weights", "niah_multi=3"], "'niah_multi=3': expected name=weight")
        self.refused(["--task-weights", "vt=lots"], "'lots' is not a number")
        args = self.train_tiny.parse_args(["--out", "/tmp/x", "--resume", "r", "--extend", "300",
                                           "--task-weights", "vt=3,fwe=0"])
        self.assertEqual((args.extend, args.task_weights), (300.0, "vt=3,fwe=0"))

    def test_extension_mix_favours_the_weak_tasks_and_flags_override_it(self):
        profile = self.train_tiny.PROFILES["full"]
        args = self.train_tiny.parse_args(["--out", "/tmp/x", "--resume", "r", "--extend", "300"])
        weights, answer_weight = self.train_tiny.call_mix(args, profile, {})
        self.assertEqual(answer_weight, 2.0)
        for weak in ("niah_multivalue", "niah_multiquery", "vt", "fwe"):
            self.assertGreater(weights[weak], weights["niah_single_1"])
        self.assertTrue(all(w > 0 for w in weights.values()))
        args = self.train_tiny.parse_args(["--out", "/tmp/x", "--resume", "r", "--extend", "300",
                                           "--task-weights", "vt=3", "--answer-weight", "1.5"])
        weights2, answer_weight = self.train_tiny.call_mix(args, profile, {})
        self.assertEqual((weights2["vt"], answer_weight), (3.0, 1.5))
        self.assertEqual({t: w for t, w in weights2.items() if t != "vt"},
                         {t: w for t, w in weights.items() if t != "vt"})

    def test_a_resumed_main_schedule_keeps_its_own_mix(self):
        args = self.train_tiny.parse_args(["--out", "/tmp/x", "--resume", "r"])
        state = {"task_weights": {"vt": 5.0, "fwe": 1.0}, "answer_weight": 1.25}
        self.assertEqual(self.train_tiny.call_mix(args, self.train_tiny.PROFILES["full"], state),
                         ({"vt": 5.0, "fwe": 1.0}, 1.25))


if __name__ == "__main__":
    unittest.main()
