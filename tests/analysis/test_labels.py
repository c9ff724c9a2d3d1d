"""Every labelled fixture, through the real pipeline (parser → run state → analyse), gets its verdict."""

from __future__ import annotations

import json

import pytest
from helpers import FIXTURES

from tui_monitor.core.analysis import Health
from tui_monitor.core.pipeline import Pipeline
from tui_monitor.core.text import reason_text

LABELS: dict[str, dict[str, list[str]]] = {
    k: v for k, v in json.loads((FIXTURES / "labels.json").read_text()).items() if not k.startswith("_")
}
# The public3 samples carry their labels in their expect files.
for _exp in sorted((FIXTURES / "public3").glob("*.expect.json")):
    _e = json.loads(_exp.read_text())
    LABELS[f"public3/{_e['file']}"] = _e["labels"]


def run_pipeline(data: bytes, chunk: int | None = None) -> Health:
    """Read ``data`` (optionally in ``chunk``-byte pieces) through the real pipeline and judge its
    latest run, as ``trainmon report`` does (no clock)."""
    pipe = Pipeline()
    step = chunk or max(len(data), 1)
    for i in range(0, len(data), step):
        pipe.feed(data[i : i + step])
    pipe.finish()
    return pipe.health()


@pytest.mark.parametrize("name", sorted(LABELS))
def test_fixture_verdict_matches_its_label(name: str) -> None:
    # GIVEN a labelled log
    label = LABELS[name]
    # WHEN it is read whole, as `trainmon report` does
    h = run_pipeline((FIXTURES / name).read_bytes())
    codes = h.codes
    # THEN the verdict agrees with the label
    if "status" in label:
        assert h.status in label["status"], [reason_text(r) for r in h.reasons]
    for code in label.get("require", []):
        assert code in codes, (code, codes)
    for code in label.get("forbid", []):
        assert code not in codes, (code, [reason_text(r) for r in h.reasons if r.code == code])
    if "schedule" in label:
        assert h.lr is not None and h.lr.schedule in label["schedule"]
    if "state" in label:
        assert h.state.word in label["state"]


@pytest.mark.parametrize("name", ["real/hf5_resume_append.log", "real/hf5_cosine_tee.log"])
def test_verdict_does_not_depend_on_chunking(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    whole, chunked = run_pipeline(data), run_pipeline(data, chunk=4096)
    assert whole.codes == chunked.codes and whole.status == chunked.status


def test_three_line_example_through_the_parser() -> None:
    # GIVEN the three records an engineer reads in the brief
    log = (
        b"{'loss': 3.8214, 'learning_rate': 0.0, 'epoch': 0.0}\n"
        b"{'loss': 3.1959, 'learning_rate': 0.0002, 'epoch': 0.0}\n"
        b"{'loss': 2.3571, 'learning_rate': 0.000199, 'epoch': 0.01}\n"
    )
    # WHEN analysed
    h = run_pipeline(log)
    # THEN healthy: loss fell 3.821 → 2.357, the LR warmed up and now decays, the epoch advances
    assert h.status == "healthy"
    assert h.codes[:1] == ["loss_decreasing"] or "loss_decreasing" in h.codes
    dec = h.reason("loss_decreasing")
    assert dec is not None and "3.821 → 2.357" in reason_text(dec, "en") and "−38 %" in reason_text(dec, "en")
    assert "снизился 3.821 → 2.357" in reason_text(dec, "ru")
    assert "lr_decay" in h.codes and "lr_stuck_zero" not in h.codes
    lr = h.reason("lr_decay")
    assert lr is not None and "2.00e-04" in reason_text(lr, "en")
    assert "epoch_advancing" in h.codes
    assert h.lr is not None and h.lr.peak == 0.0002 and h.lr.warmup_end_x == 1.0


def test_resumed_run_keeps_each_step_once() -> None:
    h = run_pipeline((FIXTURES / "real/hf5_resume_append.log").read_bytes())
    assert h.state.word == "finished" and h.state.why == "summary"
    assert h.loss_trend is not None and h.loss_trend.word == "decreasing"


def test_glm4_names_the_nonfinite_grad_with_a_finite_loss() -> None:
    h = run_pipeline((FIXTURES / "public/glm4_gradnorm_nan_trailing_ws.log").read_bytes())
    r = h.reason("grad_nonfinite")
    assert r is not None and r.severity == "critical" and "logging_nan_inf_filter" in reason_text(r, "en")
    assert h.reasons[0].severity == "critical"
