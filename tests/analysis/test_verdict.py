"""analyse(): the verdict and its ordered bilingual reasons on synthetic runs."""

from __future__ import annotations

import numpy as np

from tui_monitor.core.analysis import analyse
from tui_monitor.core.parse import Event, Record, RunInfo
from tui_monitor.core.state import Run, RunSnapshot
from tui_monitor.core.text import reason_text

RNG = np.random.default_rng(7)


def _snap(records: list[Record], *extra: object) -> RunSnapshot:
    """A run's snapshot after ``records`` and then ``extra`` items (events, run facts)."""
    run = Run()
    run.apply([*records, *extra])
    return run.snapshot()


def _run(
    n: int,
    loss: np.ndarray,
    grad: np.ndarray | None = None,
    t0: float = 1000.0,
    extra: dict[str, np.ndarray] | None = None,
) -> list[Record]:
    out = []
    for i in range(n):
        m = {"loss": float(loss[i]), "learning_rate": 1e-4}
        if grad is not None:
            m["grad_norm"] = float(grad[i])
        for k, v in (extra or {}).items():
            m[k] = float(v[i])
        out.append(Record("train", m, step=(i + 1) * 10, epoch=(i + 1) / 100, offset=i * 100, arrival=t0 + i))
    return out


def test_healthy_run_is_healthy_with_ok_reasons_in_both_languages() -> None:
    n = 200
    loss = 2 + 3 * np.exp(-np.arange(n) / 50) + RNG.normal(0, 0.05, n)
    h = analyse(_snap(_run(n, loss, 1.5 + RNG.normal(0, 0.1, n)), RunInfo(total_steps=4000)), now=1000.0 + n)
    assert h.status == "healthy"
    assert {"loss_decreasing", "grad_ok", "lr_constant", "run_running", "epoch_advancing"} <= set(h.codes)
    assert all(reason_text(r, "en") and reason_text(r, "ru") for r in h.reasons)
    assert h.progress.steps_per_s is not None and abs(h.progress.steps_per_s - 10.0) < 1e-6
    assert h.progress.eta_s is not None and abs(h.progress.eta_s - 200.0) < 1e-6


def test_exploding_and_diverging_run_is_critical_most_severe_first() -> None:
    n = 80
    loss = np.concatenate([np.linspace(3, 2, 60), 2 * np.exp(np.arange(20) / 4)])
    grad = np.concatenate([np.full(60, 1.0), np.logspace(1, 4, 20)])
    h = analyse(_snap(_run(n, loss, grad)))
    assert h.status == "critical"
    assert "loss_diverging" in h.codes and "grad_exploding" in h.codes
    sev = [r.severity for r in h.reasons]
    assert sev == sorted(sev, key=["critical", "warning", "info", "ok"].index)


def test_grpo_zero_loss_is_not_a_plateau_and_dpo_degenerate_is_a_warning() -> None:
    n = 30
    grpo = _run(n, np.zeros(n), np.full(n, 0.1), extra={"reward": np.linspace(1.5, 2.0, n), "kl": np.full(n, 5e-4)})
    h = analyse(_snap(grpo))
    assert "loss_plateau" not in h.codes and "loss_zero_expected" in h.codes and h.task == "grpo"
    dpo = _run(
        10,
        np.array([0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01, 0.0, 0.0, 0.0]),
        extra={"rewards/accuracies": np.full(10, 1.0), "rewards/margins": np.linspace(1, 20, 10)},
    )
    h2 = analyse(_snap(dpo))
    assert "dpo_degenerate" in h2.codes and h2.status == "warning"


def test_crash_after_the_last_record_and_stall() -> None:
    n = 50
    recs = _run(n, np.linspace(3, 2, n))
    oom = Event("oom", "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", offset=10**6)
    h = analyse(_snap(recs, oom))
    assert h.status == "critical" and h.reasons[0].code == "run_crashed"
    assert "CUDA out of memory" in reason_text(h.reasons[0], "en")
    stalled = analyse(_snap(recs), now=1000.0 + n + 600)
    assert "run_stalled" in stalled.codes and stalled.state.word == "stalled"


def test_overfitting_and_nonfinite_loss() -> None:
    n = 100
    recs = _run(n, np.linspace(3, 1, n))
    for i, v in enumerate([2.0, 1.8, 1.7, 1.75, 1.9]):
        recs.append(Record("eval", {"eval_loss": v}, step=(i + 1) * 200, offset=10**5 + i))
    h = analyse(_snap(recs))
    assert "eval_overfitting" in h.codes and h.eval.best == 1.7
    bad = _run(n, np.concatenate([np.linspace(3, 2, n - 1), [np.nan]]))
    h2 = analyse(_snap(bad))
    assert h2.status == "critical" and h2.reasons[0].code == "loss_nonfinite"


def test_empty_store() -> None:
    # GIVEN a run with no record WHEN judged THEN no verdict is invented: no data, and why
    h = analyse(Run().snapshot(), bytes_read=120)
    assert h.status == "no_data" and h.codes == ["no_data"]
    assert reason_text(h.reasons[0]) == "no metric record in 120 bytes read"
