"""A suggested action for every warning and critical finding, in English and Russian."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT

from tui_monitor.core.analysis.verdict import Reason
from tui_monitor.core.pipeline import read_once
from tui_monitor.core.report import report_dict
from tui_monitor.core.text.actions import ACTIONS, action_text
from tui_monitor.core.text.reasons import REASONS

SETTING = re.compile(r"`[^`]+`")
"""A setting (or command) named in an action: ``max_grad_norm=1.0``, ``dmesg``."""


def _alarm_codes() -> set[str]:
    """Reason codes the analysis can emit with a severity other than ok/info (from its source)."""
    source = "\n".join(p.read_text() for p in (ROOT / "tui_monitor/core/analysis").glob("*.py"))
    calls = re.findall(r'Reason\(\s*"([a-z_]+)",\s*([^,]+),', source)
    assert len(calls) >= 30, calls
    return {code for code, sev in calls if sev.strip() not in ('"ok"', '"info"')}


def test_every_code_that_can_warn_has_an_action_in_both_languages() -> None:
    """GIVEN every reason code the analysis emits as a warning or critical, with each of its variants
    WHEN its action is asked in en and ru THEN it names at least one setting to change."""
    codes = _alarm_codes()
    assert {"grad_exploding", "grad_nonfinite", "eval_overfitting", "run_stalled", "lr_stuck_zero"} <= codes
    for code in sorted(codes):
        variants = [k.partition(".")[2] for k in REASONS if k.partition(".")[0] == code]
        for variant in variants:
            for step in (120, None):
                r = Reason(code, "warning", step, variant, {"line": "Traceback", "why": "traceback"})
                en, ru = action_text(r, "en"), action_text(r, "ru")
                assert en and ru, (code, variant, step)
                assert SETTING.search(en) and SETTING.search(ru), (code, variant)
                assert "{" not in en + ru and "None" not in en + ru, (en, ru)


def test_both_languages_name_the_same_settings() -> None:
    """GIVEN each action WHEN its two languages are compared THEN they name the same `settings`."""
    for key, (en, ru) in ACTIONS.items():
        assert set(SETTING.findall(en)) == set(SETTING.findall(ru)), key


@pytest.mark.parametrize(
    ("why", "named"),
    [("oom", "`per_device_train_batch_size`"), ("nccl_timeout", "`ddp_timeout`"), ("traceback", "traceback")],
)
def test_a_crash_is_answered_by_its_evidence(why: str, named: str) -> None:
    """GIVEN a crash found by an OOM, an NCCL timeout or a traceback WHEN its action is asked THEN it fits the cause."""
    r = Reason("run_crashed", "critical", 50, "", {"line": "x", "why": why})
    assert named in (action_text(r) or "")


def test_ok_and_info_findings_have_no_action() -> None:
    """GIVEN a healthy finished run WHEN its reasons' actions are asked THEN there are none."""
    health = read_once(FIXTURES / "real/hf5_linear_warmup.log").health()
    assert health.status == "healthy"
    assert [action_text(r) for r in health.reasons] == [None] * len(health.reasons)


def test_the_exploding_run_says_what_to_try(tmp_path: Path) -> None:
    """GIVEN the exploding demo log WHEN reported THEN its grad_norm reason says to clip and lower the LR or use bf16,
    in `report --json` ("action") and in the report's text under the reason."""
    from tui_monitor.core.report import report_text

    log = ROOT / "tui_monitor/data/hf4_exploding_nan.log"
    pipe = read_once(log)
    reasons = {r["code"]: r for r in json.loads(json.dumps(report_dict(pipe)))["verdict"]["reasons"]}
    assert reasons["grad_nonfinite"]["severity"] == "critical"
    assert reasons["grad_nonfinite"]["action"] == (
        "if you train with `fp16=True`, try `bf16=True` instead; or lower `learning_rate` and keep `max_grad_norm=1.0`"
    )
    assert reasons["loss_diverging"]["action"].startswith("lower `learning_rate`, set `max_grad_norm=1.0`")
    assert reasons["lr_decay"]["action"] is None
    lines = report_text(pipe, str(log)).splitlines()
    i = next(i for i, line in enumerate(lines) if "grad_norm is nan" in line)
    assert lines[i + 1] == "      → " + reasons["grad_nonfinite"]["action"]
    ru = {r["code"]: r for r in report_dict(pipe, "ru")["verdict"]["reasons"]}
    assert ru["grad_nonfinite"]["action"].startswith("если обучаете с `fp16=True`, попробуйте `bf16=True`")
