"""LR phase and schedule on curves generated with transformers' scheduler formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_monitor.core.analysis.lr import lr_status

BASE = 5e-4


def _sched(name: str, s: float, warmup: int, total: int) -> float:
    """Multiplier at optimizer step ``s``, as in transformers/optimization.py."""
    if name == "constant":
        return 1.0
    if s < warmup:
        return s / max(1, warmup)
    if name == "constant_with_warmup":
        return 1.0
    p = (s - warmup) / max(1, total - warmup)
    if name == "linear":
        return max(0.0, (total - s) / max(1, total - warmup))
    if name == "cosine":
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 2 * 0.5 * p)))
    if name == "cosine_with_restarts":  # num_cycles=2
        if p >= 1.0:
            return 0.0
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((2 * p) % 1.0))))
    if name == "polynomial":  # lr_end=1e-7, power=1.0
        lr_end = 1e-7
        if s > total:
            return lr_end / BASE
        return ((BASE - lr_end) * (1 - p) ** 1.0 + lr_end) / BASE
    if name == "warmup_stable_decay":  # stable 40 %, decay 40 % of the run, cosine decay
        stable = int(0.4 * total)
        decay = total - warmup - stable
        if s < warmup + stable:
            return 1.0
        q = (s - warmup - stable) / decay
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 2 * 0.5 * q)))
    raise ValueError(name)


def _curve(name: str, warmup: int = 30, total: int = 600, every: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Logged (step, lr) every ``every`` steps; the lr of step s is the schedule at s-1, printed .4g."""
    steps = np.arange(every, total + 1, every, dtype=np.float64)
    lr = np.array([float(f"{BASE * _sched(name, s - 1, warmup, total):.4g}") for s in steps])
    return steps, lr


@pytest.mark.parametrize(
    ("name", "schedule", "phase"),
    [
        ("linear", "linear", "finished"),
        ("cosine", "cosine", "finished"),
        ("cosine_with_restarts", "cosine_with_restarts", "finished"),
        ("polynomial", "linear", "finished"),
        ("constant", "constant", "constant"),
        ("constant_with_warmup", "constant_with_warmup", "hold"),
        ("warmup_stable_decay", "warmup_stable_decay", "finished"),
    ],
)
def test_schedules_from_transformers_formulas(name: str, schedule: str, phase: str) -> None:
    # GIVEN a whole run logged every 5 steps with 4 significant digits
    x, lr = _curve(name)
    # WHEN the LR detector reads it
    st = lr_status(x, lr, total_steps=600)
    # THEN the schedule and the phase are named right and the peak is the configured LR
    assert st.schedule == schedule
    assert st.phase == phase
    # (linear decay has started by the first post-warmup log: 0.993 × peak is the largest logged)
    assert st.peak == pytest.approx(BASE, rel=1e-2)
    if name != "constant":
        assert st.warmup_end_x == 35.0  # first logged point at the peak (schedule value at step 34 > 30)
    assert st.stuck_zero_x is None


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_mid_run_is_decay_with_the_right_shape(name: str) -> None:
    x, lr = _curve(name)
    st = lr_status(x[:70], lr[:70])  # up to step 350 of 600
    assert st.phase == "decay"
    assert st.schedule == name


def test_warmup_in_progress_and_tiny_lrs_are_warmup() -> None:
    x = np.arange(1, 51, dtype=np.float64)
    lr = x * 9.803921568627451e-10  # LLaMA-Factory rm: 1e-9 .. 5e-8, warmup over 5100 steps
    st = lr_status(x, lr)
    assert st.phase == "warmup"
    assert st.stuck_zero_x is None


def test_three_line_example_is_decay_after_warmup() -> None:
    st = lr_status(np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.0002, 0.000199]))
    assert st.phase == "decay"
    assert st.peak == 0.0002
    assert st.warmup_end_x == 1.0
    assert st.stuck_zero_x is None


def test_zero_at_start_and_end_is_normal_but_zero_mid_run_is_stuck() -> None:
    x, lr = _curve("linear", warmup=0)
    assert lr_status(x, np.concatenate([[0.0], lr, [0.0]])[: x.shape[0]]).stuck_zero_x is None
    stuck = lr.copy()
    stuck[40:50] = 0.0  # abrupt drop to 0 mid-run, then back
    st = lr_status(x, stuck)
    assert st.stuck_zero_x == x[40]
    abrupt = lr.copy()
    abrupt[60:] = 0.0  # a high LR that suddenly becomes 0 until the end
    assert lr_status(x, abrupt).stuck_zero_x == x[60]
    assert lr_status(np.arange(5.0), np.zeros(5)).stuck_zero_x == 0.0


def test_nan_points_are_ignored_and_empty_is_unknown() -> None:
    x, lr = _curve("linear")
    lr = lr.copy()
    lr[10] = np.nan
    assert lr_status(x, lr).schedule == "linear"
    assert lr_status(np.zeros(0), np.zeros(0)).phase == "unknown"
