"""The output fallbacks of `core.text.charset`: every symbol trainmon draws has a plain one."""

from __future__ import annotations

import io
import json
import unicodedata

from helpers import ROOT

from tui_monitor.core.text.charset import CELL_FALLBACKS, TEXT_FALLBACKS, fallback, prepare_stream, shown


def _project_symbols() -> set[str]:
    """Non-ASCII characters in the package's source that are not letters (words are text)."""
    chars: set[str] = set()
    for path in (ROOT / "tui_monitor").rglob("*.py"):
        chars.update(ch for ch in path.read_text(encoding="utf-8") if not ch.isascii())
    return {ch for ch in chars if not unicodedata.category(ch).startswith("L")}


def test_every_symbol_of_the_project_has_a_named_fallback() -> None:
    # GIVEN every non-letter glyph the package's source holds (arrows, marks, blocks...)
    symbols = _project_symbols()
    assert {"→", "✓", "✗", "…", "−", "↓", "▶"} <= symbols
    # THEN each has a readable ASCII fallback and a one-cell one
    missing = sorted(ch for ch in symbols if ch not in TEXT_FALLBACKS)
    assert missing == []
    assert all(v.isascii() and v for v in TEXT_FALLBACKS.values())
    assert all(v.isascii() and len(v) == 1 for v in CELL_FALLBACKS.values())


def test_text_fallbacks_read_as_words() -> None:
    line = "  ✓ loss fell 6.191 → 4.272 (−31 %) … ≥ 2 ␛[2J"
    assert shown(line, "ascii") == "  OK loss fell 6.191 -> 4.272 (-31 %) ... >= 2 ^[[2J"
    # latin-1 shows what it can (× and é), the rest falls back
    assert shown("3 × é → ✗", "iso8859-1") == "3 × é -> X"


def test_cell_fallbacks_keep_each_glyph_width() -> None:
    # GIVEN a status line, a bordered title, braille chart cells, sparkline blocks and CJK
    line = "▔verdict · +2 more ↓▔ ✓ HEALTHY ⠉⠋⣀⡀⠀ ▁▃▅█ ┌─┐│ 损失"
    got = shown(line, "ascii", "cells")
    # THEN every glyph becomes as many ASCII characters as it has cells
    assert got == "-verdict . +2 more v- v HEALTHY ''..  _-=# +-+| ????"
    assert len(got) == len(line) + 2  # the two CJK characters take two cells each


def test_json_fallback_is_json_escapes() -> None:
    # GIVEN JSON text with BMP and astral characters, a lone surrogate from a file name
    text = json.dumps({"reason": "loss 6.1 → 4.2 😀", "file": "log\udcff"}, ensure_ascii=False)
    got = shown(text, "iso8859-1", "json")
    # THEN the result is ASCII and equal to what ensure_ascii writes
    assert got.isascii()
    assert got == json.dumps({"reason": "loss 6.1 → 4.2 😀", "file": "log\udcff"})
    assert fallback("😀", "json") == "\\ud83d\\ude00"


def test_prepare_stream_replaces_instead_of_raising() -> None:
    # GIVEN an ASCII text stream, as stdout is under LC_ALL=C
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    # WHEN prepared for plain text THEN a verdict line is written with fallbacks
    prepare_stream(out, "text")
    out.write("-- verdict HEALTHY: loss fell 6.191 → 4.272 (−31 %)\n")
    out.flush()
    assert raw.getvalue() == b"-- verdict HEALTHY: loss fell 6.191 -> 4.272 (-31 %)\n"
    # AND a latin-1 stream prepared for JSON becomes ASCII with escapes
    raw2 = io.BytesIO()
    out2 = io.TextIOWrapper(raw2, encoding="iso8859-1")
    prepare_stream(out2, "json")
    out2.write('{"k": "é →"}\n')
    out2.flush()
    assert raw2.getvalue() == b'{"k": "\\u00e9 \\u2192"}\n'
    # AND a stream without an encoding (a StringIO) is left as it is
    s = io.StringIO()
    prepare_stream(s, "text")
    s.write("→")
    assert s.getvalue() == "→"


def test_russian_words_read_in_latin_letters() -> None:
    # GIVEN `--lang ru` text under a locale without Cyrillic
    line = "-- вердикт НОРМА: завершён, шаг 300/300"
    # THEN line outputs spell it in Latin, the dashboard with one letter per cell
    assert shown(line, "iso8859-1") == "-- verdikt NORMA: zavershyon, shag 300/300"
    assert shown("НОРМА завершён", "ascii", "cells") == "NORMA zaversyn"
