"""What a pairing of a global step with a printed epoch allows the run's steps per epoch to be.

`StepTracker` (steps.py) checks every step it hands out against the record's epoch: the bounds of
all pairings so far must overlap. `spe_bounds` gives them for a batch (numpy), `spe_bounds_one`
for one pairing (plain floats); both give the very floats of the original nine-``np.round``
formula (tests/parse/test_spe_bounds.py).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["FAST_EPOCHS", "HALF_UNITS", "spe_bounds", "spe_bounds_one", "spe_bounds_raw", "spe_bounds_span"]

_P10 = np.array([1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9])
"""``10**d`` for the decimals ``d`` tried (0..8), exact: what ``np.round(x, d)`` multiplies by
(and a 10th column, whose test `spe_bounds_raw` overrides: 9 decimals)."""
_HALF_NP = 0.5 * 10.0 ** -np.arange(10.0)
"""Half a unit of the ``d``-th decimal (``d`` 0..9), by numpy's ``power`` (its ``10**-5`` is one
ulp below Python's ``1e-05``: the table keeps the bounds numpy's)."""
HALF_UNITS = _HALF_NP
"""``(10,) float64``: half a unit of the ``d``-th decimal, numpy's (for the compiled check,
``_scan.spe_span``, whose C ``pow`` could differ from numpy's ``power``)."""
_HALF = tuple(float(h) for h in _HALF_NP)
_P10_F = tuple(float(f) for f in _P10[:9])


def spe_bounds(steps: np.ndarray, epochs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The steps per epoch each pairing ``(step, epoch)`` allows: ``(lo, hi)`` arrays.

    A printed epoch is exact to half a unit of its last printed decimal (``2.344``: 0.0005,
    ``5.27``: 0.005), and the step is the epoch's within one step per epoch completed: with gradient
    accumulation over a dataloader whose length it does not divide, each epoch ends with a
    partial step and the Trainer's epoch (``micro-batches / len(dataloader)``) snaps to the
    whole epoch there (hf5_cosine_tee: 45.5 steps per epoch, step 46 at epoch 1). So
    ``(step + (floor(epoch) + 0.5)) / (epoch - that)`` and
    ``(step - (floor(epoch) + 0.5)) / (epoch + that)`` bound the run's steps per epoch. A pairing
    shifted by a missing or extra log event (a thinned log whose bar redraws are incomplete)
    falls outside what the others allow, once the logging interval exceeds that slack; the
    tracker then stops rather than give wrong steps.

    The printed decimals of each epoch are the fewest ``d`` in 0..8 for which ``np.round(epoch,
    d)`` (``rint(epoch * 10**d) / 10**d``) is within ``1e-9 * max(1, epoch)`` of the epoch, else 9;
    all ``d`` are tried in one ``(n, 10)`` pass. `spe_bounds_one` is the scalar form (the same
    floats, for one pairing).

    Args:
        steps: ``(n,) float64`` global steps.
        epochs: ``(n,) float64`` their records' epochs.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return spe_bounds_raw(steps, epochs)


def spe_bounds_raw(steps: np.ndarray, epochs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`spe_bounds` without its ``errstate``: for a caller that holds one already
    (``np.errstate(divide="ignore", invalid="ignore", over="ignore")``; each costs a few µs)."""
    ep = epochs[..., None]
    exact = np.abs(np.rint(ep * _P10) / _P10 - ep) <= 1e-9 * np.maximum(1.0, ep)
    exact[..., 9] = True  # 10**9 is not tried: 9 decimals when none of 0..8 prints the epoch
    half = _HALF_NP[exact.argmax(axis=-1)]
    slack = np.floor(epochs) + 0.5
    lo = (steps - slack) / (epochs + half)
    hi = np.where(epochs > half, (steps + slack) / np.maximum(epochs - half, 1e-300), np.inf)
    return lo, hi


FAST_EPOCHS = (0.05, 1e299)
"""The epochs `spe_bounds_span` takes: finite, no overflow in ``epoch * 10**9``, and each above
its half unit (an epoch >= 0.05 is > 0.5 when printed whole, > 0.05 with one decimal), so no
operation of `spe_bounds` can divide by zero, overflow or meet an infinity."""


def spe_bounds_span(steps: np.ndarray, epochs: np.ndarray) -> tuple[float, float]:
    """``(lo.max(), hi.min())`` of ``spe_bounds(steps, epochs)``, the same floats, for epochs all
    within `FAST_EPOCHS` (the caller checks; then no ``errstate`` is needed and ``hi`` has no
    ``where``: every epoch exceeds its half unit). What a batch of pairings allows the run's
    steps per epoch to be, at about half the numpy calls (`StepTracker.peek_batch` runs once per
    columnar run).

    Args:
        steps: ``(n,) float64`` global steps, ``n >= 1``.
        epochs: ``(n,) float64`` their records' epochs.
    """
    ep = epochs[:, None]
    t = ep * _P10
    np.rint(t, out=t)
    np.divide(t, _P10, out=t)
    np.subtract(t, ep, out=t)
    np.abs(t, out=t)
    exact = t <= 1e-9 * np.maximum(1.0, ep)
    exact[:, 9] = True
    half = _HALF_NP[exact.argmax(axis=1)]
    slack = np.floor(epochs)
    slack += 0.5
    lo = (steps - slack) / (epochs + half)
    hi = (steps + slack) / (epochs - half)
    return float(lo.max()), float(hi.min())


def spe_bounds_one(step: float, epoch: float) -> tuple[float, float]:
    """`spe_bounds` for one pairing, in plain floats: the same values, bit for bit, without
    numpy's per-call cost (`StepTracker.check` runs once per record that takes the record path).

    ``float(round(y))`` is ``np.rint(y)`` (both round half to even), and the products and
    quotients are the same IEEE operations numpy does elementwise. An epoch that is not finite
    and positive (``round`` and ``floor`` refuse infinities, ``/`` a zero) goes to `spe_bounds`.
    """
    if not (math.isfinite(epoch) and epoch > 0):
        lo_a, hi_a = spe_bounds(np.array([step]), np.array([epoch]))
        return float(lo_a[0]), float(hi_a[0])
    tol = 1e-9 * max(1.0, epoch)
    dec = 9
    for d, f in enumerate(_P10_F):
        y = epoch * f
        if math.isfinite(y) and abs(float(round(y)) / f - epoch) <= tol:
            dec = d
            break
    half = _HALF[dec]
    slack = math.floor(epoch) + 0.5
    lo = (step - slack) / (epoch + half)
    hi = (step + slack) / max(epoch - half, 1e-300) if epoch > half else math.inf
    return lo, hi
