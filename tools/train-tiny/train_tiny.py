#!/usr/bin/env python3
"""Trains retro-tiny on one GPU within a wall-clock budget, and exports, evaluates and checks it.

One call: text corpus -> BPE tokenizer -> held-out set -> training -> export -> quality -> golden
logits, everything it returns written under --out (see the README for the files). A call whose
schedule does not finish (--train-seconds longer than the call can give, or --stop-after) exports a
resumable checkpoint instead and a later call continues it with --resume. --resume DIR --extend S
trains a finished model S seconds more at the long lengths (its own short schedule, the weak tasks
sampled more often) and finishes like a finishing call. --smoke runs all of it, resume and extension
included, on a toy model in about two minutes.

usage: python3 tools/train-tiny/train_tiny.py --out DIR [--time-budget S] [--train-seconds S]
                                              [--stop-after S] [--resume DIR [--finish | --extend S]]
                                              [--task-weights NAME=W,...] [--answer-weight W] [--smoke] [--seed N]
"""
import time

START = time.monotonic()  # the budget counts from here: before torch, CUDA and everything else

import argparse  # noqa: E402
import datetime  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402

import corpus as corpus_module  # noqa: E402
import heldout  # noqa: E402
import tasks  # noqa: E402
from lengthfit import fit_size, sample_tokens  # noqa: E402
from packing import DEFAULT_TASK_WEIGHTS, parse_task_weights  # noqa: E402
from rng import derive_seed  # noqa: E402
from schedule import Schedule, Stage  # noqa: E402

MODEL_NAME = "retro-tiny"
MAX_OUT_FILES, MAX_OUT_FILE_BYTES, MAX_OUT_BYTES = 8, 16 * 2 ** 20, 64 * 2 ** 20

PROFILES = {
    "full": {
        "model": dict(hidden=512, layers=6, heads=4, kv_heads=2, head_dim=128, intermediate=896, rope_theta=500000,
                      max_positions=32768),
        "vocab": 4096, "corpus_mb": 200, "tokenizer_mb": 24,
        "stages": [(0.0, 2048, 32), (0.2, 4096, 16), (0.4, 8192, 8), (0.65, 16384, 4)],
        "peak_lr": 2e-3, "warmup_steps": 60, "rewarm_steps": 40, "decay_start": 0.75, "final_ratio": 0.1,
        "eval_counts": {8192: 10, 16384: 10, 32768: 3},
        "golden": [("needle-9k", "niah_single_2", 9000), ("vt-2k", "vt", 2048)],
        "reserve": 90, "checkpoint_reserve": 25, "eval_generation": 20, "log_every": 15.0,
        "max_bf16_bytes": 32_000_000, "greedy_checks": 2,
        # --extend: the long lengths only, a lower peak (the main schedule ended at 2e-4), a decay to
        # the end; the tasks short of the bar sampled more often, the others and text kept.
        "extend": {"stages": [(0.0, 8192, 8), (0.4, 16384, 4)], "peak_lr": 8e-4, "rewarm_steps": 100,
                   "decay_start": 0.2, "final_ratio": 0.05, "answer_weight": 2.0,
                   "task_weights": {**DEFAULT_TASK_WEIGHTS, "niah_multivalue": 4.0, "niah_multiquery": 2.5,
                                    "vt": 2.0, "fwe": 2.0}},
    },
    "smoke": {
        "model": dict(hidden=128, layers=2, heads=2, kv_heads=1, head_dim=128, intermediate=256, rope_theta=500000,
                      max_positions=4096),
        "vocab": 1024, "corpus_mb": 6, "tokenizer_mb": 2,
        "stages": [(0.0, 256, 16), (0.5, 512, 8)],
        "peak_lr": 2e-3, "warmup_steps": 10, "rewarm_steps": 5, "decay_start": 0.75, "final_ratio": 0.1,
        "eval_counts": {1024: 1, 2048: 1},
        "golden": [("needle-1500", "niah_single_2", 1500), ("vt-1000", "vt", 1000)],
        "reserve": 30, "checkpoint_reserve": 15, "eval_generation": 8, "log_every": 2.0,
        "max_bf16_bytes": 32_000_000, "greedy_checks": 1,
        "extend": {"stages": [(0.0, 512, 8)], "peak_lr": 1e-3, "rewarm_steps": 5, "decay_start": 0.2,
                   "final_ratio": 0.05, "answer_weight": 2.0,
                   "task_weights": {**DEFAULT_TASK_WEIGHTS, "niah_multivalue": 4.0, "niah_multiquery": 2.5,
                                    "vt": 2.0, "fwe": 2.0}},
    },
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="where the results go ($OUT on the GPU machine)")
    p.add_argument("--time-budget", type=float, default=540.0,
                   help="wall seconds this call may take from its start, export and evaluation included (default 540)")
    p.add_argument("--train-seconds", type=float,
                   help="training time of the whole schedule, over all calls; default: all this call can give")
    p.add_argument("--stop-after", type=float, help="train at most this many seconds in this call, then checkpoint")
    p.add_argument("--resume", help="a previous call's output (its --out) to continue from")
    p.add_argument("--finish", action="store_true",
                   help="finish the schedule in this call, fitting what is left of it into the time the call has")
    p.add_argument("--extend", type=float, metavar="SECONDS",
                   help="with --resume of a finished model: train at most SECONDS more (less if the call cannot give "
                        "them) on the extension schedule, then finish (export, evaluate, golden logits)")
    p.add_argument("--task-weights", metavar="NAME=W,...",
                   help="sampling weights of the tasks named; the others keep this call's defaults (every task 1, "
                        "passkey 0.5; with --extend the extension's mix, which favours the weak tasks)")
    p.add_argument("--answer-weight", type=float,
                   help="weight of the answer loss beside the text loss (default 1; with --extend 2)")
    p.add_argument("--smoke", action="store_true", help="every stage, resume included, on a toy model (~2 minutes)")
    p.add_argument("--seed", type=int, default=20261127, help="training data seed (a resumed run keeps its own)")
    p.add_argument("--eval-seed", type=int, default=5, help="held-out set seed (a resumed run keeps its own)")
    p.add_argument("--workers", type=int, default=max(1, min(12, (os.cpu_count() or 4) - 2)),
                   help="data processes (default: CPU cores - 2, at most 12)")
    p.add_argument("--work", default=None, help="scratch directory (default: a new one under the system temp)")
    args = p.parse_args(argv)
    if args.finish and args.stop_after is not None:
        p.error("--finish and --stop-after contradict each other")
    if args.extend is not None:
        if not args.resume:
            p.error("--extend continues a finished model: name it with --resume")
        clashing = [flag for flag, value in (("--finish", args.finish), ("--stop-after", args.stop_after),
                                             ("--train-seconds", args.train_seconds)) if value]
        if clashing:
            p.error(f"--extend brings its own schedule and finishes; drop {', '.join(clashing)}")
    if args.task_weights is not None:
        try:
            parse_task_weights(args.task_weights)
        except ValueError as e:
            p.error(str(e))
    for name in ("time_budget", "train_seconds", "stop_after", "extend", "answer_weight"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    return args


class Log:
    """Prints with the seconds since start and keeps structured records for train/log.jsonl."""

    def __init__(self, path):
        self.file = open(path, "a")
        self.records = []

    def __call__(self, item):
        stamp = f"[{time.monotonic() - START:6.1f}s]"
        if isinstance(item, dict):
            self.records.append({"t": round(time.monotonic() - START, 1), **item})
            line = " ".join(f"{k}={v}" for k, v in item.items())
        else:
            line = str(item)
        print(f"{stamp} {line}", flush=True)
        self.file.write(f"{stamp} {line}\n")
        self.file.flush()


def command_line(argv):
    return " ".join(["python3", "tools/train-tiny/train_tiny.py"] + [shlex.quote(a) for a in argv])


def new_state(args, profile):
    return {
        "format": 1,
        "seed": args.seed,
        "eval_seed": args.eval_seed,
        "profile": "smoke" if args.smoke else "full",
        "schedule": Schedule(stages=tuple(Stage(s, n, r) for s, n, r in profile["stages"]),
                             peak_lr=profile["peak_lr"], warmup_steps=profile["warmup_steps"],
                             rewarm_steps=profile["rewarm_steps"], decay_start=profile["decay_start"],
                             final_ratio=profile["final_ratio"]).to_json(),
        "step": 0, "trained_seconds": 0.0, "train_seconds": None, "tokens": 0, "finished": False, "calls": [],
    }


def unpack_resume(path, work):
    """The model directory and state of a previous call's output (or of its extracted bundle)."""
    bundle = os.path.join(path, MODEL_NAME + ".tar")
    if os.path.exists(bundle):
        target = os.path.join(work, "resume")
        with tarfile.open(bundle) as tar:
            tar.extractall(target, filter="data")
        model_dir = os.path.join(target, MODEL_NAME)
        for name in os.listdir(path):
            if name.startswith("model-") and name.endswith(".safetensors"):
                shutil.copy(os.path.join(path, name), model_dir)
    elif os.path.exists(os.path.join(path, "train", "state.json")):
        model_dir = path
    else:
        raise SystemExit(f"--resume {path}: neither {MODEL_NAME}.tar (a previous --out) nor train/state.json "
                         f"(an extracted {MODEL_NAME} directory) is there")
    with open(os.path.join(model_dir, "train", "state.json")) as f:
        state = json.load(f)
    history = []
    log_path = os.path.join(model_dir, "train", "log.jsonl")
    if os.path.exists(log_path):
        with open(log_path) as f:
            history = [json.loads(line) for line in f if line.strip()]
    return model_dir, state, history


def extension_schedule(profile):
    e = profile["extend"]
    return Schedule(stages=tuple(Stage(s, n, r) for s, n, r in e["stages"]), peak_lr=e["peak_lr"],
                    warmup_steps=profile["warmup_steps"], rewarm_steps=e["rewarm_steps"],
                    decay_start=e["decay_start"], final_ratio=e["final_ratio"])


def call_mix(args, profile, state):
    """This call's task weights and answer-loss weight: flags over the extension's or the run's own."""
    if args.extend is not None:
        weights, answer_weight = profile["extend"]["task_weights"], profile["extend"]["answer_weight"]
    else:
        weights, answer_weight = state.get("task_weights", DEFAULT_TASK_WEIGHTS), state.get("answer_weight", 1.0)
    if args.task_weights is not None:
        weights = parse_task_weights(args.task_weights, base=weights)
    if args.answer_weight is not None:
        answer_weight = args.answer_weight
    return dict(weights), answer_weight


def tokenizer_texts(corpus, profile, seed):
    """The tokenizer's training text: real documents up to tokenizer_mb, then task samples."""
    budget = profile["tokenizer_mb"] * 1_000_000
    for doc in corpus.train:
        if budget <= 0:
            break
        budget -= len(doc)
        yield doc
    adjectives, nouns = tasks.word_lists()
    ctx = tasks.TaskContext(adjectives, nouns, "train", corpus_module.TextSource(corpus.train))
    for task in tasks.TASKS:
        for i in range(30):
            yield tasks.generate(task, derive_seed(seed, f"tokenizer/{task}/{i}"), 300 if task == "fwe" else 40, ctx,
                                 target_tokens=4096).text


def code_heads(docs, count, max_chars=900):
    """The first lines of held-out Python files: prompts for code continuation and golden logits."""
    out = []
    for doc in docs:
        if "\ndef " in doc and doc.lstrip().startswith(("import ", "from ", "def ", "class ", '"""', "#")):
            head = doc[:max_chars]
            out.append(head[:head.rfind("\n") + 1])
            if len(out) == count:
                break
    return out


def golden_prompts(profile, state, tok, heldout_docs):
    adjectives, nouns = tasks.word_lists()
    ctx = tasks.TaskContext(adjectives, nouns, "heldout", corpus_module.TextSource(heldout_docs))

    def encode(text):
        return tok.encode(text, add_special_tokens=False).ids

    heads = code_heads(heldout_docs, 1)
    if not heads:
        raise SystemExit("no held-out Python file for the golden code prompt; raise the corpus size")
    prompts = [(f"{MODEL_NAME}-code", heads[0])]
    for name, task, target in profile["golden"]:
        seed = derive_seed(state["eval_seed"], f"golden/{task}/{target}")

        def build(size, task=task, seed=seed, target=target):
            return tasks.generate(task, seed, size, ctx, target_tokens=target)

        size = fit_size(build, lambda s: sample_tokens(s, encode), target, tasks.MIN_SIZE[task])
        prompts.append((f"{MODEL_NAME}-{name}", build(size).prompt))
    return prompts


def write_bundle(out_dir, model_dir, extra):
    """retro-tiny.tar: the model directory without its shards, plus extra {arcname: path}."""
    path = os.path.join(out_dir, MODEL_NAME + ".tar")
    tmp = path + ".partial"
    with tarfile.open(tmp, "w") as tar:
        for name in sorted(os.listdir(model_dir)):
            full = os.path.join(model_dir, name)
            if os.path.isfile(full) and not name.endswith(".safetensors"):
                tar.add(full, arcname=f"{MODEL_NAME}/{name}")
        for arcname, full in sorted(extra.items()):
            tar.add(full, arcname=f"{MODEL_NAME}/{arcname}")
    os.replace(tmp, path)


def check_outputs(out_dir, log):
    """Whether what is under out_dir fits what the GPU machine returns (files, sizes, depth)."""
    files = []
    for directory, _, names in os.walk(out_dir):
        for name in names:
            full = os.path.join(directory, name)
            files.append((os.path.relpath(full, out_dir), os.path.getsize(full)))
    problems = []
    if len(files) > MAX_OUT_FILES:
        problems.append(f"{len(files)} files (at most {MAX_OUT_FILES})")
    problems += [f"{n} is {s} bytes (at most {MAX_OUT_FILE_BYTES})" for n, s in files if s > MAX_OUT_FILE_BYTES]
    problems += [f"{n} is more than 2 folders deep" for n, _ in files if n.count(os.sep) > 2]
    total = sum(s for _, s in files)
    if total > MAX_OUT_BYTES:
        problems.append(f"{total} bytes in all (at most {MAX_OUT_BYTES})")
    for n, s in sorted(files):
        log(f"out: {n} {s / 2 ** 20:.2f} MiB")
    for problem in problems:
        log(f"ERROR: the output will not all come back: {problem}")
    return not problems


def run(args, argv, out_dir, deadline):
    """One call; returns whether its output fits what the GPU machine sends back."""
    os.makedirs(out_dir, exist_ok=True)
    log = Log(os.path.join(out_dir, "train.log"))
    try:
        return _run(args, argv, out_dir, deadline, log)
    finally:
        log.file.close()


def _run(args, argv, out_dir, deadline, log):
    profile = PROFILES["smoke" if args.smoke else "full"]
    work = tempfile.mkdtemp(prefix="train-tiny-", dir=args.work)
    if args.resume:
        model_dir, state, history = unpack_resume(args.resume, work)
        profile = PROFILES[state["profile"]]
        log.records = history + log.records
        if args.extend is not None and not state["finished"]:
            raise SystemExit(f"--extend: {args.resume} holds an unfinished schedule ({state['trained_seconds']:.0f} of "
                             f"{state['train_seconds']:.0f} s trained); finish it first (--resume it with --finish)")
        if args.extend is None and state["finished"]:
            print(f"note: {args.resume} holds a finished run; continuing stretches its schedule over the time this "
                  f"call adds (--extend trains it further on a schedule of its own)", flush=True)
            state["finished"] = False
            state["train_seconds"] = None
    else:
        model_dir, state = None, new_state(args, profile)
    weights, answer_weight = call_mix(args, profile, state)
    if args.extend is None:
        state["task_weights"], state["answer_weight"] = weights, answer_weight  # a resumed call keeps them
    log(f"train-tiny {'resuming ' + args.resume if args.resume else 'starting'}: {command_line(argv)}")
    log(f"task weights {json.dumps(weights)}, answer loss weight {answer_weight}")

    import torch
    from tokenizers import Tokenizer

    import bpe
    import modeling
    import trainer
    import workers
    if not torch.cuda.is_available():
        raise SystemExit("train-tiny needs a CUDA GPU: it trains with BF16 autocast and flash attention")
    device = torch.cuda.get_device_name()
    log(f"{device}; python {platform.python_version()}, torch {torch.__version__}, "
        f"transformers {__import__('transformers').__version__}, tokenizers {__import__('tokenizers').__version__}")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(state["seed"])

    corpus = corpus_module.collect(profile["corpus_mb"] * 1_000_000).check()
    log(f"corpus: {corpus.describe()}")
    corpus_file = os.path.join(work, "corpus.pkl")
    with open(corpus_file, "wb") as f:
        pickle.dump((corpus.train, corpus.heldout), f)

    tokenizer_file = os.path.join(work, "tokenizer.json")
    if model_dir:
        shutil.copy(os.path.join(model_dir, "tokenizer.json"), tokenizer_file)
        tok = Tokenizer.from_file(tokenizer_file)
        bpe.check(tok)
    else:
        tok = bpe.train(tokenizer_texts(corpus, profile, state["seed"]), profile["vocab"], tokenizer_file)
    bos, eos = tok.token_to_id(bpe.BOS), tok.token_to_id(bpe.EOS)
    log(f"tokenizer: {tok.get_vocab_size()} tokens, BOS {bos}, EOS {eos}")

    pool = multiprocessing.get_context("spawn").Pool(args.workers, initializer=workers.init, initargs=({
        "tokenizer": tokenizer_file, "corpus": corpus_file, "seed": state["seed"], "eval_seed": state["eval_seed"],
        "bos": bos, "eos": eos, "task_weights": weights},))

    if model_dir:
        config = state["model_config"]
        model = modeling.load(model_dir)
    else:
        config = modeling.config_dict(tok.get_vocab_size(), bos=bos, eos=eos, **profile["model"])
        model = modeling.build(config)
        state["model_config"] = config
    parameters = modeling.parameter_count(model)
    if 2 * parameters > profile["max_bf16_bytes"]:
        raise SystemExit(f"the model has {parameters} parameters, {2 * parameters} bytes in BF16: more than "
                         f"{profile['max_bf16_bytes']}")
    model = model.cuda()
    log(f"model: {parameters / 1e6:.2f} M parameters ({2 * parameters / 1e6:.1f} MB in BF16), {json.dumps(config)}")

    # How much of the schedule this call trains, and whether it finishes it (then it evaluates).
    trained = state["trained_seconds"]
    planned = args.train_seconds or state["train_seconds"]
    if args.stop_after is not None and planned is None:
        raise SystemExit("--stop-after needs --train-seconds: the schedule must be longer than this call")
    available = deadline - time.monotonic() - profile["reserve"] - profile["eval_generation"]
    if planned is None or args.finish or args.extend is not None:
        final = True
    elif planned - trained <= 0:
        final = True
    elif args.stop_after is not None and args.stop_after < planned - trained:
        final = False
    else:
        final = planned - trained <= 1.15 * available
    records, goldens = [], []
    if final:
        t = time.monotonic()
        records = pool.map(workers.heldout_record, heldout.plan(profile["eval_counts"]), chunksize=1)
        goldens = golden_prompts(profile, state, tok, corpus.heldout)
        log(f"held-out set: {len(records)} samples in {time.monotonic() - t:.1f} s; golden prompts "
            f"{[(n, len(tok.encode(p).ids)) for n, p in goldens]}")
        this_call = deadline - time.monotonic() - profile["reserve"]
        if args.extend is not None:
            this_call = min(args.extend, this_call)
        elif planned is not None and not args.finish:
            this_call = min(planned - trained, this_call)
        this_call = max(0.0, this_call)
        state["train_seconds"] = trained + this_call
    else:
        state["train_seconds"] = planned
        this_call = deadline - time.monotonic() - profile["checkpoint_reserve"]
        if args.stop_after is not None:
            this_call = min(args.stop_after, this_call)
    if args.extend is not None:
        schedule, schedule_start = extension_schedule(profile), trained
        extension = {"call": len(state["calls"]) + 1, "from_step": state["step"], "from_seconds": round(trained, 1),
                     "planned_seconds": round(this_call, 1), "schedule": schedule.to_json(),
                     "task_weights": weights, "answer_weight": answer_weight}
        log(f"extending the finished model by {this_call:.0f} s ({trained:.0f} s trained before) on its own "
            f"schedule {json.dumps(extension['schedule'])}; then evaluates")
    else:
        schedule, schedule_start, extension = Schedule.from_json(state["schedule"]), 0.0, None
        then = "finishes the schedule, then evaluates" if final else "then writes a checkpoint to resume from"
        log(f"training {this_call:.0f} s in this call ({trained:.0f} of {state['train_seconds']:.0f} s done "
            f"before); {then}")

    summary = trainer.train(model, pool, schedule, state, time.monotonic() + this_call, log,
                            answer_weight=answer_weight, log_every=profile["log_every"], schedule_start=schedule_start)
    pool.terminate()
    state["finished"] = final
    if extension is not None:
        state.setdefault("extensions", []).append({**extension, "steps": summary["steps"],
                                                   "tokens": summary["tokens"], "seconds": summary["seconds"]})
    state["calls"].append({"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                           "device": device, "command": command_line(argv), "final": final,
                           "extension": extension is not None, "task_weights": weights,
                           "answer_weight": answer_weight, **summary})
    log({"call_summary": summary})

    export_dir = os.path.join(work, MODEL_NAME)
    shards = modeling.export(model, config, tokenizer_file, export_dir, config["max_position_embeddings"])
    del model
    torch.cuda.empty_cache()
    for name in os.listdir(out_dir):
        if name.startswith("model-") and name.endswith(".safetensors"):
            os.remove(os.path.join(out_dir, name))
    for name in shards:
        shutil.copy(os.path.join(export_dir, name), out_dir)
    os.makedirs(os.path.join(work, "train"), exist_ok=True)
    extra = {"train/state.json": os.path.join(work, "train", "state.json"),
             "train/log.jsonl": os.path.join(work, "train", "log.jsonl")}

    def save_train_files():
        with open(extra["train/state.json"], "w") as f:
            json.dump(state, f, indent=2)
        with open(extra["train/log.jsonl"], "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in log.records)

    save_train_files()
    write_bundle(out_dir, export_dir, extra)
    log(f"exported {MODEL_NAME}: {len(shards)} shards and {MODEL_NAME}.tar")
    if not final:
        ok = check_outputs(out_dir, log)
        log(f"checkpoint written; continue with --resume pointing at a copy of {out_dir}")
        return ok

    import golden
    import modelcard
    import quality
    eval_dir = os.path.join(work, "eval")
    os.makedirs(eval_dir)
    heldout_file = os.path.join(eval_dir, "heldout.jsonl.gz")
    with gzip.GzipFile(heldout_file, "wb", mtime=0) as f:
        f.writelines((json.dumps(r) + "\n").encode("utf-8") for r in records)
    extra["eval/heldout.jsonl.gz"] = heldout_file
    write_bundle(out_dir, export_dir, extra)

    evaluated = modeling.load(export_dir).cuda()
    report = quality.evaluate(evaluated, tok, bos, eos, records, corpus.heldout, deadline - 35, log,
                              greedy_checks=profile["greedy_checks"],
                              code_prompts=quality.CODE_PROMPTS + code_heads(corpus.heldout, 2)[1:])
    del evaluated
    torch.cuda.empty_cache()
    report["hf_tokenizer"] = hf_tokenizer_check(export_dir, tok, records)
    report["model"] = {"parameters": parameters, "config": config}
    report["device"] = device
    report["train"] = {k: state[k] for k in ("seed", "eval_seed", "step", "tokens", "trained_seconds", "calls")}
    quality_file = os.path.join(eval_dir, "quality-transformers.json")
    with open(quality_file, "w") as f:
        json.dump(report, f, indent=1)
    shutil.copy(quality_file, os.path.join(out_dir, "quality.json"))
    extra["eval/quality-transformers.json"] = quality_file
    log({"quality": {length: s["needle_tasks_exact"] for length, s in report["summary"].items()}})
    for length, s in report["summary"].items():
        log(f"exact at {length}: " + ", ".join(f"{t} {c['exact']}/{c['n']}" for t, c in s["tasks"].items()))
    for sample in report["code_samples"]:
        log(f"code sample: {sample['prompt']!r} -> {sample['continuation']!r}")

    with open(os.path.join(export_dir, "README.md"), "w") as f:
        f.write(modelcard.render(config, parameters, state, device,
                                 "\n".join(c["command"] for c in state["calls"]), report, corpus.describe(),
                                 tok.get_vocab_size()))
    save_train_files()
    write_bundle(out_dir, export_dir, extra)
    if time.monotonic() < deadline - 20:
        for path in golden.write(export_dir, goldens, tok, bos, os.path.join(work, "golden"), log):
            extra[f"golden/{os.path.basename(path)}"] = path
        save_train_files()
        write_bundle(out_dir, export_dir, extra)
    else:
        log("ERROR: no time left for the golden logits")
    return check_outputs(out_dir, log)


def hf_tokenizer_check(model_dir, tok, records):
    """Whether transformers' AutoTokenizer, reading the exported files, encodes like `tokenizers`."""
    try:
        from transformers import AutoTokenizer
        hf = AutoTokenizer.from_pretrained(model_dir)
        texts = [r["prompt"][:4000] for r in records[:3]] + ["def f(x):\n    return x  # 1234567\n"]
        same = all(list(hf(t)["input_ids"]) == tok.encode(t).ids for t in texts)
        return "agrees" if same else "DIFFERS from tokenizers"
    except Exception as e:  # reported in quality.json; the Java engine reads tokenizer.json, not this
        return f"error: {type(e).__name__}: {e}"


def smoke(args, argv):
    """Part 1 trains half the schedule and checkpoints; part 2 resumes it, finishes, evaluates, exports;
    part 3 extends part 2's finished model and finishes again."""
    part1, part2, part3 = (os.path.join(args.out, f"part{i}") for i in (1, 2, 3))
    common = ["--time-budget", str(args.time_budget), "--workers", str(args.workers)]
    common += ["--work", args.work] if args.work else []
    argv1 = ["--smoke", "--out", part1, "--train-seconds", "16", "--stop-after", "8", "--seed", str(args.seed),
             "--eval-seed", str(args.eval_seed)] + common
    ok1 = run(parse_args(argv1), argv1, part1, START + args.time_budget)
    with tarfile.open(os.path.join(part1, MODEL_NAME + ".tar")) as tar:
        state1 = json.load(tar.extractfile(f"{MODEL_NAME}/train/state.json"))
    argv2 = ["--out", part2, "--resume", part1] + common
    ok2 = run(parse_args(argv2), argv2, part2, START + args.time_budget)
    with tarfile.open(os.path.join(part2, MODEL_NAME + ".tar")) as tar:
        names = set(tar.getnames())
        state2 = json.load(tar.extractfile(f"{MODEL_NAME}/train/state.json"))
        goldens = [json.load(tar.extractfile(n)) for n in sorted(names) if "/golden/" in n]
    with open(os.path.join(part2, "quality.json")) as f:
        report = json.load(f)
    argv3 = ["--out", part3, "--resume", part2, "--extend", "6", "--task-weights", "fwe=0"] + common
    ok3 = run(parse_args(argv3), argv3, part3, START + args.time_budget)
    with tarfile.open(os.path.join(part3, MODEL_NAME + ".tar")) as tar:
        state3 = json.load(tar.extractfile(f"{MODEL_NAME}/train/state.json"))
        card3 = tar.extractfile(f"{MODEL_NAME}/README.md").read().decode()
    problems = []
    if state1["finished"] or not state2["finished"] or state2["step"] <= state1["step"] or len(state2["calls"]) != 2:
        problems.append(f"resume: part 1 {state1['step']} steps finished={state1['finished']}, "
                        f"part 2 {state2['step']} steps finished={state2['finished']}")
    for member in ("config.json", "tokenizer.json", "model.safetensors.index.json", "README.md",
                   "eval/heldout.jsonl.gz", "eval/quality-transformers.json"):
        if f"{MODEL_NAME}/{member}" not in names:
            problems.append(f"{member} missing from {MODEL_NAME}.tar")
    if len(goldens) != 3 or any(len(g["logits"]) != len(g["positions"]) for g in goldens):
        problems.append(f"{len(goldens)} golden files, expected 3 with logits at every position")
    if not report["results"] or report["errors"]:
        problems.append(f"quality: {len(report['results'])} results, errors {report['errors']}")
    extensions = state3.get("extensions", [])
    if (not state3["finished"] or state3["step"] <= state2["step"] or len(state3["calls"]) != 3
            or len(extensions) != 1 or extensions[0]["task_weights"]["fwe"] != 0
            or state3["calls"][2]["tasks"].get("fwe") or "--extend" not in card3):
        problems.append(f"extension: {state3['step']} steps (before {state2['step']}), finished={state3['finished']}, "
                        f"{len(state3['calls'])} calls, extensions {extensions}, tasks {state3['calls'][-1]['tasks']}")
    if not (ok1 and ok2 and ok3):
        problems.append("outputs exceed what the GPU machine returns (see above)")
    print("SMOKE " + ("OK" if not problems else "FAILED: " + "; ".join(problems)), flush=True)
    return not problems


def main(argv):
    args = parse_args(argv)
    if args.smoke:
        if args.resume or args.train_seconds or args.stop_after:
            raise SystemExit("--smoke makes its own schedule and resume; drop --resume, --train-seconds, --stop-after")
        return 0 if smoke(args, argv) else 1
    return 0 if run(args, argv, args.out, START + args.time_budget) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
