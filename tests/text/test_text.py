"""The text catalogue: one number/duration format, reason sentences rendered from codes + typed facts."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT  # noqa: E402

from tui_monitor.core.analysis import Health
from tui_monitor.core.analysis.verdict import Place, Reason
from tui_monitor.core.pipeline import read_once
from tui_monitor.core.text import fmt_change, fmt_duration, fmt_num, fmt_percent, reason_text, words
from tui_monitor.core.text.reasons import FRAGMENTS, REASONS, place_text

LOGS = sorted(
    p
    for p in [*FIXTURES.rglob("*"), *(ROOT / "tui_monitor" / "data").rglob("*")]
    if p.is_file()
    and p.suffix in (".log", ".jsonl", ".json")
    and p.name != "labels.json"
    and not p.name.endswith((".truth.json", ".expect.json"))
)


@cache
def health_of(name: str) -> Health:
    """The verdict of a whole fixture read once, as ``trainmon report`` reads it (no clock)."""
    return read_once(FIXTURES / name).health()


def text_of(name: str, code: str, lang: str) -> str:
    reason = health_of(name).reason(code)
    assert reason is not None, (name, code, health_of(name).codes)
    return reason_text(reason, lang)


# -- the formatter ---------------------------------------------------------------------------------


def test_numbers_have_one_short_form() -> None:
    """GIVEN typical Trainer values WHEN formatted THEN 4 significant digits, e-notation only when tiny or huge."""
    assert fmt_num(4.812) == "4.812"
    assert fmt_num(3.8214) == "3.821"
    assert fmt_num(0.0392) == "0.0392"
    assert fmt_num(0.0001971) == "1.97e-04"
    assert fmt_num(2e-4) == "2.00e-04"
    assert fmt_num(0.001) == "0.001"
    assert fmt_num(238.43) == "238.4"
    assert fmt_num(2339.0) == "2339"
    assert fmt_num(12345.6) == "12346"
    assert fmt_num(1.234e6) == "1.23e+06"
    assert fmt_num(-0.5) == "-0.5"
    assert fmt_num(0.0) == "0"
    assert fmt_num(2.94, 3) == "2.94" and fmt_num(0.10994, 3) == "0.11"
    assert [fmt_num(v) for v in (float("nan"), float("inf"), float("-inf"))] == ["nan", "inf", "-inf"]
    assert fmt_num(None) == "–"


def test_durations_read_as_a_clock() -> None:
    """GIVEN seconds WHEN formatted THEN m:ss or h:mm:ss, as tqdm prints them; unknown is a dash."""
    assert fmt_duration(23) == "0:23"
    assert fmt_duration(245.4) == "4:05"
    assert fmt_duration(3723) == "1:02:03"
    assert fmt_duration(180000) == "50:00:00"
    assert [fmt_duration(v) for v in (None, -1.0, float("nan"), float("inf"))] == ["–"] * 4


def test_changes_and_fractions() -> None:
    assert fmt_change(-0.3832) == "−38 %" and fmt_change(0.05) == "+5 %" and fmt_change(0.0) == "+0 %"
    assert fmt_percent(0.456) == "46 %" and fmt_percent(None) == "–"


# -- reasons rendered from real fixtures -------------------------------------------------------


def test_loss_and_finish_of_a_cosine_run_in_both_languages() -> None:
    """GIVEN the finished cosine run WHEN its reasons are rendered THEN the real numbers in both languages."""
    name = "real/hf5_cosine_tee.log"
    assert text_of(name, "loss_decreasing", "en") == "loss fell 6.183 → 3.622 (−41 %)"
    assert text_of(name, "loss_decreasing", "ru") == "loss снизился 6.183 → 3.622 (−41 %)"
    assert text_of(name, "run_finished", "en") == "finished (summary record, train_runtime 0:47): step 138/138 (100 %)"
    assert text_of(name, "run_finished", "ru") == "завершён (итоговая запись, train_runtime 0:47): шаг 138/138 (100 %)"
    assert text_of(name, "eval_improving", "en") == "eval_loss improving: 4.873 → 3.649 (best 3.649 at step 138)"
    assert text_of(name, "eval_improving", "ru") == "eval_loss улучшается: 4.873 → 3.649 (лучший 3.649 на шаге 138)"
    assert text_of(name, "epoch_advancing", "en") == "epochs done: 0.11 → 2.94"


def test_schedule_names_and_warmup_have_one_translation() -> None:
    """GIVEN a constant-after-warmup LR WHEN rendered THEN the schedule reads as on the screen, warmup is «прогрев»."""
    name = "real/hf5_constant_lr.log"
    assert (
        text_of(name, "lr_hold", "en") == "LR warmed up to 3.00e-04 at step 60 and holds there (constant after warmup)"
    )
    assert text_of(name, "lr_hold", "ru") == "LR прогрет до 3.00e-04 на шаге 60 и держится (постоянный после прогрева)"
    assert words.word("constant_with_warmup", "ru") in text_of(name, "lr_hold", "ru")
    # one Russian word for warmup in every word and sentence
    every_text = [ru for table in (words.WORDS, words.LABELS, REASONS, FRAGMENTS) for _, ru in table.values()]
    assert not any("разогр" in t for t in every_text)


def test_a_place_without_a_step_is_its_epoch_never_a_record_ordinal() -> None:
    """GIVEN NaN grad_norm with no step on the x axis WHEN rendered THEN the place is the record's
    epoch (the 6th record's 'epoch': 5.38), never its ordinal, which a person cannot map."""
    name = "public/glm4_gradnorm_nan_trailing_ws.log"
    assert text_of(name, "grad_nonfinite", "en").startswith(
        "grad_norm is nan (first at epoch 5.38, 1× in all) while loss is still finite"
    )
    assert text_of(name, "grad_nonfinite", "ru").startswith(
        "grad_norm равен nan (впервые на эпохе 5.38, всего 1×) при конечном loss"
    )


def test_a_place_with_neither_step_nor_epoch_is_not_said() -> None:
    """GIVEN places that are record ordinals WHEN rendered THEN the epoch is said, or nothing."""
    assert place_text(5.0, False, "en", 1.5625) == "at epoch 1.56"
    assert place_text(5.0, False, "ru", 1.5625) == "на эпохе 1.56"
    assert place_text(5.0, False, "en", None) == ""
    assert place_text(110.0, True, "en", 1.5625) == "at step 110"


def test_optional_parts_of_a_sentence() -> None:
    """GIVEN findings built by hand WHEN rendered THEN an absent fact leaves no trace, a slow rate reads per step."""
    running = Reason(
        "run_running", "ok", 50, params={"step": 50, "total": 60, "fraction": 50 / 60, "rate": 0.02, "eta": 439.0}
    )
    assert reason_text(running) == "running: step 50/60 (83 %), 50 s/step, ETA 7:19"
    assert reason_text(running, "ru") == "идёт: шаг 50/60 (83 %), 50 с/шаг, осталось ~7:19"
    bare = Reason(
        "run_running", "ok", None, params={"step": None, "total": None, "fraction": 0.0, "rate": None, "eta": None}
    )
    assert reason_text(bare) == "running" and reason_text(bare, "ru") == "идёт"
    stalled = Reason("run_stalled", "warning", None, params={"silence": 5400.0, "usual": None})
    assert reason_text(stalled) == "stalled: no new record for 1:30:00"
    spike = Reason("loss_spike", "warning", 110, params={"at": Place(110.0, True), "before": 2.1, "after": 9.75})
    assert reason_text(spike, "ru") == "всплеск loss на шаге 110: 2.1 → 9.75"


# -- completeness ------------------------------------------------------------------------------


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_template_has_both_languages_with_the_same_facts() -> None:
    for table in (REASONS, FRAGMENTS):
        for key, (en, ru) in table.items():
            assert en.strip() and ru.strip(), key
            assert _fields(en) == _fields(ru), key
    for table in (words.WORDS, words.LABELS, words.KEYS, words.HELP_TEXTS, words.SHORT_KEYS, words.VERDICT_WORDS):
        for key, (en, ru) in table.items():
            assert en.strip() and ru.strip(), key


def test_every_code_the_analysis_emits_has_a_template() -> None:
    """GIVEN the reason codes written in the analysis' source WHEN looked up THEN each has a sentence."""
    source = "\n".join(p.read_text() for p in (ROOT / "tui_monitor/core/analysis").glob("*.py"))
    codes = set(re.findall(r'Reason\(\s*"([a-z_]+)"', source))
    assert len(codes) >= 25, codes
    keys = {k.split(".")[0] for k in REASONS}
    assert codes <= keys, codes - keys


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_every_reason_of_every_fixture_renders_in_both_languages(log: Path) -> None:
    """GIVEN every fixture WHEN analysed and rendered THEN every finding has a whole sentence in each language."""
    for r in read_once(log).health().reasons:
        for lang in ("en", "ru"):
            text = reason_text(r, lang)
            assert text and "{" not in text and "None" not in text, (r, lang, text)


def test_the_analysis_imports_no_words() -> None:
    """GIVEN a fresh interpreter WHEN the analysis is imported THEN the text catalogue is not (codes, not prose)."""
    code = (
        "import sys, tui_monitor.core.analysis; print(any(m.startswith('tui_monitor.core.text') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_headless_lines_use_the_catalogue_and_the_formatter() -> None:
    """GIVEN a plain printer in Russian WHEN a resume and a record are printed THEN words and numbers come from text/."""
    import io

    from tui_monitor.core.headless import HeadlessPrinter
    from tui_monitor.core.parse import Record, Rewind

    buf = io.StringIO()
    printer = HeadlessPrinter(buf, as_json=False, lang="ru")
    printer.items([Rewind(epoch=0.8203125, step=None), Rewind(epoch=0.82, step=105)])
    printer.items(
        [Record(kind="train", metrics={"loss": 12345.6, "learning_rate": 0.0001971}, step=5, epoch=0.0390625)]
    )
    assert buf.getvalue().splitlines() == [
        "-- запуск перезапущен или продолжен: записи с эпохи 0.8203 заменяют прежние",
        "-- запуск перезапущен или продолжен: записи с шага 105 заменяют прежние",
        "train    step 5  epoch 0.03906  loss 12346  learning_rate 1.97e-04",
    ]
