"""Evaluation metrics: direction, best value, improving / flat / overfitting."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["EvalStatus", "EvalWord", "eval_status", "metric_direction", "pick_eval_metric"]

EvalWord = Literal["improving", "flat", "worsening", "overfitting", "single", "no_loss", "absent"]

LOWER_IS_BETTER = ("loss", "perplexity", "ppl", "error", "wer", "cer", "mse", "mae", "rmse", "nll")
"""Substrings of a metric name meaning lower is better."""

HIGHER_IS_BETTER = (
    "accuracy",
    "acc",
    "f1",
    "bleu",
    "rouge",
    "reward",
    "precision",
    "recall",
    "auc",
    "exact_match",
    "em",
    "score",
    "correlation",
    "pearson",
    "spearman",
    "matthews",
    "meteor",
    "chrf",
    "map",
    "ndcg",
)
"""Substrings of a metric name meaning higher is better."""

NOT_QUALITY = ("runtime", "samples_per_second", "steps_per_second", "num_tokens", "epoch", "flos")
"""Eval keys that are bookkeeping, not model quality."""

IMPROVE_REL = 0.005
"""Relative change from the first evaluation that counts as improving or worsening (0.5 %)."""

RISE_EPS = 1e-4
"""Relative rise between consecutive evaluations that counts as a rise (identical-to-7-digits is flat)."""


def metric_direction(name: str) -> int:
    """Return -1 when lower is better, +1 when higher is better, 0 when unknown or bookkeeping."""
    key = name.lower()
    if key.startswith("eval_"):
        key = key[5:]
    if any(t in key for t in NOT_QUALITY):
        return 0
    if any(t in key for t in LOWER_IS_BETTER):
        return -1
    parts = key.replace("/", "_").split("_")
    if any(t in key for t in HIGHER_IS_BETTER if len(t) > 3) or any(t in parts for t in HIGHER_IS_BETTER):
        return 1
    return 0


def pick_eval_metric(names: Iterable[str]) -> str | None:
    """Choose the eval metric to judge: ``eval_loss`` if present, else the first with a direction."""
    names = list(names)
    if "eval_loss" in names:
        return "eval_loss"
    for n in names:
        if n.startswith("eval_") and metric_direction(n) != 0:
            return n
    return None


@dataclass(frozen=True, slots=True)
class EvalStatus:
    """What the evaluations say.

    Attributes:
        word: ``improving`` / ``flat`` / ``worsening`` / ``overfitting`` / ``single`` (one eval) /
            ``no_loss`` (evals exist but report no loss or quality metric) / ``absent``.
        severity: ``ok`` / ``info`` / ``warning``.
        metric: the judged metric (``eval_loss``...), or None.
        direction: -1 lower is better, +1 higher is better.
        best: best value, NaN if none; best_x: its x.
        last: latest value; first: first value.
        n: evaluations with a finite value.
        rises: consecutive worsening evaluations at the end, after the best.
        has_loss: an ``eval_loss`` series exists.
        after: evaluations after the best (each worse than it).
    """

    word: EvalWord
    severity: str
    metric: str | None
    direction: int
    best: float
    best_x: float
    last: float
    first: float
    n: int
    rises: int
    has_loss: bool
    after: int = 0


def eval_status(
    metric: str | None,
    x: np.ndarray,
    y: np.ndarray,
    *,
    train_x: np.ndarray | None = None,
    train_loss: np.ndarray | None = None,
    has_any_eval: bool = False,
    has_loss: bool = False,
) -> EvalStatus:
    """Judge an eval metric series.

    Overfitting (warning): the metric worsened over at least two consecutive evaluations after
    its best (each by > 1e-4 relative), or it is worse than its best (by > 0.5 %) three or more
    evaluations after it, while the train loss over the same x range kept falling
    (Sen-style: the median of its later half below the median of its earlier half). A lower-is-
    better metric is judged by "worse = higher", a higher-is-better one by "worse = lower".

    Args:
        metric: the metric's name (see :func:`pick_eval_metric`), or None when there is none.
        x: ``(n,) float64`` steps of the evaluations.
        y: ``(n,) float64`` values.
        train_x: ``(m,) float64`` train-loss steps (optional).
        train_loss: ``(m,) float64`` train losses (optional).
        has_any_eval: eval records exist (even without a judged metric).
        has_loss: an ``eval_loss`` series exists.

    Returns:
        :class:`EvalStatus`.
    """
    nan = math.nan
    if metric is None:
        word: EvalWord = "no_loss" if has_any_eval else "absent"
        return EvalStatus(word, "info" if has_any_eval else "ok", None, 0, nan, nan, nan, nan, 0, 0, has_loss)
    d = metric_direction(metric) or -1
    fin = np.isfinite(y)
    xv, v = x[fin], y[fin]
    n = int(v.shape[0])
    if n == 0:
        return EvalStatus("no_loss", "info", metric, d, nan, nan, nan, nan, 0, 0, has_loss)
    score = -d * v  # lower is better in "score" space
    ib = int(np.argmin(score))
    best, best_x = float(v[ib]), float(xv[ib])
    first, last = float(v[0]), float(v[-1])
    if n == 1:
        return EvalStatus("single", "ok", metric, d, best, best_x, last, first, 1, 0, has_loss)
    rises = 0
    for i in range(n - 1, ib, -1):
        prev = score[i - 1]
        if score[i] - prev > RISE_EPS * max(abs(prev), 1e-12):
            rises += 1
        else:
            break
    after = n - 1 - ib
    # Worse than the best for several evaluations, even by little and not each time (1.532 →
    # 1.553 over 7 evaluations): the evidence of overfitting, as two rises in a row are.
    worse_since_best = after >= 3 and (score[-1] - score[ib]) / max(abs(best), 1e-12) > IMPROVE_REL
    last_is_best = score[-1] - score[ib] <= RISE_EPS * max(abs(best), 1e-12)
    train_falling = False
    if train_x is not None and train_loss is not None and (rises >= 2 or worse_since_best):
        x_from = float(xv[ib])
        m = (train_x >= x_from) & np.isfinite(train_loss)
        tl = train_loss[m]
        if tl.shape[0] >= 2:
            h = tl.shape[0] // 2
            train_falling = float(np.median(tl[h:])) < float(np.median(tl[: max(h, 1)]))
    scale = max(abs(first), 1e-12)
    change = (score[-1] - score[0]) / scale
    if (rises >= 2 or worse_since_best) and train_falling:
        word, sev = "overfitting", "warning"
    elif ib >= n - 2 and (score[ib] - score[0]) / scale <= -IMPROVE_REL:
        word, sev = "improving", "ok"
    elif change >= IMPROVE_REL and rises >= 1:
        word, sev = "worsening", "info"
    elif abs(change) < IMPROVE_REL:
        word, sev = "flat", "info"
    else:
        word, sev = "improving" if change < 0 else "worsening", "ok" if change < 0 else "info"
    if word == "improving" and not last_is_best:
        # Better than the first but worse than the best: never "improving".
        word, sev = ("flat", "info") if abs(change) < IMPROVE_REL else ("worsening", "info")
    return EvalStatus(word, sev, metric, d, best, best_x, last, first, n, rises, has_loss, after)
