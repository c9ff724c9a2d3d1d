"""Generate realistic Hugging Face Trainer console logs of any size (deterministic, seeded).

Kinds:

* ``tqdm5`` / ``tqdm4``: what ``python train.py > train.log 2>&1`` leaves with tqdm on
  (transformers 5.x quoted ``.4g`` strings / 4.x bare floats and bare ``nan``): one train-bar
  ``\\r`` update per optimizer step, a metric dict every ``--logging-steps`` steps, an eval
  bar (``\\x1b[A`` cursor-up segments) and an eval dict every ``--eval-steps`` steps, a
  checkpoint-save bar and a warning now and then, a banner at the start, a summary at the end.
  stdout is block-buffered (as with a plain redirect): the dicts reach the file in bursts
  when tqdm flushes stdout (each new eval bar) or when 8 KiB piled up, the first one of each
  burst glued to the end of a bar segment. ``--unbuffered`` writes them as ``python -u`` does.
* ``dense5`` / ``dense4``: ``disable_tqdm=True`` (PrinterCallback): one clean dict line per
  record, nothing else but the banner, the evals and the summary.
* ``write5`` / ``write4``: the dicts as ``tqdm.write`` leaves them when the train bar is drawn
  elsewhere (a second stream, a notebook) but its clears reach the file: every dict line starts
  with ``\\r`` + 60 spaces + ``\\r``; eval bars (``\\x1b[A`` segments) and no train bar; the train
  dicts switch shape in one record of twenty (``num_input_tokens_seen`` present, as with
  ``include_num_input_tokens_seen`` logged now and then); 4.x values are ``repr`` floats
  (17 significant digits for ``grad_norm`` and ``learning_rate``).

Values: a falling loss with noise, grad_norm with a share of ``nan`` (0.3 %) and ``inf``
(0.05 %), a linear-warmup/cosine learning rate, epoch; 4.x train dicts carry the integer
``num_input_tokens_seen`` (``include_num_input_tokens_seen=True``), 5.x evals print
integers bare (``'eval_samples': 512``), so the parser meets ints in both formats.

Usage::

    python benchmarks/gen_logs.py tqdm5 --size 100M -o benchmarks/data/tqdm5_100M.log
    python benchmarks/gen_logs.py dense4 --size 1G  -o benchmarks/data/dense4_1G.log
    python benchmarks/gen_logs.py tqdm5 --steps 65000 --logging-steps 10 -o run.log

``--size`` stops at the first record boundary past the size; ``--steps`` writes a whole run.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Callable
from typing import IO

KINDS = ("tqdm5", "tqdm4", "dense5", "dense4", "write5", "write4")

_BLOCKS = " ▏▎▍▌▋▊▉█"
_WARNING = (
    "/opt/conda/lib/python3.11/site-packages/torch/utils/checkpoint.py:87: UserWarning: None of the inputs "
    "have requires_grad=True. Gradients will be None\n  warnings.warn(\n"
)
_BANNER = (
    "***** Running training *****\n"
    "  Num examples = {examples:,}\n"
    "  Num Epochs = {epochs}\n"
    "  Instantaneous batch size per device = 8\n"
    "  Total train batch size (w. parallel, distributed & accumulation) = 32\n"
    "  Gradient Accumulation steps = 4\n"
    "  Total optimization steps = {steps:,}\n"
    "  Number of trainable parameters = 124,439,808\n"
)


def parse_size(text: str) -> int:
    """``100M`` / ``1G`` / ``4096`` -> bytes (binary units)."""
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().rstrip("IB")
    if t and t[-1] in mult:
        return int(float(t[:-1]) * mult[t[-1]])
    return int(t)


def _bar_chars(frac: float, width: int = 10) -> str:
    full = int(frac * width)
    rem = frac * width - full
    s = "█" * full
    if full < width:
        s += _BLOCKS[int(rem * 8)] + " " * (width - full - 1)
    return s


def _hms(sec: float) -> str:
    sec = int(sec)
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class _Bars:
    """tqdm bar segments (``\\r 17%|█▋        | 50/300 [00:09<00:44,  5.68it/s]``)."""

    def __init__(self, total: int, rate: float, desc: str = "") -> None:
        self.total = total
        self.rate = rate
        self.desc = desc
        self._pct = [f"{int(100 * i / 1000):3d}%|{_bar_chars(i / 1000)}|" for i in range(1001)]

    def seg(self, n: int, jitter: float) -> str:
        total = self.total
        pct = self._pct[n * 1000 // total] if total else self._pct[0]
        rate = self.rate * (1 + jitter)
        el = n / rate
        rem = (total - n) / rate
        return f"\r{self.desc}{pct} {n}/{total} [{_hms(el)}<{_hms(rem)}, {rate:5.2f}it/s]"


def _fmt5(v: float | int) -> str:
    if isinstance(v, int):
        return str(v)
    return f"'{v:.4g}'"


def _fmt4(key: str, v: float | int) -> str:
    if isinstance(v, int):
        return str(v)
    if key == "loss" or key.startswith("eval_loss") or key == "train_loss":
        v = round(v, 4)
    elif key == "epoch":
        v = round(v, 2)
    return repr(v)


def _dict_text(d: dict[str, float | int], fmt: str) -> str:
    if fmt == "5":
        return "{" + ", ".join(f"'{k}': {_fmt5(v)}" for k, v in d.items()) + "}"
    return "{" + ", ".join(f"'{k}': {_fmt4(k, v)}" for k, v in d.items()) + "}"


class RunModel:
    """Deterministic metric values of a run (shared with the TensorBoard writer)."""

    def __init__(
        self, steps: int, seed: int, fmt: str, steps_per_epoch: int = 2500, warmup: int = 500, peak_lr: float = 3e-4
    ) -> None:
        self.steps = steps
        self.fmt = fmt
        self.rng = random.Random(seed)
        self.steps_per_epoch = steps_per_epoch
        self.warmup = min(warmup, max(1, steps // 20))
        self.peak_lr = peak_lr
        self.tokens = 0
        self.switch = 0  # 1 in this many train dicts carries num_input_tokens_seen (0: every 4.x one)

    def lr(self, step: int) -> float:
        s = step - 1
        if s < self.warmup:
            return self.peak_lr * s / self.warmup
        prog = (s - self.warmup) / max(1, self.steps - self.warmup)
        return self.peak_lr * 0.5 * (1 + math.cos(math.pi * prog))

    def train(self, step: int, logging_steps: int) -> dict[str, float | int]:
        r = self.rng
        loss = 2.0 + 4.0 * math.exp(-step / (0.15 * self.steps + 1)) + r.gauss(0, 0.08)
        gn = abs(r.gauss(1.2, 0.35)) + 0.05
        u = r.random()
        if u < 0.003:
            gn = math.nan
        elif u < 0.0035:
            gn = math.inf
        d: dict[str, float | int] = {"loss": loss, "grad_norm": gn, "learning_rate": self.lr(step)}
        self.tokens += logging_steps * 32 * 512
        if (self.fmt == "4" and not self.switch) or (self.switch and step % (self.switch * logging_steps) == 0):
            d["num_input_tokens_seen"] = self.tokens
        d["epoch"] = step / self.steps_per_epoch
        return d

    def eval(self, step: int) -> dict[str, float | int]:
        r = self.rng
        loss = 2.1 + 4.0 * math.exp(-step / (0.15 * self.steps + 1)) + r.gauss(0, 0.02)
        rt = 12.0 + r.random()
        d: dict[str, float | int] = {
            "eval_loss": loss,
            "eval_runtime": rt,
            "eval_samples_per_second": 512 / rt,
            "eval_steps_per_second": 16 / rt,
        }
        if self.fmt == "5":
            d["eval_samples"] = 512
        d["epoch"] = step / self.steps_per_epoch
        return d


def generate(
    out: IO[bytes],
    kind: str,
    *,
    size: int | None = None,
    steps: int | None = None,
    logging_steps: int = 10,
    eval_steps: int = 500,
    save_steps: int = 2000,
    seed: int = 0,
    unbuffered: bool = False,
    on_record: Callable[[str, int, dict[str, float | int]], None] | None = None,
) -> dict[str, int]:
    """Write a log of ``kind`` to ``out``; return counts (bytes, train/eval records, steps).

    Exactly one of ``size`` (bytes, stops at the first record past it, then writes the
    summary) and ``steps`` (a whole run) is used. ``on_record(kind, step, values)`` sees
    every record written (the TensorBoard benchmark writes the same values there).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    fmt = kind[-1]
    write = kind.startswith("write")  # tqdm.write's clears before each dict, no train bar
    dense = kind.startswith("dense") or write
    clear = "\r" + " " * 60 + "\r" if write else ""
    total = steps if steps is not None else 10**9
    if steps is None:
        # Choose a plausible total so the bar's `n/total` looks like a long run.
        total = 1_000_000 if size is None else max(10_000, int(size * logging_steps / 60) if dense else int(size / 40))
    model = RunModel(total, seed, fmt)
    if write:
        model.switch = 20
    rng = random.Random(seed + 1)
    bars = _Bars(total, 5.6)
    ebars = _Bars(32, 24.0)
    parts: list[str] = []
    pending: list[str] = []  # block-buffered stdout
    pending_len = 0
    written = 0
    counts = {"train": 0, "eval": 0, "steps": 0}
    enc_written = [0]

    def emit_stderr(s: str) -> None:
        parts.append(s)

    def stdout(s: str) -> None:
        nonlocal pending_len
        if dense or unbuffered:
            parts.append(s)
            return
        pending.append(s)
        pending_len += len(s)
        if pending_len >= 8192:
            flush_stdout()

    def flush_stdout() -> None:
        nonlocal pending_len
        if pending:
            parts.append("".join(pending))
            pending.clear()
            pending_len = 0

    def drain() -> None:
        data = "".join(parts).encode()
        parts.clear()
        out.write(data)
        enc_written[0] += len(data)

    emit_stderr(
        "[transformers] `loss_type=None` was set in the config but it is unrecognized. "
        "Using the default loss: `ForCausalLMLoss`.\n"
    )
    stdout(_BANNER.format(examples=total * 32, epochs=max(1, total // model.steps_per_epoch), steps=total))
    if not dense:
        emit_stderr(bars.seg(0, 0).replace("00:00<", "00:00<").split(" [")[0] + " [00:00<?, ?it/s]")
        emit_stderr(_WARNING)
    step = 0
    while step < total:
        step += 1
        if not dense:
            emit_stderr(bars.seg(step, rng.uniform(-0.02, 0.02)))
        if step % logging_steps == 0:
            d = model.train(step, logging_steps)
            if not dense:
                emit_stderr("\r" + " " * 48 + "\r")
            stdout(clear + _dict_text(d, fmt) + "\n")
            if not dense:
                emit_stderr(bars.seg(step, 0.0))
            counts["train"] += 1
            if on_record is not None:
                on_record("train", step, d)
        if step % eval_steps == 0:
            e = model.eval(step)
            if not dense:
                flush_stdout()  # tqdm creating the eval bar flushes stdout
                emit_stderr("\n" + ebars.seg(0, 0).split(" [")[0] + " [00:00<?, ?it/s]\x1b[A")
                for n in (8, 16, 24, 31):
                    emit_stderr("\n" + ebars.seg(n, rng.uniform(-0.1, 0.1)) + "\x1b[A")
                emit_stderr("\r" + " " * 48 + "\r\n\r" + " " * 45 + "\r\x1b[A")
            elif write:
                emit_stderr(ebars.seg(0, 0).split(" [")[0] + " [00:00<?, ?it/s]\x1b[A")
                for n in (8, 16, 24, 31):
                    emit_stderr("\n" + ebars.seg(n, rng.uniform(-0.1, 0.1)) + "\x1b[A")
                emit_stderr("\n")
            stdout(clear + _dict_text(e, fmt) + "\n")
            if not dense:
                emit_stderr(bars.seg(step, 0.0) + "\n" + ebars.seg(32, 0.0) + "\x1b[A\n\r" + " " * 45 + "\x1b[A")
            counts["eval"] += 1
            if on_record is not None:
                on_record("eval", step, e)
        if step % save_steps == 0 and not dense:
            emit_stderr(
                "\n\rWriting model shards:   0%|          | 0/1 [00:00<?, ?it/s]\x1b[A"
                "\rWriting model shards: 100%|██████████| 1/1 [00:00<00:00, 325.59it/s]\n"
            )
            if rng.random() < 0.3:
                emit_stderr(_WARNING)
        if len(parts) > 256:
            drain()
            written = enc_written[0]
            if size is not None and written >= size and step % logging_steps == 0:
                break
    counts["steps"] = step
    summ = {
        "train_runtime": step / 5.6,
        "train_samples_per_second": 5.6 * 32,
        "train_steps_per_second": 5.6,
        "train_loss": 3.1,
        "epoch": step / model.steps_per_epoch,
    }
    if not dense:
        emit_stderr("\r" + " " * 49 + "\r")
    stdout(clear + _dict_text(summ, fmt) + "\n")
    flush_stdout()
    if not dense:
        emit_stderr(bars.seg(step, 0.0) + "\n")
    drain()
    counts["bytes"] = enc_written[0]
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=KINDS)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--size", type=parse_size, help="approximate size: 100M, 1G, ...")
    g.add_argument("--steps", type=int, help="write a whole run of this many optimizer steps")
    ap.add_argument("--logging-steps", type=int, default=10)
    ap.add_argument("--eval-steps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--unbuffered", action="store_true", help="dicts written as with python -u")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args(argv)
    with open(a.output, "wb", buffering=1 << 20) as f:
        c = generate(
            f,
            a.kind,
            size=a.size,
            steps=a.steps,
            logging_steps=a.logging_steps,
            eval_steps=a.eval_steps,
            seed=a.seed,
            unbuffered=a.unbuffered,
        )
    print(
        f"{a.output}: {c['bytes']:,} bytes, {c['train']:,} train + {c['eval']:,} eval records + 1 summary, "
        f"{c['steps']:,} steps",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
