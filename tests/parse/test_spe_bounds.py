"""`spe_bounds` (one (n, 10) pass for a batch) and `spe_bounds_one` (plain floats, for one
pairing) give the very floats of the formula they replaced (nine ``np.round`` calls over the
whole array), on epochs printed with 0..9 decimals, large and tiny epochs, repr-length values
and values whose decimals cannot be told."""

from __future__ import annotations

import random

import numpy as np
import pytest
from helpers import scan_path
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_monitor.core.parse import accel
from tui_monitor.core.parse.epoch_bounds import FAST_EPOCHS, spe_bounds, spe_bounds_one, spe_bounds_span
from tui_monitor.core.parse.steps import StepTracker


def reference(steps: np.ndarray, epochs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The formula before: the fewest decimals found by nine ``np.round`` passes."""
    dec = np.full(epochs.shape, 9)
    with np.errstate(over="ignore", invalid="ignore"):  # epochs near the float maximum
        for d in range(8, -1, -1):
            dec = np.where(np.abs(np.round(epochs, d) - epochs) <= 1e-9 * np.maximum(1.0, epochs), d, dec)
    half = 0.5 * 10.0 ** (-dec.astype(np.float64))
    slack = np.floor(epochs) + 0.5
    with np.errstate(divide="ignore"):
        lo = (steps - slack) / (epochs + half)
        hi = np.where(epochs > half, (steps + slack) / np.maximum(epochs - half, 1e-300), np.inf)
    return lo, hi


def printed_epochs(rng: random.Random, n: int) -> list[float]:
    """Epochs as a log prints them: ``step / steps_per_epoch`` with 0..9 decimals (``%.Nf``),
    ``.4g`` (transformers 5.x), ``repr`` (4.x), plus large, tiny and odd values."""
    out: list[float] = []
    for _ in range(n):
        spe = rng.choice([1, 3, 7, 45.5, 100, 1234, 999_983, rng.uniform(1, 5000)])
        epoch = rng.randint(1, 2_000_000) / spe
        how = rng.randrange(14)
        if how < 10:
            out.append(float(f"{epoch:.{how}f}"))
        elif how == 10:
            out.append(float(f"{epoch:.4g}"))
        elif how == 11:
            out.append(epoch)  # repr: all 17 digits
        elif how == 12:
            out.append(float(f"{rng.uniform(1e6, 1e15):.{rng.randrange(4)}f}"))  # large epochs
        else:
            out.append(rng.choice([0.05, 0.1, 0.3, 1e-9, 5e-324, 2.5, 1e300, 1.7976931348623157e308, 123456.789]))
    return out


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_batch_and_scalar_equal_the_formula_before() -> None:
    rng = random.Random(16)
    epochs = printed_epochs(rng, 20_000)
    steps = [float(rng.choice([rng.randint(1, 10**6), rng.randint(1, 10)])) for _ in epochs]
    # Batches of every length numpy's kernels treat apart (1, SIMD widths, their tails, large).
    i = 0
    for k in [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 64, 65, 1000, 10_000]:
        s, e = np.array(steps[i : i + k]), np.array(epochs[i : i + k])
        want_lo, want_hi = reference(s, e)
        got_lo, got_hi = spe_bounds(s, e)
        assert same_bits(got_lo, want_lo) and same_bits(got_hi, want_hi), f"batch of {k}"
        i = (i + k) % (len(epochs) - 10_000)
    for step, epoch in zip(steps, epochs):
        want_lo, want_hi = reference(np.array([step]), np.array([epoch]))
        got = spe_bounds_one(step, epoch)
        assert np.array([got[0]]).tobytes() == want_lo.tobytes(), (step, epoch)
        assert np.array([got[1]]).tobytes() == want_hi.tobytes(), (step, epoch)


def test_decimals_are_read_as_printed() -> None:
    # 2.344 is exact to 0.0005, 5.27 to 0.005, 3.0 to 0.5: hi - lo narrows as decimals grow.
    lo, hi = spe_bounds(np.array([2344.0, 527.0, 300.0]), np.array([2.344, 5.27, 3.0]))
    assert lo.tolist() == pytest.approx([(2344 - 2.5) / 2.3445, (527 - 5.5) / 5.275, (300 - 3.5) / 3.5], rel=1e-12)
    assert hi.tolist() == pytest.approx([(2344 + 2.5) / 2.3435, (527 + 5.5) / 5.265, (300 + 3.5) / 2.5], rel=1e-12)
    assert spe_bounds_one(2344.0, 2.344) == (lo[0], hi[0])


@settings(max_examples=300, deadline=None)
@given(
    epoch=st.floats(min_value=0.05, max_value=1e18, allow_nan=False, allow_infinity=False),
    decimals=st.integers(min_value=0, max_value=9),
    step=st.integers(min_value=1, max_value=10**9),
)
def test_scalar_equals_batch_on_any_epoch(epoch: float, decimals: int, step: int) -> None:
    for e in (epoch, float(f"{epoch:.{decimals}f}") or 0.05):
        lo, hi = spe_bounds(np.array([float(step)]), np.array([e]))
        assert spe_bounds_one(float(step), e) == (float(lo[0]), float(hi[0]))
        assert reference(np.array([float(step)]), np.array([e]))[0].tobytes() == lo.tobytes()


def test_non_finite_epochs_take_the_array_form() -> None:
    with np.errstate(invalid="ignore"):
        for e in (float("inf"), float("nan")):
            want = reference(np.array([10.0]), np.array([e]))
            got = spe_bounds_one(10.0, e)
            assert np.array(got).tobytes() == np.concatenate(want).tobytes()


def test_check_disables_on_a_shifted_pairing() -> None:
    # 100 steps per epoch: step 1234 at 12.34 allows 98.95..101.05 steps per epoch; step 1300 at
    # 12.34 is inside the 10 % ratio tolerance but needs at least 104.3.
    t = StepTracker()
    assert t.check(100, 1.0) and t.check(1234, 12.34)
    assert t.enabled and t.steps_per_epoch == 100.0
    assert not t.check(1300, 12.34)
    assert not t.enabled


def test_span_equals_the_extremes_of_the_batch_form() -> None:
    # GIVEN printed epochs within FAST_EPOCHS (the common case of a columnar run), in batches
    rng = random.Random(1616)
    lo_ok, hi_ok = FAST_EPOCHS
    epochs = [e for e in printed_epochs(rng, 20_000) if lo_ok <= e <= hi_ok]
    steps = [float(rng.randint(1, 10**7)) for _ in epochs]
    i = 0
    for k in [1, 2, 3, 7, 8, 9, 15, 16, 17, 45, 64, 65, 1000]:
        s, e = np.array(steps[i : i + k]), np.array(epochs[i : i + k])
        # WHEN the span of what they allow is taken in one go
        got = spe_bounds_span(s, e)
        # THEN it is the extremes of the batch form, bit for bit
        lo, hi = spe_bounds(s, e)
        assert np.array(got).tobytes() == np.array([lo.max(), hi.min()]).tobytes(), f"batch of {k}"
        assert np.isfinite(hi).all()  # every epoch above its half unit: no infinite bound dropped
        i += k


def _peek_both_ways(steps: list[int], epochs: np.ndarray, learn: tuple[int, float] | None) -> list[object]:
    """`StepTracker.peek_batch` over every queued step on the compiled and the Python path (each
    tracker having first checked the pairing ``learn``): the result and the bounds kept, by bits."""
    got = []
    for compiled in (True, False):
        with scan_path(compiled):
            t = StepTracker()
            if learn is not None:
                t.check(*learn)
            t.queue_steps(steps)
            res = t.peek_batch(epochs, len(steps))
        got.append(
            (
                None if res is None else (res[0].tobytes(), None if res[1] is None else np.float64(res[1]).tobytes()),
                None if t._peeked is None else np.array(t._peeked).tobytes(),
            )
        )
    return got


@pytest.mark.skipif(accel.scan is None, reason="the C extension is not built here")
def test_compiled_peek_equals_python_peek() -> None:
    # GIVEN random batches of queued steps and their records' epochs: printed epochs, steps that
    # agree with them or are shifted by a few logging steps, odd epochs (0, < 0.05, NaN, inf,
    # huge) and steps 0, with or without a pairing learnt before
    rng = random.Random(2026)
    outcomes = {"paired": 0, "refused": 0}
    for _ in range(3000):
        k = rng.choice([1, 2, 3, 8, 17, 45, 49, 65])
        spe = rng.choice([7.0, 45.5, 100.0, 1234.0, rng.uniform(1, 5000)])
        start = rng.randint(1, 10**6)
        steps = [start + 5 * i for i in range(k)]
        digits = rng.choice([2, 3, 4, 17])
        epochs = np.array([float(f"{s / spe:.{digits}g}") for s in steps])
        if rng.random() < 0.2:  # a pairing shifted by a missing event
            j = rng.randrange(k)
            steps[j:] = [s + rng.choice([5, 50, 5000]) for s in steps[j:]]
        if rng.random() < 0.15:
            epochs[rng.randrange(k)] = rng.choice([0.0, 0.04, 0.05, float("nan"), float("inf"), 1e300, -1.0])
        if rng.random() < 0.05:
            steps[rng.randrange(k)] = 0
        learn = None
        if rng.random() < 0.5:
            s0 = max(1, start - rng.choice([5, 500, 50000]))
            learn = (s0, float(f"{s0 / spe * rng.choice([1.0, 1.0, 1.3]):.4g}"))
        # WHEN each path peeks at the batch
        compiled, python = _peek_both_ways(steps, epochs, learn)
        # THEN the same steps, steps per epoch and bounds (bit for bit), or the same refusal
        assert compiled == python, (steps, epochs.tolist(), learn)
        outcomes["paired" if python[0] is not None else "refused"] += 1
    assert outcomes["paired"] > 1000 and outcomes["refused"] > 300, outcomes
