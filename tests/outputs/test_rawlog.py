"""The raw log read by offset on demand (core.rawlog): windows, the end, a filter, inert text."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import FIXTURES

from tui_monitor.core.rawlog import RawLog, shown_text

LOG = FIXTURES / "real" / "tokens_checkpoints.log"
TRUTH = json.loads((FIXTURES / "real" / "tokens_checkpoints.truth.json").read_text())
RECORDS = TRUTH["runs"][0]["print_check_records"]


def test_around_an_offset_gives_the_line_there_and_its_neighbours() -> None:
    # GIVEN the byte offset of the record of step 130 (from the truth file)
    rec = next(r for r in RECORDS if r["step"] == 130 and r["kind"] == "train")
    lines, i = RawLog(LOG).around(rec["byte_offset"], window=2048)
    # THEN the line holding it is the record as printed, with lines before and after it
    assert lines[i].text == rec["text"]
    assert lines[i].offset == rec["byte_offset"]
    assert 0 < i < len(lines) - 1


def test_tail_ends_with_the_summary_record_and_bars_show_their_last_segment() -> None:
    lines = RawLog(LOG).tail(4096)
    summary = next(r for r in RECORDS if r["kind"] == "summary")
    assert lines[-1].text == summary["text"]
    # the final bar line was redrawn with \r many times: the last redraw shows
    bar = next(ln.text for ln in reversed(lines) if "200/200" in ln.text)
    assert bar.startswith("100%|") and "\r" not in bar


def test_grep_finds_every_checkpoint_line_in_file_order() -> None:
    lines, whole = RawLog(LOG).grep(re.compile(r"Saving model checkpoint to (\S+)"))
    paths = [re.search(r"to (\S+)", ln.text).group(1) for ln in lines]  # type: ignore[union-attr]
    assert paths == TRUTH["log_file_stats"]["saving_checkpoint_lines"]
    assert whole


def test_grep_across_chunk_boundaries_and_a_scan_limit(tmp_path: Path) -> None:
    # GIVEN 3 MiB of numbered lines (more than one read chunk)
    p = tmp_path / "big.log"
    p.write_bytes(b"".join(b"line %07d padding padding padding\n" % i for i in range(90_000)))
    log = RawLog(p)
    every, whole = log.grep(re.compile(r"0000$|line 00[0-9]{3}00 "), limit=100_000)
    assert whole
    numbers = [int(ln.text.split()[1]) for ln in every]
    assert numbers == [i for i in range(90_000) if i % 100 == 0]
    # WHEN the scan is limited to the last 1 MiB THEN only lines from there, and it says so
    part, whole = log.grep(re.compile(r"line"), limit=100_000, scan=1 << 20)
    assert not whole and part[-1].text.startswith("line 0089999")
    assert len(part) < 90_000


def test_shown_text_is_inert() -> None:
    raw = b"\x1b[31mred\x1b[0m then \x1b]52;c;AAAA\x07 and \x07 bell\r"
    text = shown_text(raw)
    assert "\x1b" not in text and "\x07" not in text
    assert text.startswith("red then")
