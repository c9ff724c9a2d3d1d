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


def test_read_from_an_offset_reads_on_across_chunks_and_holds_the_line_being_written(tmp_path: Path) -> None:
    # GIVEN 3 MiB of numbered lines and a last line without its newline yet
    p = tmp_path / "big.log"
    body = b"".join(b"line %07d padding padding padding\n" % i for i in range(90_000))
    p.write_bytes(body + b"line being wri")
    log = RawLog(p)
    start = body.index(b"line 0000100 ")
    # WHEN read forward from a line's first byte, every line
    span = log.read_from(start, limit=100_000)
    # THEN each line from there, at its offset, then the unfinished one, and where to read on
    assert [ln.text.split()[1] for ln in span.lines] == [f"{i:07d}" for i in range(100, 90_000)]
    assert span.lines[0].offset == start and span.lines[-1].offset == body.rindex(b"line 0089999")
    assert span.partial is not None and span.partial.text == "line being wri" and span.partial.offset == len(body)
    assert span.end == len(body) == log.complete_end()
    # WHEN filtered, with a limit THEN only the latest matches, and the same place to read on
    kept = log.read_from(start, re.compile(r"line 00\d{2}000 "), limit=10)
    assert [ln.text.split()[1] for ln in kept.lines] == [f"{i:07d}" for i in range(80_000, 90_000, 1000)]
    assert kept.partial is None and kept.end == len(body)
    # WHEN the line is finished THEN it is read whole from where the last read stopped
    with open(p, "ab") as f:
        f.write(b"tten\nnext\n")
    more = log.read_from(span.end)
    assert [(ln.offset, ln.text) for ln in more.lines] == [(len(body), "line being written"), (len(body) + 19, "next")]
    assert more.partial is None and more.end == p.stat().st_size


def test_read_from_keeps_the_end_of_a_line_longer_than_it_carries(tmp_path: Path) -> None:
    # GIVEN one 3 MiB line of bar redraws ending in a record, then a short line
    p = tmp_path / "bars.log"
    p.write_bytes(b"\r 10%|#| 1/10" * 240_000 + b"\r{'loss': 1.5}\nafter\n")
    span = RawLog(p).read_from(0)
    # THEN it shows as its last segment, and the next line follows it
    assert [ln.text for ln in span.lines] == ["{'loss': 1.5}", "after"]
    assert span.end == p.stat().st_size


def test_a_line_printed_over_a_cleared_bar_shows_without_the_clearing_blanks() -> None:
    # GIVEN the real log, whose checkpoint lines follow tqdm.write's clear ("\r" + blanks + ESC[A)
    lines, _ = RawLog(LOG).grep(re.compile(r"Saving model checkpoint"))
    # THEN each shows from its first word; an indented line without a redraw keeps its indent
    assert len(lines) == 4 and all(ln.text.startswith("[transformers] Saving model checkpoint") for ln in lines)
    assert shown_text(b'  File "train.py", line 3') == '  File "train.py", line 3'
