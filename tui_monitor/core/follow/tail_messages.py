"""GNU tail's messages about the followed file, taken out of its output (``tail -F 2>&1``).

``tail -c +N -F`` reports what happens to the file on stderr: "file truncated", "has been
replaced", "has appeared", "has become inaccessible", "cannot open ... for reading". Merged into
stdout they keep their place among the bytes; :class:`MessageSplitter` finds them there, only with
the followed file's exact name (as coreutils quotes it: plain, ``'...'`` or ``"..."``), so a log
line never passes for one. The strings are coreutils 9's, checked by running it.
"""

from __future__ import annotations

import re
import shlex

__all__ = ["KINDS", "MessageSplitter"]


def _message_re(path: str) -> re.Pattern[bytes]:
    """tail's messages about ``path``, in the ways GNU tail quotes a name (plain, '...', "...")."""
    names = {path, f"'{path}'", f'"{path}"', shlex.quote(path)}
    name = b"(?:" + b"|".join(re.escape(n.encode()) for n in sorted(names, key=len, reverse=True)) + b")"
    return re.compile(
        b"tail: (?:"
        + name
        + b"(?P<kind>: file truncated| has been replaced;  following new file| has appeared;  following new file"
        + b"| has become inaccessible: [^\n]*| has been replaced with an untailable file[^\n]*)"
        + b"|cannot open "
        + name
        + b" for reading: (?P<why>[^\n]*))\n"
    )


KINDS = (": file truncated", " has been replaced;", " has appeared;", " has become inaccessible")
"""The beginnings of tail's messages about the followed file, as `_Splitter` names them."""


class MessageSplitter:
    """Takes tail's messages about one file out of its merged output; holds back the end of
    the output while it may be the start of a message.

    Args:
        path: the file's name as tail was given it.
    """

    HOLD_MAX = 8192

    def __init__(self, path: str) -> None:
        self.re = _message_re(path)
        self.held = b""

    def feed(self, data: bytes) -> list[bytes | tuple[str, str]]:
        """The pieces of ``data`` (after what was held back), in order: log bytes, or
        ``(kind, text)`` for a message (``kind`` one of :data:`KINDS`, or ``"cannot open"``
        with the reason, or ``"untailable"``)."""
        buf = self.held + data
        cut = self._hold_from(buf)
        self.held = buf[cut:]
        out: list[bytes | tuple[str, str]] = []
        pos = 0
        for m in self.re.finditer(buf, 0, cut):
            if m.start() > pos:
                out.append(buf[pos : m.start()])
            said = m.group("kind")
            if said is not None:
                text = said.decode("utf-8", "replace")
                out.append((next((k for k in KINDS if text.startswith(k)), "untailable"), text))
            else:
                out.append(("cannot open", m.group("why").decode("utf-8", "replace")))
            pos = m.end()
        if cut > pos:
            out.append(buf[pos:cut])
        return out

    def _hold_from(self, buf: bytes) -> int:
        """Where a message may have begun without its newline yet (else ``len(buf)``)."""
        line = buf.rfind(b"\n") + 1
        seg = buf[line:]
        if len(seg) > self.HOLD_MAX:
            return len(buf)
        i = seg.find(b"tail: ")
        if i >= 0:
            return line + i
        for k in range(min(5, len(seg)), 0, -1):
            if b"tail: ".startswith(seg[-k:]):
                return len(buf) - k
        return len(buf)
