"""Numbers of absurd length in a log (a 5000-digit bar count, banner step, dict value): no
crash on either scan path, and every valid record kept.

Python's ``int()`` raises ``ValueError`` past 4300 digits, and ``float()`` of a long ``int``
``OverflowError``; a count of more than ``values.MAX_DIGITS`` digits is no count (a bar segment
holding one is no bar), and a JSON integer that long reads as the float it is.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import scan_path

from tui_monitor.core.parse import LogParser, Progress, Record, RunInfo, accel
from tui_monitor.core.parse.values import MAX_DIGITS, build_record, json_int, log_int

COMPILED = accel.scan
PATHS = [False, pytest.param(True, marks=pytest.mark.skipif(COMPILED is None, reason="the C extension is not built"))]

HUGE = b"9" * 5000
CLEAR = b"\r" + b" " * 40 + b"\r"
LOSSES = (2.0, 1.8, 1.6, 1.4)


def bar(n: bytes, total: bytes, pct: bytes = b" 25") -> bytes:
    return b"\r" + pct + b"%|##        | " + n + b"/" + total + b" [00:01<00:03,  1.00it/s]"


def tqdm_log(junk: bytes | None = None) -> bytes:
    """A four-step Trainer console log (tqdm bar, ``tqdm.write``'s clear, the dict, the bar's
    redraw) whose banner says ``Total optimization steps = <5000 digits>``, where step 2's
    redraw has a 5000-digit count and total, other bars with such a count or total are drawn
    after step 3, and step 3's ``grad_norm`` has 5000 digits. With ``junk``, each such bar is
    that text instead (a segment that is no bar)."""
    huge_bar = bar(HUGE, HUGE) if junk is None else b"\r" + junk
    out = [
        b"***** Running training *****\n  Num examples = 1,000\n  Num Epochs = 2\n",
        b"  Total optimization steps = " + HUGE + b"\n",
        bar(b"0", b"4", b"  0"),
    ]
    for i, loss in enumerate(LOSSES, 1):
        n = str(i).encode()
        grad = HUGE if i == 3 else b"1.5"
        out += [bar(n, b"4"), CLEAR + b"{'loss': %r, 'grad_norm': %s, 'epoch': %r}\n" % (loss, grad, i / 4)]
        out.append(huge_bar if i == 2 else bar(n, b"4"))
        if i == 3:
            out += [bar(HUGE, b"4") if junk is None else huge_bar, bar(b"3", HUGE) if junk is None else huge_bar]
    out.append(bar(b"4", b"4", b"100") + b"\n")
    return b"".join(out)


def parse(data: bytes, compiled: bool, chunk: int = 1 << 30) -> list[object]:
    with scan_path(compiled):
        p = LogParser()
        items: list[object] = []
        for i in range(0, len(data), chunk):
            items += p.feed(data[i : i + chunk])
        return items + p.flush()


def steps(items: list[object]) -> list[tuple[int | None, float, float | None]]:
    return [(r.step, r.metrics["loss"], r.epoch) for r in items if isinstance(r, Record)]


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize("chunk", [1 << 30, 4096 + 3, 997])
def test_huge_bar_count_is_no_redraw(compiled: bool, chunk: int) -> None:
    items = parse(tqdm_log(), compiled, chunk)
    # Step 2's redraw is no bar: the clear is cancelled as by any other text, so that record
    # has no step; the others keep theirs. The banner's 5000-digit total is no fact; the train
    # bar's total (4) is learnt from its bars.
    assert steps(items) == [(1, 2.0, 0.25), (None, 1.8, 0.5), (3, 1.6, 0.75), (4, 1.4, 1.0)]
    assert steps(items) == steps(parse(tqdm_log(junk=b"not a bar"), compiled, chunk))
    grad = [r.metrics["grad_norm"] for r in items if isinstance(r, Record)]
    assert grad[2] == math.inf and grad[:2] + grad[3:] == [1.5, 1.5, 1.5]
    assert all(i.total_steps is None for i in items if isinstance(i, RunInfo))
    last = [p for p in items if isinstance(p, Progress)][-1]
    assert (last.step, last.total) == (4, 4)


def report(path: Path, pure: bool) -> dict[str, object]:
    """`trainmon report --json PATH` in a subprocess on one scan path: exit 0, no stderr."""
    env = {**os.environ, accel.PURE_PYTHON_ENV: "1" if pure else ""}
    out = subprocess.run(
        [sys.executable, "-m", "tui_monitor", "report", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    got: dict[str, object] = json.loads(out.stdout)
    return got


@pytest.mark.slow
@pytest.mark.parametrize("pure", [True, False])
def test_report_of_huge_numbers_exits_0(tmp_path: Path, pure: bool) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(tqdm_log())
    d = report(log, pure)
    assert d["records"] == {"train": 4, "eval": 0, "summary": 0}
    assert d["progress"] == {"global_step": 4, "total_steps": 4, "epoch": 1.0}
    loss = d["metrics"]["loss"]  # type: ignore[index]
    assert (loss["count"], loss["first"], loss["last"]) == (4, 2.0, 1.4)


def dict_log() -> bytes:
    """Console dicts with 5000-digit steps, totals and values, a table row with a 5000-digit
    step, notebook and DeepSpeed progress lines with 5000-digit counts."""
    h = HUGE
    return b"".join(
        [
            b"{'loss': 2.0, 'step': " + h + b", 'epoch': 0.25}\n",
            b"{'loss': 1.9, 'current_steps': 2, 'total_steps': " + h + b"}\n",
            b"{'loss': 1.8, 'global_step/max_steps': '" + h + b"/" + h + b"'}\n",
            b"{'loss': 1.7, 'grad_norm': " + h + b", 'step': 4}\n",
            b"[" + h + b"/" + h + b" 02:11 < 01:52, 1.03 it/s, Epoch 1/2]\n",
            b"[Rank 0] step=" + h + b", skipped=" + h + b", lr=[0.1]\n",
            b"{'loss': 1.6, 'step': 5}\n",
        ]
    )


@pytest.mark.parametrize("compiled", PATHS)
def test_huge_numbers_in_dicts_are_no_step(compiled: bool) -> None:
    items = parse(dict_log(), compiled)
    assert steps(items) == [(None, 2.0, 0.25), (2, 1.9, None), (None, 1.8, None), (4, 1.7, None), (5, 1.6, None)]
    assert [r.metrics.get("grad_norm") for r in items if isinstance(r, Record)][3] == math.inf
    assert [i for i in items if isinstance(i, Progress)] == []  # no position has a 5000-digit count


@pytest.mark.slow
@pytest.mark.parametrize("pure", [True, False])
def test_report_of_huge_dict_values_exits_0(tmp_path: Path, pure: bool) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(dict_log() + b"Step | Training Loss | Validation Loss\n" + HUGE + b" | 1.5 | 2.5\n6 | 1.4 | 2.4\n")
    d = report(log, pure)
    assert d["records"] == {"train": 7, "eval": 2, "summary": 0}
    assert d["progress"]["global_step"] == 6  # type: ignore[index]


@pytest.mark.slow
@pytest.mark.parametrize("pure", [True, False])
def test_report_of_huge_json_integers_exits_0(tmp_path: Path, pure: bool) -> None:
    # 4000 digits: json.loads reads it, float() of it overflowed; 5000: json.loads raised.
    big, huge = "9" * 4000, "9" * 5000
    log = tmp_path / "trainer_log.jsonl"
    lines = [
        f'{{"loss": {big}, "step": 1}}',
        f'{{"loss": 1.9, "step": {big}, "total_steps": {big}}}',
        f'{{"loss": 1.8, "step": 3, "total_steps": {huge}}}',
        '{"loss": 1.7, "step": 4, "total_steps": 10}',
    ]
    log.write_text("\n".join(lines) + "\n")
    d = report(log, pure)
    assert d["records"] == {"train": 4, "eval": 0, "summary": 0}
    assert d["progress"] == {"global_step": 4, "total_steps": 10, "epoch": None}
    assert d["metrics"]["loss"]["nonfinite"] == 1  # type: ignore[index]


def test_log_int_bounds() -> None:
    assert log_int(b"9" * MAX_DIGITS) == 10**MAX_DIGITS - 1
    assert log_int(b"9" * (MAX_DIGITS + 1)) is None
    assert log_int(HUGE) is None and log_int(HUGE.decode()) is None
    assert log_int(" 0042 ") == 42
    assert log_int(500.0) == 500 and log_int(1e18) is None and log_int(-1e18) is None
    assert log_int(math.inf) is None and log_int(math.nan) is None
    with pytest.raises(ValueError):
        log_int("12a")


def test_json_int_reads_a_long_integer_as_its_float() -> None:
    assert json_int("-" + "9" * MAX_DIGITS) == -(10**MAX_DIGITS - 1)
    assert json_int("1" + "0" * MAX_DIGITS) == 1e18 and isinstance(json_int("1" + "0" * MAX_DIGITS), float)
    assert json_int("9" * 5000) == math.inf and json_int("-" + "9" * 5000) == -math.inf
    rec, prog = build_record(json.loads('{"loss": 2.5, "step": 1' + "0" * 30 + "}", parse_int=json_int))
    assert rec is not None and (rec.step, rec.metrics) == (None, {"loss": 2.5}) and prog is None
