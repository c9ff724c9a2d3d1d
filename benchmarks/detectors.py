"""Time ``analyse`` and each detector on 10,000 points per metric (``python benchmarks/detectors.py``)."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable

import numpy as np

from tui_monitor.core.analysis import analyse
from tui_monitor.core.analysis.evals import eval_status
from tui_monitor.core.analysis.grad import grad_status
from tui_monitor.core.analysis.lr import lr_status
from tui_monitor.core.analysis.progress import estimate_progress
from tui_monitor.core.analysis.smoothing import ema_debiased, ema_debiased_by_distance
from tui_monitor.core.analysis.trend import classify_trend, detect_spikes
from tui_monitor.core.parse import Record, RunInfo
from tui_monitor.core.state import Run

N = 10_000


def _timeit(fn: Callable[[], object], repeat: int = 200) -> float:
    """Median seconds per call over ``repeat`` calls (after one warm-up)."""
    fn()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main() -> None:
    rng = np.random.default_rng(0)
    x = np.arange(1, N + 1, dtype=np.float64) * 5
    loss = 2 + 4 * np.exp(-x / 10000) + rng.normal(0, 0.1, N)
    grad = 1.5 + rng.normal(0, 0.2, N)
    lr = np.array([float(f"{v:.4g}") for v in 5e-4 * np.clip((N * 5 - x) / (N * 5 - 500), 0, 1)])
    lr[:20] = np.linspace(0, 5e-4, 20)
    recs = [
        Record(
            "train",
            {"loss": float(loss[i]), "grad_norm": float(grad[i]), "learning_rate": float(lr[i])},
            step=int(x[i]),
            epoch=float(x[i] / 2000),
            offset=i * 120,
            arrival=1000.0 + i * 0.5,
        )
        for i in range(N)
    ]
    recs += [
        Record("eval", {"eval_loss": float(3 - i * 0.01)}, step=(i + 1) * 500, offset=N * 120 + i) for i in range(100)
    ]
    run = Run(capacity=N, history=2048)
    run.apply([RunInfo(total_steps=N * 5)])
    t = time.perf_counter()
    for r in recs:
        run.apply((r,))
    add_s = (time.perf_counter() - t) / len(recs)
    snap = run.snapshot()
    rows = [
        ("analyse (all detectors + reasons)", _timeit(lambda: analyse(snap, 2000.0))),
        ("run.snapshot() (3 changed series)", _timeit(lambda: (run.apply((recs[-1],)), run.snapshot()))),
        ("ema_debiased (10k)", _timeit(lambda: ema_debiased(loss, 0.6))),
        (
            "ema_debiased_by_distance (512, as analyse)",
            _timeit(lambda: ema_debiased_by_distance(x[-512:], loss[-512:], 0.6)),
        ),
        ("ema_debiased_by_distance (10k)", _timeit(lambda: ema_debiased_by_distance(x, loss, 0.6))),
        ("classify_trend (10k → 64 buckets)", _timeit(lambda: classify_trend(x, loss))),
        ("classify_trend (recent 200)", _timeit(lambda: classify_trend(x[-200:], loss[-200:]))),
        ("detect_spikes (last 512)", _timeit(lambda: detect_spikes(x[-512:], loss[-512:]))),
        ("grad_status (10k)", _timeit(lambda: grad_status(x, grad))),
        ("lr_status (10k)", _timeit(lambda: lr_status(x, lr, N * 5))),
        (
            "eval_status (100 evals)",
            _timeit(lambda: eval_status("eval_loss", x[:100], loss[:100], train_x=x, train_loss=loss)),
        ),
        ("estimate_progress", _timeit(lambda: estimate_progress(snap.progress, x, 1000.0 + x / 10, True, 2.0))),
    ]
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, {time.strftime('%Y-%m-%d')}"
    )
    print(f"run.apply: {add_s * 1e6:.2f} µs/record (3 metrics) = {1 / add_s / 1000:.0f}k records/s")
    for name, s in rows:
        print(f"{name:40s} {s * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
