"""What the output's character set can show: plain fallbacks for the symbols trainmon draws.

Every output goes through a text stream with a locale encoding (``sys.stdout`` for ``report``
and ``tail --plain/--json``, ``sys.__stderr__`` for the dashboard, which Textual's driver
writes to). Under an ISO-8859-1 or ASCII locale (``LC_ALL=C`` with ``PYTHONUTF8=0``) Python
raises ``UnicodeEncodeError`` at the first ``→`` or ``✓`` (stdout's error handler is
``strict``), or writes ``\\u2713`` (stderr's is ``backslashreplace``: six columns where the
layout reserved one). Textual itself does not look at the encoding: its Linux driver writes
every glyph to ``sys.__stderr__`` as it is (``textual/drivers/linux_driver.py``; a blank
screen under ISO-8859-1 in older releases was Textualize/textual#4168).

:func:`prepare_stream` installs one of three error handlers on such a stream, so each character
the encoding cannot show is replaced where it is encoded, whoever wrote it (our lines, Textual's
borders, a metric key read from the log):

- ``"text"`` (``report``, ``--plain``, messages): a readable fallback (``→`` ``->``, ``✓``
  ``OK``, ``−`` ``-``, ``…`` ``...``; :data:`TEXT_FALLBACKS`), a letter without its accent
  (``é`` ``e``), a Russian letter in Latin (``ж`` ``zh``), else ``?``.
- ``"cells"`` (the dashboard): a fallback of the same width in terminal cells (``→`` ``>``,
  ``✓`` ``v``; :data:`CELL_FALLBACKS`), so Textual's layout, computed on the real glyphs,
  stays right: box drawing becomes ``-`` ``|`` ``+``, braille chart cells ``'`` ``.`` ``:``,
  sparkline blocks ``_`` ... ``#``, a double-width character ``??``.
- ``"json"`` (``--json``): JSON's own ``\\uXXXX`` escapes (a UTF-16 surrogate pair above
  U+FFFF), exactly what ``json.dumps(ensure_ascii=True)`` writes. A stream whose encoding is not
  UTF-8 is switched to ASCII first, so ``--json`` is always valid UTF-8 (RFC 8259, section 8.1) and
  ``jq`` reads back every character, whatever the locale. Under UTF-8 it is unchanged (raw
  UTF-8; only a lone surrogate, from a file name that is not valid UTF-8, is escaped).

Stdlib only.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Callable
from typing import IO, Literal

__all__ = [
    "CELL_FALLBACKS",
    "TEXT_FALLBACKS",
    "Style",
    "fallback",
    "is_utf",
    "prepare_stream",
    "shown",
]

Style = Literal["text", "cells", "json"]
"""How a character the encoding cannot show is replaced (see the module docstring)."""

_SYMBOLS: dict[str, tuple[str, str]] = {
    # symbol: (readable text fallback, one-cell fallback)
    "→": ("->", ">"),
    "←": ("<-", "<"),
    "↑": ("^", "^"),
    "↓": ("v", "v"),
    "↗": ("/", "/"),
    "↘": ("\\", "\\"),
    "▶": (">", ">"),
    "▲": ("^", "^"),
    "▼": ("v", "v"),
    "▬": ("=", "="),
    "■": ("#", "#"),
    "◔": ("o", "o"),
    "★": ("*", "*"),
    "◆": ("<>", "+"),
    "⚠": ("!", "!"),
    "✓": ("OK", "v"),
    "✗": ("X", "x"),
    "·": ("-", "."),
    "…": ("...", "."),
    "—": ("--", "-"),
    "–": ("-", "-"),
    "−": ("-", "-"),
    "×": ("x", "x"),
    "≥": (">=", ">"),
    "≤": ("<=", "<"),
    "≈": ("~", "~"),
    "±": ("+/-", "+"),
    "∓": ("-/+", "-"),
    "«": ("<<", '"'),
    "»": (">>", '"'),
    "⏸": ("||", "|"),
    "№": ("No", "N"),
    "²": ("^2", "2"),
    "β": ("beta", "b"),
    "√": ("sqrt", "V"),
    "Σ": ("sum", "E"),
    "░": (":", ":"),
    "▏": ("|", "|"),
    "▕": ("|", "|"),
    "▔": ("-", "-"),
    "▁": ("_", "_"),
    "▂": (".", "."),
    "▃": ("-", "-"),
    "▄": ("-", "-"),
    "▅": ("=", "="),
    "▆": ("=", "="),
    "▇": ("#", "#"),
    "█": ("#", "#"),
    "�": ("?", "?"),
    "␡": ("^?", "?"),
}

TEXT_FALLBACKS: dict[str, str] = {k: v[0] for k, v in _SYMBOLS.items()}
"""The symbols trainmon draws (arrows, marks, dashes, sparkline blocks) and their readable
ASCII fallbacks for line outputs (``report``, ``--plain``)."""

CELL_FALLBACKS: dict[str, str] = {k: v[1] for k, v in _SYMBOLS.items()}
"""The same symbols and one-cell ASCII fallbacks (the dashboard's layout keeps its widths)."""

for _code in range(0x20):
    # Control pictures (core.text.inert shows ESC as ␛): caret notation, as `cat -v` writes it.
    _pic = chr(0x2400 + _code)
    TEXT_FALLBACKS[_pic] = "^" + chr(0x40 + _code)
    CELL_FALLBACKS[_pic] = "?"


_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e yo zh z i y k l m n o p r s t u f kh ts ch sh shch ' y ' e yu ya".split(),
        strict=True,
    )
)
"""Russian letters in Latin (`--lang ru` under an ISO-8859-1 locale reads as words, not ``???``)."""


def _latin(ch: str) -> str | None:
    """A Russian letter in Latin letters (capitalised like ``ch``), else ``None``."""
    low = ch.lower()
    got = _CYRILLIC.get(low)
    if got is None:
        return None
    return got.capitalize() if low != ch else got


def _cells(ch: str) -> int:
    """Terminal cells a character takes: 2 for East Asian wide/full-width, 0 for a combining
    mark or a format character, else 1 (the rule ``wcwidth`` and Rich's ``cell_len`` follow)."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _drawing(ch: str) -> str | None:
    """A box-drawing, block or braille character as ASCII of one cell, else ``None``."""
    code = ord(ch)
    if 0x2500 <= code <= 0x257F:  # box drawing (Textual's borders, rules, scrollbars)
        name = unicodedata.name(ch, "")
        horizontal, vertical = "HORIZONTAL" in name, "VERTICAL" in name
        if horizontal and not vertical:
            return "-"
        if vertical and not horizontal:
            return "|"
        return "+"
    if 0x2580 <= code <= 0x259F:  # block elements (half blocks of scrollbars and tall borders)
        return "#"
    if 0x2800 <= code <= 0x28FF:  # braille chart cells: which half holds dots
        dots = code - 0x2800
        upper, lower = dots & 0x1B, dots & 0xE4  # dots 1,2,4,5 / dots 3,6,7,8
        return ":" if upper and lower else "'" if upper else "." if lower else " "
    return None


def fallback(ch: str, style: Style) -> str:
    """The replacement of one character the output encoding cannot show.

    Args:
        ch: one character.
        style: ``"text"`` (readable, any width), ``"cells"`` (exactly as many terminal cells
            as ``ch``) or ``"json"`` (JSON escapes).

    Returns:
        ASCII text: from :data:`TEXT_FALLBACKS` / :data:`CELL_FALLBACKS`, a drawing character's
        shape, the letter without its accent (Unicode NFKD), else ``?`` per cell.
    """
    code = ord(ch)
    if style == "json":
        if code > 0xFFFF:
            code -= 0x10000
            return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
        return f"\\u{code:04x}"
    table = TEXT_FALLBACKS if style == "text" else CELL_FALLBACKS
    got = table.get(ch)
    if got is not None:
        return got
    shape = _drawing(ch)
    if shape is not None:
        return shape
    latin = _latin(ch)
    if latin is not None:
        return latin if style == "text" else latin[0]
    width = _cells(ch)
    folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii")
    folded = "".join(c for c in folded if c.isprintable())
    if folded and (style == "text" or len(folded) == width):
        return folded
    return "?" * (width if style == "cells" else 1)


def _handler(style: Style) -> Callable[[UnicodeError], tuple[str | bytes, int]]:
    def handle(err: UnicodeError) -> tuple[str | bytes, int]:
        if not isinstance(err, UnicodeEncodeError):
            raise err
        return "".join(fallback(ch, style) for ch in err.object[err.start : err.end]), err.end

    return handle


_HANDLERS: dict[Style, str] = {"text": "trainmon-text", "cells": "trainmon-cells", "json": "trainmon-json"}
"""The codec error handler registered per style (``codecs.register_error``)."""

for _style, _name in _HANDLERS.items():
    codecs.register_error(_name, _handler(_style))


def is_utf(encoding: str | None) -> bool:
    """Whether ``encoding`` (a codec name, ``None`` for unknown) can encode every character."""
    if not encoding:
        return False
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def shown(text: str, encoding: str | None, style: Style = "text") -> str:
    """``text`` as it reaches a reader through ``encoding``: each character the encoding cannot
    show replaced by its :func:`fallback` (for writers that encode bytes themselves, and tests).
    Under JSON's style a non-UTF-8 encoding gives ASCII, as :func:`prepare_stream` does."""
    enc = encoding or "ascii"
    if style == "json" and not is_utf(enc):
        enc = "ascii"
    try:
        return text.encode(enc, _HANDLERS[style]).decode(enc)
    except LookupError:
        return text.encode("ascii", _HANDLERS[style]).decode("ascii")


def prepare_stream(stream: IO[str] | None, style: Style) -> None:
    """Make ``stream`` replace what its encoding cannot show instead of raising (or writing
    ``\\u2713``): its error handler becomes the one of ``style``; for ``"json"`` a non-UTF-8
    stream is switched to ASCII (see the module docstring). Streams that are not a
    ``TextIOWrapper`` (``io.StringIO`` in tests, ``None`` without a console) are left alone.
    """
    reconfigure = getattr(stream, "reconfigure", None)
    if stream is None or reconfigure is None:
        return
    encoding = getattr(stream, "encoding", None)
    if style == "json" and not is_utf(encoding):
        reconfigure(encoding="ascii", errors=_HANDLERS[style])
    else:
        reconfigure(errors=_HANDLERS[style])
