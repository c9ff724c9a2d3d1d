"""``trainmon report``: the whole file read once, as strict JSON or as readable text."""

from __future__ import annotations

import json
import math
from typing import Any

from tui_monitor.core.analysis import Baseline, Health, analyse
from tui_monitor.core.analysis.compare import compare_values
from tui_monitor.core.pipeline import Pipeline, baseline_for
from tui_monitor.core.state import RunSnapshot, merge_stats
from tui_monitor.core.text import fmt_num, inert, label, reason_text, verdict_word, word
from tui_monitor.core.text.actions import action_text
from tui_monitor.core.text.words import SEVERITY_MARKS


def _finite_or_none(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def jsonable(v: Any) -> Any:
    """Non-finite floats as the strings ``"nan"``, ``"inf"``, ``"-inf"`` (strict JSON);
    containers converted recursively; other values unchanged."""
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


def report_dict(pipe: Pipeline, lang: str = "en", health: Health | None = None) -> dict[str, Any]:
    """The ``report --json`` object for a pipeline that has read a file.

    Keys (stable): ``format``, ``records`` (distinct counts by kind, the whole file),
    ``metrics`` (per series, the whole file: count, first, last, min, max over finite values,
    nonfinite), ``skipped``, ``unreadable_fragments`` (text that looked like metrics but could not
    be read), ``readings`` (readings taken on evidence: ``second_logger``, ``two_writers``),
    ``events`` (crash evidence and file events, every run); the judged run (the latest): ``run``
    (its index), ``progress`` (global_step, total_steps, epoch), ``state``, ``loss`` (trend,
    smoothed_last, spikes), ``grad`` (status), ``lr`` (phase, schedule, peak, warmup_end_step),
    ``eval`` (best, overfitting), ``verdict`` (status — ``no_data`` for a file with no record —,
    reasons with code, severity, step, text in ``lang`` and ``action``: what to try, for a warning or
    critical reason, else null); and ``runs``: every run of the log
    (index, start_offset, start_reason, records, step, total_steps, state, verdict);
    ``writer``: the process writing the file (``pid``, ``command``, ``alive``: false when it
    exited while the file was read) or ``null`` when none was seen; ``baseline``: what the
    judged run was compared with (``file``: another log's name with ``--baseline``, else
    ``null`` for the previous run of this log; ``run``: its index; ``metric``, ``step``,
    ``epoch``, ``value`` (this run's smoothed value), ``baseline_value``), or ``null``;
    ``throughput`` (source, steps_per_second, mean_steps_per_second, tokens_key, tokens_seen,
    tokens_per_second, samples_per_second, printed_tokens_per_second, slowdown),
    ``checkpoints`` (count, last {path, step, steps_since, redo_seconds, age_seconds}, best
    {path, metric}, disk {path, size_bytes, free_bytes, low_space}) and ``gap`` (eval_loss −
    train loss at the latest evaluation: step, eval_loss, train_loss, gap, first_gap, trend, n).
    Non-finite numbers are strings (see `jsonable`).
    """
    h = health or pipe.health()
    runs = [r.snapshot() for r in pipe.runs]
    run = runs[-1]
    prog = run.progress
    records = {kind: sum(r.records.get(kind, 0) for r in runs) for kind in ("train", "eval", "summary")}
    metrics = {
        k: {"count": s.count, "first": s.first, "last": s.last, "min": s.min, "max": s.max, "nonfinite": s.nonfinite}
        for k, s in merge_stats([r.metrics for r in runs]).items()
    }
    out: dict[str, Any] = {
        "format": pipe.parser.format or "console",
        "records": records,
        "metrics": metrics,
        "progress": {"global_step": prog.step, "total_steps": prog.total, "epoch": prog.epoch},
        "skipped": pipe.parser.skipped,
        "unreadable_fragments": pipe.parser.unreadable_fragments,
        "readings": list(pipe.parser.readings),
        "events": [{"kind": e.kind, "line": e.line, "offset": e.offset} for r in runs for e in r.events],
        "run": run.index,
        "writer": _writer_entry(pipe),
        "baseline": _baseline_entry(run, baseline_for(runs, len(runs) - 1, pipe.baseline)),
        "runs": [_run_entry(r, h if r is run else analyse(r, None)) for r in runs],
        "state": h.state.word,
        "loss": {
            "trend": h.loss_trend.word if h.loss_trend is not None else None,
            "smoothed_last": h.loss_smoothed_last,
            "spikes": h.spike_count,
        },
        "grad": {"status": h.grad.word if h.grad is not None else None},
        "lr": {
            "phase": h.lr.phase if h.lr is not None else None,
            "schedule": h.lr.schedule if h.lr is not None else None,
            "peak": _finite_or_none(h.lr.peak) if h.lr is not None else None,
            "warmup_end_step": _step(h.lr.warmup_end_x, run, "learning_rate") if h.lr is not None else None,
        },
        "eval": {
            "best": (
                {"key": h.eval.metric, "value": h.eval.best, "step": _step(h.eval.best_x, run, h.eval.metric)}
                if h.eval.metric is not None and h.eval.n > 0
                else None
            ),
            "overfitting": h.eval.word == "overfitting",
        },
        "throughput": _throughput(h),
        "checkpoints": _checkpoints(h),
        "gap": (
            {
                "step": int(h.gap.step),
                "eval_loss": h.gap.eval_loss,
                "train_loss": h.gap.train_loss,
                "gap": h.gap.gap,
                "first_gap": h.gap.first_gap,
                "trend": h.gap.trend or None,
                "n": h.gap.n,
            }
            if h.gap is not None
            else None
        ),
        "verdict": {
            "status": h.status,
            "reasons": reason_entries(h, lang),
        },
    }
    result: dict[str, Any] = jsonable(out)
    return result


def _throughput(h: Health) -> dict[str, Any] | None:
    """``report --json``'s ``throughput`` object, or None when the log shows no rate."""
    tp = h.throughput
    if not tp.known:
        return None
    sd = tp.slowdown
    return {
        "source": tp.source or None,
        "steps_per_second": tp.steps_per_s,
        "mean_steps_per_second": tp.mean_steps_per_s,
        "tokens_key": tp.tokens_key,
        "tokens_seen": tp.tokens_seen,
        "tokens_per_second": tp.tokens_per_s,
        "samples_per_second": tp.samples_per_s,
        "printed_tokens_per_second": tp.printed_tokens_per_s,
        "slowdown": (
            {
                "since_step": sd.since,
                "until_step": sd.until,
                "ratio": sd.ratio,
                "usual_steps_per_second": sd.usual,
                "slow_steps_per_second": sd.slow,
                "seconds": sd.seconds,
            }
            if sd is not None
            else None
        ),
    }


def _checkpoints(h: Health) -> dict[str, Any]:
    """``report --json``'s ``checkpoints`` object."""
    ck = h.checkpoints
    last = ck.last
    disk = ck.disk
    return {
        "count": ck.count,
        "last": (
            {
                "path": last.path,
                "step": last.step,
                "steps_since": ck.steps_since,
                "redo_seconds": ck.redo_s,
                "age_seconds": ck.age_s,
            }
            if last is not None
            else None
        ),
        "best": {"path": ck.best_path, "metric": ck.best_metric} if ck.best_path else None,
        "disk": (
            {"path": disk.path, "size_bytes": disk.size_bytes, "free_bytes": disk.free_bytes, "low_space": ck.low_space}
            if disk is not None
            else None
        ),
    }


def reason_entries(h: Health, lang: str = "en") -> list[dict[str, Any]]:
    """The verdict's reasons, most severe first, as ``report --json`` lists them: ``code``,
    ``severity``, ``step`` (global step or ``None``), ``text`` (the sentence in ``lang``) and
    ``action`` (what to do about it, see `action_text`)."""
    return [
        {
            "code": r.code,
            "severity": r.severity,
            "step": r.step,
            "text": reason_text(r, lang),
            "action": action_text(r, lang),
        }
        for r in h.reasons
    ]


def _run_entry(run: RunSnapshot, h: Health) -> dict[str, Any]:
    """One run of the log for ``report --json``'s ``runs`` list."""
    return {
        "index": run.index,
        "start_offset": run.start_offset,
        "start_reason": run.start_reason,
        "records": dict(run.records),
        "step": h.progress.step,
        "total_steps": h.progress.total,
        "state": h.state.word,
        "verdict": h.status,
    }


def _writer_entry(pipe: Pipeline) -> dict[str, Any] | None:
    """The process writing the log, as seen by `read_once` (``alive`` false: it exited)."""
    for alive, ws in ((True, pipe.writers), (False, pipe.writers_gone)):
        if ws:
            return {"pid": ws[0].pid, "command": ws[0].command, "alive": alive}
    return None


def _baseline_entry(run: RunSnapshot, base: Baseline | None) -> dict[str, Any] | None:
    """What the judged run was compared with and the two smoothed values, or ``None``."""
    if base is None:
        return None
    c = compare_values(run, base.run)
    if c is None:
        return None
    return {
        "file": base.source,
        "run": base.run.index,
        "metric": c.metric,
        "step": int(c.x) if c.is_step else None,
        "epoch": c.epoch if math.isfinite(c.epoch) else None,
        "value": c.now,
        "baseline_value": c.then,
    }


def _step(x: float | None, run: RunSnapshot, series: str | None) -> int | None:
    """An x value as a global step, only when that series' x really are steps."""
    if x is None or series is None or not math.isfinite(x):
        return None
    snap = run.get(series)
    return int(x) if snap is not None and snap.x_is_step else None


def report_text(pipe: Pipeline, path: str, lang: str = "en") -> str:
    """A readable multi-line summary: the verdict and its reasons first, then the numbers
    (plain text, no markup)."""
    h = pipe.health()
    d = report_dict(pipe, lang, h)
    t = pipe.run.snapshot()
    prog = t.progress
    lines = [label("report_title", lang).format(path=path), ""]
    if h.status == "no_data":
        # Nothing to judge: the analysis says what was seen instead of calling it healthy.
        lines.append(verdict_word("no_data", lang))
        lines.extend(f"  · {reason_text(r, lang)}" for r in h.reasons)
    else:
        head = verdict_word(h.status, lang)
        if len(d["runs"]) > 1:
            head += "  (" + label("run_of", lang).format(n=t.index, total=len(d["runs"])) + ")"
        lines.append(head)
        for r in h.reasons:
            lines.append(f"  {SEVERITY_MARKS.get(r.severity, '·')} {reason_text(r, lang)}")
            action = action_text(r, lang)
            if action is not None:
                lines.append(f"      → {action}")
    if len(d["runs"]) > 1:
        # The earlier runs of a reused log or a sweep: one line each, the latest judged above.
        lines.append("")
        lines.append(label("report_runs", lang).format(n=len(d["runs"])))
        for r in d["runs"]:
            rec = r["records"]
            at = f"{label('step', lang)} {r['step']}" + (f"/{r['total_steps']}" if r["total_steps"] else "")
            lines.append(
                f"  {label('run_of', lang).format(n=r['index'], total=len(d['runs'])):<12} "
                f"{word(r['state'], lang):<12} {verdict_word(r['verdict'], lang):<10} "
                + label("report_run_counts", lang).format(train=rec["train"], eval=rec["eval"])
                + (f", {at}" if r["step"] is not None else "")
            )
    lines.append("")
    lines.append(
        label("report_counts", lang).format(
            format=d["format"], train=d["records"]["train"], eval=d["records"]["eval"], summary=d["records"]["summary"]
        )
        + (label("report_skipped", lang).format(n=d["skipped"]) if d["skipped"] else "")
        + (label("report_resumed", lang).format(n=t.rewinds) if t.rewinds else "")
    )
    if t.record_count and pipe.parser.unreadable_fragments:
        lines.append(label("unreadable_fragments", lang).format(n=pipe.parser.unreadable_fragments))
    for reading in pipe.parser.readings:
        lines.append(label("reading_" + reading, lang))
    w = d["writer"]
    if w is not None:
        key = "report_writer" if w["alive"] else "report_writer_gone"
        lines.append(label(key, lang).format(pid=w["pid"], command=" ".join(w["command"].split())))
    if pipe.baseline is not None and d["baseline"] is not None:
        lines.append(label("report_baseline", lang).format(file=pipe.baseline.source, n=pipe.baseline.run.index))
    where: list[str] = []
    if prog.step is not None:
        where.append(f"{label('step', lang)} {prog.step}" + (f"/{prog.total}" if prog.total else ""))
    if prog.epoch is not None:
        where.append(f"{label('epoch', lang)} {fmt_num(prog.epoch)}")
    if where:
        lines.append(label("report_progress", lang).format(where=", ".join(where)))
    lines.append("")
    names = label("report_columns", lang).split()
    # The whole file's numbers, as `report --json` gives them (every run together).
    whole = merge_stats([r.snapshot().metrics for r in pipe.runs])
    width = max([len(k) for k in whole] + [len(names[0])])
    head = f"{names[0]:<{width}}  {names[1]:>6}  " + "  ".join(f"{n:>10}" for n in names[2:6])
    lines.append(f"{head}  {names[6]}")
    for k, s in whole.items():
        lines.append(
            f"{k:<{width}}  {s.count:>6}  {fmt_num(s.first):>10}  {fmt_num(s.last):>10}  "
            f"{fmt_num(s.min):>10}  {fmt_num(s.max):>10}  {s.nonfinite or ''}"
        )
    if t.events:
        lines.append("")
        lines.append(label("report_events", lang))
        for e in t.events:
            lines.append(f"  {e.kind:<12} {e.line}")
    # Log text (metric keys, event lines, the path) is data: no control character of it
    # reaches the reader's terminal (an escaped OSC 52 in a key would write the clipboard).
    return "\n".join(inert(line) for line in lines)


def dumps(d: dict[str, Any]) -> str:
    """Strict JSON text (``allow_nan=False``: non-finite values were made strings)."""
    return json.dumps(d, allow_nan=False, ensure_ascii=False)
