"""Write the bundled ``hf4_exploding_nan`` demo log: a synthetic Trainer 4.x console log.

Deterministic (fixed seed): run ``python scripts/make_exploding_log.py`` to regenerate
``tui_monitor/data/hf4_exploding_nan.log`` and its ``.chunks.tsv`` (``t_seconds
byte_offset n_bytes`` per write, the same layout as the real fixtures' chunk files).

The story: a GPT-style fine-tune in transformers 4.x format (bare floats, ``tqdm.write``
clearing the bar before each dict) whose loss falls normally for ~100 steps; the LR's
peak is too high, the gradient norm grows by orders of magnitude from step ~110, the
loss spikes, and from step 138 grad_norm is NaN while the logged loss stays finite
(``logging_nan_inf_filter`` hides NaN losses). The run keeps going to step 180 of 300
and the file stops there, as a live run would look.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tui_monitor" / "data" / "hf4_exploding_nan"
TOTAL = 300
LAST = 180
WARMUP = 30
PEAK_LR = 8e-4
RATE = 4.2  # it/s
BAR_W = 10


def _bar(step: int, elapsed: float) -> str:
    frac = step / TOTAL
    full = int(frac * BAR_W)
    part = " ▏▎▍▌▋▊▉"[int((frac * BAR_W - full) * 8)] if full < BAR_W else ""
    bar = ("█" * full + part).ljust(BAR_W)
    left = (TOTAL - step) / RATE

    def t(s: float) -> str:
        s = int(s)
        return f"{s // 60:02d}:{s % 60:02d}"

    return f"{int(frac * 100):3d}%|{bar}| {step}/{TOTAL} [{t(elapsed)}<{t(left)}, {RATE:5.2f}it/s]"


def main() -> None:
    """Generate the log and its chunk timings."""
    rng = np.random.default_rng(20240611)
    writes: list[tuple[float, str]] = []
    t = 0.0
    head = (
        "[INFO|trainer.py:2128] 2024-06-11 14:02:11,532 >> ***** Running training *****\n"
        "[INFO|trainer.py:2129] 2024-06-11 14:02:11,532 >>   Num examples = 9,600\n"
        "[INFO|trainer.py:2130] 2024-06-11 14:02:11,532 >>   Num Epochs = 1\n"
        "[INFO|trainer.py:2131] 2024-06-11 14:02:11,532 >>   Instantaneous batch size per device = 32\n"
        "[INFO|trainer.py:2134] 2024-06-11 14:02:11,532 >>   Total train batch size"
        " (w. parallel, distributed & accumulation) = 32\n"
        "[INFO|trainer.py:2135] 2024-06-11 14:02:11,532 >>   Gradient Accumulation steps = 1\n"
        "[INFO|trainer.py:2136] 2024-06-11 14:02:11,532 >>   Total optimization steps = 300\n"
        "[INFO|trainer.py:2137] 2024-06-11 14:02:11,533 >>   Number of trainable parameters = 124,439,808\n"
    )
    writes.append((t, head))
    t += 1.5
    writes.append((t, "\r" + _bar(0, 0.0).replace(" 0/300 [00:00<01:11,  4.20it/s]", " 0/300 [00:00<?, ?it/s]")))
    loss_acc: list[float] = []
    last_logged_loss = 6.3
    for step in range(1, LAST + 1):
        t += 1.0 / RATE
        # the LR the scheduler used for this step (linear warmup, then linear decay)
        lr = PEAK_LR * (step - 1) / WARMUP if step <= WARMUP else PEAK_LR * (TOTAL - step + 1) / (TOTAL - WARMUP)
        if step < 110:
            base = 2.4 + 3.9 * math.exp(-step / 35.0)
            loss = base + rng.normal(0, 0.06)
        elif step < 138:
            k = step - 110
            loss = 2.6 + 0.02 * k * k + rng.normal(0, 0.3)
        else:
            loss = float("nan")
        loss_acc.append(loss)
        writes.append((t, "\r" + _bar(step, step / RATE)))
        if step % 5 == 0:
            finite = [x for x in loss_acc if math.isfinite(x)]
            if len(finite) == len(loss_acc):
                logged = sum(finite) / len(finite)
            else:
                logged = last_logged_loss  # logging_nan_inf_filter: NaN losses replaced
            last_logged_loss = logged
            loss_acc = []
            if step < 110:
                gn = 1.2 + 2.5 * math.exp(-step / 20.0) + abs(rng.normal(0, 0.15))
            elif step < 138:
                gn = 1.6 * 10 ** ((step - 105) / 8.0) * (1 + abs(rng.normal(0, 0.2)))
            else:
                gn = float("nan")
            gn_s = "nan" if math.isnan(gn) else repr(round(gn, 4))
            rec = (
                f"{{'loss': {round(logged, 4)!r}, 'grad_norm': {gn_s}, "
                f"'learning_rate': {lr!r}, 'epoch': {round(step / TOTAL, 2)!r}}}"
            )
            writes.append((t + 0.01, "\r" + " " * 48 + "\r" + rec + "\n"))
            writes.append((t + 0.02, "\r" + _bar(step, step / RATE)))
            t += 0.02
    data = "".join(w for _, w in writes).encode()
    OUT.with_suffix(".log").write_bytes(data)
    rows = ["t_seconds\tbyte_offset\tn_bytes"]
    off = 0
    for ts, w in writes:
        n = len(w.encode())
        rows.append(f"{ts:.3f}\t{off}\t{n}")
        off += n
    OUT.with_suffix(".chunks.tsv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
