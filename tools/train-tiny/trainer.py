"""The training loop: float32 weights, BF16 autocast, SDPA (flash) attention, AdamW, a time-based schedule.

The schedule (schedule.py) runs on training time. The data behind step k at length L is fixed by
the seed, so two runs differ only in where the stage boundaries fall.

The loss is the mean over real-text tokens plus answer_weight times the mean over answer tokens
(answers and the EOS after them); instructions, noise and needles carry no loss.
"""
import collections
import time

import torch
import torch.nn.functional as F

import tasks
from schedule import progress as schedule_progress


def optimizer(model, lr, weight_decay):
    matrices = [p for p in model.parameters() if p.ndim >= 2]
    vectors = [p for p in model.parameters() if p.ndim < 2]
    return torch.optim.AdamW([{"params": matrices, "weight_decay": weight_decay},
                              {"params": vectors, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8, fused=True)


def loss_terms(model, ids, classes):
    """Mean loss over text tokens, over answer tokens, their counts and the answer tokens predicted right."""
    inputs, targets, cls = ids[:, :-1], ids[:, 1:].reshape(-1), classes[:, 1:].reshape(-1)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        hidden = model.model(input_ids=inputs, use_cache=False).last_hidden_state
        logits = model.lm_head(hidden).flatten(0, 1)
    per_token = F.cross_entropy(logits.float(), targets, reduction="none")
    text = cls == tasks.LM
    answer = cls == tasks.ANSWER
    n_text, n_answer = text.sum(), answer.sum()
    loss_text = (per_token * text).sum() / n_text.clamp(min=1)
    loss_answer = (per_token * answer).sum() / n_answer.clamp(min=1)
    right = ((logits.argmax(-1) == targets) & answer).sum()
    return loss_text, loss_answer, n_text, n_answer, right


def train(model, pool, schedule, state, train_until, log, answer_weight=1.0, weight_decay=0.1, depth=24,
          log_every=15.0, schedule_start=0.0):
    """Trains from state['step'] until the schedule ends or the monotonic clock reaches train_until.

    state holds step, trained_seconds, train_seconds (where the schedule ends) and tokens; it is updated.
    The schedule starts at schedule_start seconds of training (0, or where an extension begins).
    """
    import workers
    device = next(model.parameters()).device
    model.train()
    opt = optimizer(model, schedule.peak_lr, weight_decay)
    resumed = state["step"] > 0
    before, total = state["trained_seconds"], state["train_seconds"]
    start = time.monotonic()

    def progress(now):
        return schedule_progress(before + now - start, schedule_start, total)

    pending = collections.deque()
    next_step = state["step"]

    def submit():
        nonlocal next_step
        stage = schedule.stage(min(1.0, progress(time.monotonic())))
        pending.append((next_step, stage, pool.apply_async(workers.train_batch, (next_step, stage.length, stage.rows))))
        next_step += 1

    for _ in range(depth):
        submit()
    call_step, tokens, waited = 0, 0, 0.0
    sums = torch.zeros(5, device=device)
    window_steps, window_tokens, window_start = 0, 0, start
    task_counts, misfits = collections.Counter(), 0
    last_log = start
    while True:
        now = time.monotonic()
        p = progress(now)
        if p >= 1.0 or now >= train_until:
            break
        step, stage, result = pending.popleft()
        t = time.monotonic()
        ids, classes, stats = result.get(timeout=300)  # a data process that died must not hang the run
        waited += time.monotonic() - t
        submit()
        x = torch.from_numpy(ids).to(device).long()
        c = torch.from_numpy(classes).to(device)
        lr = schedule.lr(p, step, call_step, resumed)
        for group in opt.param_groups:
            group["lr"] = lr
        loss_text, loss_answer, n_text, n_answer, right = loss_terms(model, x, c)
        (loss_text + answer_weight * loss_answer).backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sums += torch.stack([loss_text.detach(), loss_answer.detach(), n_answer.float(), right.float(),
                             grad_norm.detach().float()])
        state["step"] = step + 1
        call_step += 1
        n = ids.shape[0] * (ids.shape[1] - 1)
        tokens += n
        window_steps += 1
        window_tokens += n
        task_counts.update(stats["tasks"])
        misfits += stats["misfits"]
        now = time.monotonic()
        if now - last_log >= log_every or call_step == 1:
            s = (sums / window_steps).tolist()
            log({
                "step": state["step"], "progress": round(p, 4), "length": stage.length, "rows": stage.rows,
                "lr": lr, "loss_text": round(s[0], 4), "loss_answer": round(s[1], 4),
                "answer_token_accuracy": round(s[3] / max(s[2], 1e-9), 4), "grad_norm": round(s[4], 3),
                "tokens_per_s": round(window_tokens / max(now - window_start, 1e-9)),
                "data_wait_s": round(waited, 1), "gpu_mem_gib": round(torch.cuda.max_memory_allocated() / 2 ** 30, 1),
            })
            sums.zero_()
            window_steps, window_tokens, window_start, last_log = 0, 0, now, now
    torch.cuda.synchronize()
    elapsed = time.monotonic() - start
    state["trained_seconds"] = before + elapsed
    state["tokens"] = state.get("tokens", 0) + tokens
    return {"steps": call_step, "tokens": tokens, "seconds": round(elapsed, 1), "data_wait_s": round(waited, 1),
            "tasks": dict(sorted(task_counts.items())), "misfit_samples": misfits}
