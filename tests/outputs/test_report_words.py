"""What `report` says of logs read on evidence (issue 12): no data and why, the readings
taken, and log text made inert. In-process (report_dict / report_text on a real pipeline)."""

from __future__ import annotations

from pathlib import Path

from tui_monitor.core.pipeline import read_once
from tui_monitor.core.report import report_dict, report_text


def test_unreadable_fragments_and_no_data_are_said(tmp_path: Path) -> None:
    # GIVEN a log whose only dict was wrapped by a terminal and lost a colon in the wrap
    log = tmp_path / "wrapped.log"
    log.write_bytes(b"{'loss': 2.4, 'learn\ning_rate' 2e-05, 'epoch': 0.2}\n")
    pipe = read_once(log)
    # WHEN reported THEN no verdict is invented, and why there is none is said
    d = report_dict(pipe)
    assert d["verdict"]["status"] == "no_data" and d["unreadable_fragments"] == 1
    text = report_text(pipe, str(log))
    assert "NO DATA" in text.upper() and "1 fragments looked like metrics but could not be read" in text


def test_report_text_is_inert(tmp_path: Path) -> None:
    # GIVEN a key holding an escaped OSC 52 clipboard write, which the parser decodes
    log = tmp_path / "hostile.log"
    log.write_bytes(b"{'loss': 1.0, 'k\\x1b]52;c;AAAA\\x07': 2.0, 'epoch': 0.1}\n")
    # WHEN reported as text THEN no control character reaches the terminal: it is shown as a picture
    text = report_text(read_once(log), str(log))
    assert "\x1b" not in text and "\x07" not in text and "k␛]52;c;AAAA␇" in text


def test_second_logger_reading_is_said(tmp_path: Path) -> None:
    # GIVEN LLaMA-Factory's log: each record printed by the Trainer and again by its logger
    log = tmp_path / "lf.log"
    log.write_bytes(
        b"{'loss': 1.23456, 'learning_rate': 4.98765e-05, 'epoch': 0.05}\n"
        b"[INFO|2024-11-02 10:00:01] llamafactory.train.callbacks:140 >> {'loss': 1.2346, "
        b"'learning_rate': 4.9877e-05, 'epoch': 0.05, 'throughput': 2211.35}\n"
    )
    pipe = read_once(log)
    # THEN the record counts once and the report says which reading was taken
    assert report_dict(pipe)["readings"] == ["second_logger"] and report_dict(pipe)["records"]["train"] == 1
    assert "printed again by a second logger" in report_text(pipe, str(log))
