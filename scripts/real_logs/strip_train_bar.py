"""Make a real log whose only bars are eval bars: the train bar never reached the file (issue 11, item 9).

    python3 scripts/real_logs/strip_train_bar.py SRC.log TOTAL DST.log

Every segment of SRC (between ``\\r``/``\\n``) that is a draw of the train bar (``N/TOTAL [``) is
removed; a metric dict glued after a train-bar draw (block-buffered stdout) keeps its text. Everything
else (records, the nested eval bars with their ``\\x1b[A``, tqdm's clears, warnings) stays byte for byte,
so the records, their order and their values are the Trainer's own (SRC's truth file holds them).
"""

from __future__ import annotations

import re
import sys


def strip(data: bytes, total: int) -> bytes:
    """``data`` without the draws of the bar whose total is ``total``."""
    bar = re.compile(rb"\d+%\|[^|\r\n]*\|\s*\d+/" + str(total).encode() + rb" \[[^\]\r\n]*\]")
    parts = re.split(rb"(\r|\n)", data)
    out = []
    for i in range(0, len(parts), 2):
        seg, sep = parts[i], parts[i + 1] if i + 1 < len(parts) else b""
        m = bar.search(seg)
        if m is not None:
            rest = seg[: m.start()].strip() + seg[m.end() :]
            if not rest.strip():
                continue
            seg = seg[m.end() :] if b"{" in seg[m.end() :] else rest
        out.append(seg + sep)
    return b"".join(out)


if __name__ == "__main__":
    src, total, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(src, "rb") as f:
        data = f.read()
    with open(dst, "wb") as f:
        f.write(strip(data, total))
