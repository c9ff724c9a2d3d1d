"""Every fixture log against what the Trainer itself recorded (truth) or the expect file.

Real logs (tests/fixtures/real/*.log) are compared with ``*.truth.json`` (the Trainer's
own ``state.log_history``); public samples with ``*.expect.json``. The transformers 5.x
console prints values with ``.4g``, so console values are compared to 4 significant
digits; JSON and trainer_state values exactly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from helpers import FIXTURES

from tui_monitor.core.parse import LogParser, Progress, Record
from tui_monitor.core.pipeline import Pipeline, read_once
from tui_monitor.core.report import report_dict

FIX = FIXTURES
REAL_LOGS = [
    "hf5_linear_warmup",
    "hf5_linear_warmup_unbuffered",
    "hf5_cosine_tee",
    "hf5_disable_tqdm",
    "hf5_constant_lr",
    "hf5_resume_append",
    "trl_sft",
]
PUBLIC = sorted(p.name.removesuffix(".expect.json") for p in (FIX / "public").glob("*.expect.json"))
PUBLIC3 = sorted(p.name.removesuffix(".expect.json") for p in (FIX / "public3").glob("*.expect.json"))
ALL_LOGS = (
    [FIX / "real" / f"{n}.log" for n in REAL_LOGS]
    + [
        FIX / "real" / "trainer_state_hf5_resume_append.json",
        FIX / "real" / "trainer_state_hf5_resume_append.resumed_from_checkpoint-100.json",
    ]
    + [FIX / "public" / json.loads((FIX / "public" / f"{n}.expect.json").read_text())["file"] for n in PUBLIC]
    + [FIX / "public3" / json.loads((FIX / "public3" / f"{n}.expect.json").read_text())["file"] for n in PUBLIC3]
)


def close4(a: float, b: float) -> bool:
    """Equal to the 4 significant digits transformers 5.x prints."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=6e-4, abs_tol=1e-12)


def truth_facts(history: list[dict]) -> dict:
    train = [
        r for r in history if "loss" in r and not any(k.startswith("eval_") for k in r) and "train_runtime" not in r
    ]
    evals = [r for r in history if any(k.startswith("eval_") for k in r)]
    summ = [r for r in history if "train_runtime" in r]
    gn = [r["grad_norm"] for r in train if isinstance(r.get("grad_norm"), float)]
    return {
        "train": len(train),
        "eval": len(evals),
        "summary": len(summ),
        "first_loss": train[0]["loss"],
        "last_loss": train[-1]["loss"],
        "max_grad_norm": max(gn) if gn else None,
        "last_epoch": history[-1]["epoch"],
    }


@pytest.mark.parametrize("name", REAL_LOGS)
def test_real_log_matches_trainer_truth(name: str) -> None:
    # GIVEN a real Trainer log and the log_history the Trainer recorded for it
    truth = json.loads((FIX / "real" / f"{name}.truth.json").read_text())
    want = truth_facts(truth["log_history"])
    # WHEN trainmon reads the whole log
    t = read_once(FIX / "real" / f"{name}.log").run.snapshot()
    # THEN counts, first/last loss, max grad_norm, last epoch and non-finite counts agree
    assert t.records == {"train": want["train"], "eval": want["eval"], "summary": want["summary"]}
    assert close4(t.metrics["loss"].first, want["first_loss"])
    assert close4(t.metrics["loss"].last, want["last_loss"])
    assert close4(t.metrics["grad_norm"].max, want["max_grad_norm"])
    assert close4(t.progress.epoch, want["last_epoch"])
    facts = truth["facts"].get("all_printed_records", truth["facts"])
    assert sum(s.nonfinite for s in t.metrics.values()) == facts["n_nan_values"] + facts["n_inf_values"]
    if name == "hf5_disable_tqdm":
        # No bar, no banner, no step in the dicts: the log never states a step, so none
        # is claimed (DESIGN: "never claim a step you did not read").
        assert t.progress.total is None and t.progress.step is None
    else:
        assert t.progress.total == truth["total_steps"]
        assert t.progress.step == truth["total_steps"]


@pytest.mark.parametrize("name", REAL_LOGS)
def test_real_log_values_in_order(name: str) -> None:
    # GIVEN the Trainer's train records WHEN parsed THEN every loss value is read, in order
    truth = json.loads((FIX / "real" / f"{name}.truth.json").read_text())
    hist = truth["log_history"]
    p = LogParser()
    items = p.feed((FIX / "real" / f"{name}.log").read_bytes()) + p.flush()
    recs = [i for i in items if isinstance(i, Record) and i.kind == "train"]
    if name == "hf5_resume_append":
        # The file prints steps 105..135 twice (resumed from checkpoint-100); the truth's
        # printed_sequence lists both segments in file order.
        hist = [r["record"] if "record" in r else r for r in truth.get("printed_sequence", hist)]
    want = [
        r["loss"]
        for r in hist
        if "loss" in r and "train_runtime" not in r and not any(k.startswith("eval_") for k in r)
    ]
    assert len(recs) == len(want)
    assert all(close4(r.metrics["loss"], w) for r, w in zip(recs, want))


def test_resume_rewind_matches_final_trainer_state() -> None:
    # GIVEN a run killed at step ~135 and resumed from checkpoint-100 into the same log
    # WHEN read THEN the re-done steps 105..135 replace the first ones: the counts equal the
    # final trainer_state.json's log_history, and one rewind is reported
    pipe = read_once(FIX / "real" / "hf5_resume_append.log")
    state = json.loads((FIX / "real" / "trainer_state_hf5_resume_append.json").read_text())
    hist = state["log_history"]
    n_train = sum(1 for r in hist if "loss" in r)
    n_eval = sum(1 for r in hist if "eval_loss" in r)
    assert pipe.run.snapshot().records["train"] == n_train == 60
    assert pipe.run.snapshot().records["eval"] == n_eval == 3
    assert pipe.run.snapshot().rewinds == 1
    # the first segment's Ctrl-C traceback is kept as evidence, with its closing line
    kinds = [(e.kind, e.line) for e in pipe.run.snapshot().events]
    assert ("traceback", "Traceback (most recent call last):") in kinds
    assert ("error", "KeyboardInterrupt") in kinds


def test_trainer_state_matches_console_log() -> None:
    # GIVEN the final trainer_state.json of the resumed run WHEN read THEN it holds the same
    # train records as the resumed console log, with exact values and steps
    pipe = read_once(FIX / "real" / "trainer_state_hf5_resume_append.json")
    assert pipe.parser.format == "trainer_state"
    assert pipe.run.snapshot().records == {"train": 60, "eval": 3, "summary": 0}
    assert pipe.run.snapshot().metrics["loss"].first == 6.166963958740235
    assert pipe.run.snapshot().metrics["loss"].last == 4.414391326904297
    assert pipe.run.snapshot().progress.step == 300 and pipe.run.snapshot().progress.total == 300


def test_trainer_state_rewritten_in_place_does_not_duplicate() -> None:
    # GIVEN a trainer_state.json read, then rewritten at the next checkpoint (more entries)
    early = (FIX / "real" / "trainer_state_hf5_resume_append.resumed_from_checkpoint-100.json").read_bytes()
    final = (FIX / "real" / "trainer_state_hf5_resume_append.json").read_bytes()
    pipe = Pipeline()
    pipe.feed(early)
    assert pipe.run.snapshot().records["train"] == 20
    # WHEN the file is re-read from the start after the rewrite
    pipe.reset("truncated")
    pipe.feed(final)
    # THEN the 20 records already seen are not counted again
    assert pipe.run.snapshot().records["train"] == 60
    assert pipe.run.snapshot().records["eval"] == 3


@pytest.mark.parametrize("name", PUBLIC)
def test_public_sample_matches_expect(name: str) -> None:
    exp = json.loads((FIX / "public" / f"{name}.expect.json").read_text())
    e = exp["expect"]
    pipe = read_once(FIX / "public" / exp["file"])
    t = pipe.run.snapshot()
    loss = t.metrics.get("loss")
    if "jsonl_lines" in e:  # LLaMA-Factory trainer_log.jsonl
        assert pipe.parser.format == "jsonl"
        assert t.records["train"] == e["records_with_loss"]
        assert t.records["eval"] == e["eval_records"]
        assert loss.first == e["first_loss"] and loss.last == e["last_loss"]
        assert loss.min == e["min_loss"] and loss.max == e["max_loss"]
        assert t.metrics["learning_rate"].first == e["first_lr"]
        assert t.metrics["learning_rate"].last == e["last_lr"]
        assert t.progress.total == e["total_steps"] and t.progress.step == e["last_current_steps"]
        assert t.progress.epoch == e["last_epoch"]
        assert ("grad_norm" in t.metrics) == e["grad_norm_present"]
        return
    expected_fmt = "trainer_state" if exp["parser_kind"] == "trainer_state_json" else "console"
    assert pipe.parser.format == expected_fmt
    # records.train counts DISTINCT train records: fate_rich_two_ranks prints each record
    # twice (bare dict + Rich log line with step), so the distinct count is the one to match.
    assert t.records["train"] == e.get("distinct_train_records", e["train_records"])
    assert t.records["eval"] == e["eval_records"]
    assert t.records["summary"] == e.get("distinct_summary_records", e["summary_records"])
    assert loss.first == e["first_loss"]
    if name == "fate_rich_two_ranks":
        # Reading chosen: ranks are separate series. The expect's last_loss (0.0) is the
        # last printed loss, which is rank 1's (the host has no labels: its loss is 0.0).
        assert t.metrics["loss@rank1"].last == e["last_loss"]
        assert t.metrics["loss"].last == 0.4975
    else:
        assert loss.last == e["last_loss"]
        assert loss.min == e["min_finite_loss"] and loss.max == e["max_finite_loss"]
    if e["grad_norm_present"]:
        assert t.metrics["grad_norm"].max == e["max_grad_norm"]
    else:
        assert "grad_norm" not in t.metrics
    assert t.progress.epoch == e["last_epoch"]
    nonfinite = {k: s.nonfinite for k, s in t.metrics.items() if s.nonfinite}
    assert nonfinite == e["nonfinite"]["by_key"]


def _num(v: object) -> float | None:
    """A report number back to a float (non-finite values are the strings "nan", "inf")."""
    return float(v) if isinstance(v, (int, float, str)) else None


def _same(a: float | None, b: float | str | None) -> bool:
    """Equal values, NaN (the expect file writes "nan") equal to NaN."""
    if b == "nan":
        return a is not None and math.isnan(a)
    return a == b


@pytest.mark.parametrize("name", PUBLIC3)
def test_public3_sample_matches_expect(name: str) -> None:
    # GIVEN a public3 sample and the facts a reference extractor read from its bytes
    exp = json.loads((FIX / "public3" / f"{name}.expect.json").read_text())
    e = exp["expect"]
    # WHEN trainmon reads it whole
    pipe = read_once(FIX / "public3" / exp["file"])
    t = pipe.run.snapshot()
    assert pipe.parser.format == "console"
    if e["notebook_tables"]:
        # Notebook tables only (no dicts): each row is a train and an eval record. The two
        # folds are two runs; the second's rows restart at epoch 1 and replace the first's
        # (the latest run is the one judged).
        rows = e["notebook_rows"]
        last_fold = rows[-e["notebook_table_rows"] // e["notebook_tables"] :]
        assert t.records == {"train": len(last_fold), "eval": len(last_fold), "summary": 0}
        loss, ev = t.get("loss"), t.get("eval_loss")
        assert loss is not None and ev is not None
        assert [round(v, 4) for v in loss.y.tolist()] == [r[1] for r in last_fold]
        assert [round(v, 6) for v in ev.y.tolist()] == [r[2] for r in last_fold]
        assert t.progress.epoch == last_fold[-1][0]
        assert t.progress.step == t.progress.total == e["notebook_progress_headers"][-1][1]
        return
    # THEN every record is read once, in the whole file (runs after a summary start anew) ...
    d = report_dict(pipe)
    assert d["records"] == {
        "train": e["distinct_train_records"],
        "eval": e["eval_records"],
        "summary": e["distinct_summary_records"],
    }
    metrics = d["metrics"]
    loss = metrics["loss"]
    assert loss["first"] == e["first_loss"] and _same(_num(loss["last"]), e["last_loss"])
    assert loss["min"] == e["min_finite_loss"] and loss["max"] == e["max_finite_loss"]
    if e["grad_norm_present"]:
        assert metrics["grad_norm"]["max"] == e["max_grad_norm"]
    else:
        assert "grad_norm" not in metrics
    assert {k: m["nonfinite"] for k, m in metrics.items() if m["nonfinite"]} == e["nonfinite"]["by_key"]
    lr = metrics.get(e["lr_key"] or "learning_rate")
    if e.get("first_lr") is not None:
        assert lr is not None and lr["first"] == e["first_lr"] and lr["last"] == e["last_lr"]
    # ... each run of the log apart, the latest judged
    if e.get("run_segments"):
        assert [r["records"] for r in d["runs"]] == e["run_segment_sizes"]
    assert t.progress.epoch == e.get("last_run_last_epoch", e["last_epoch"])
    if e["deepspeed_timer_lines"] and e.get("last_bar_step_total"):
        # The DeepSpeed log_dist line glued after the bar gives the step and the skipped count.
        assert t.progress.total == e["last_bar_step_total"][1]
        assert t.progress.step is not None and t.progress.step >= e["last_bar_step_total"][0]
        assert t.progress.skipped is not None and t.progress.skipped > 0
    # and no text of the log keeps a "\r" (CRLF captures)
    assert all("\r" not in ev.line for ev in t.events)
    assert all("\r" not in k for k in t.metrics)


@pytest.mark.parametrize("path", ALL_LOGS, ids=lambda p: p.name)
@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_chunked_feeding_equals_whole(path: Path, chunk: int, request: pytest.FixtureRequest) -> None:
    # GIVEN a fixture WHEN fed in chunks of `chunk` bytes THEN the records, events, rewinds
    # and banner facts are exactly those of feeding it whole (progress updates are
    # coalesced per feed, so only the last position is compared)
    data = path.read_bytes()
    whole = LogParser()
    a = whole.feed(data) + whole.flush()
    p = LogParser()
    b = []
    for i in range(0, len(data), chunk):
        b += p.feed(data[i : i + chunk])
    b += p.flush()
    strip = lambda items: [x for x in items if not isinstance(x, Progress)]  # noqa: E731
    assert repr(strip(b)) == repr(strip(a))  # repr: nan != nan
    assert [x for x in b if isinstance(x, Progress)][-1:] == [x for x in a if isinstance(x, Progress)][-1:]
    assert p.skipped == whole.skipped
