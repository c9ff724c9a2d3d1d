"""Log text made inert for a terminal: the one function every text output uses.

Text read from a log is data. A metric key such as ``'k\\x1b]52;c;AAAA\\x07'`` (an escaped OSC 52
clipboard write, decoded by the parser as the Trainer printed it) must never reach a terminal
as an escape sequence: not in the app, not in ``trainmon report``'s text, not in
``trainmon tail --plain``.
"""

from __future__ import annotations

__all__ = ["inert"]


def _control_picture(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)  # ␀..␟: ESC shows as ␛, BEL as ␇
    if code == 0x7F:
        return "␡"
    return "�"  # C1 controls (0x80..0x9f) have no picture


_INERT = {c: _control_picture(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
_INERT[0x09] = " "


def inert(text: str) -> str:
    """Make log text safe to draw: every C0/C1 control character and DEL becomes a visible
    picture (``ESC`` → ``␛``, ``BEL`` → ``␇``, a newline → ``␊``, a tab → a space), so no
    escape sequence, bell or cursor move from a log ever reaches the terminal, and a
    one-line field stays one line. Markup needs no escaping: widgets build ``Content``
    from plain strings, which Textual never parses as markup.
    """
    return text.translate(_INERT)
