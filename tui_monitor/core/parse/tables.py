"""Notebook tables: the Trainer in Jupyter/Colab prints its metrics as a table, not as dicts.

``NotebookProgressCallback`` draws an HTML table (``Epoch | Training Loss | Validation Loss |
Accuracy ...`` or ``Step | Training Loss ...``) that is updated at each evaluation. Exported
to text it is whitespace-, tab- or ``|``-separated; saved as HTML it is a ``<table>``. A cell
is ``No log`` when nothing was logged yet. Each row becomes a train record (its ``Training
Loss``) and an eval record (``Validation Loss`` and the metric columns), placed by the row's
epoch or step. Column names go back to the keys the Trainer logged: ``Training Loss`` ->
``loss``, ``Validation Loss`` -> ``eval_loss``, ``F1`` -> ``eval_f1`` (the callback turned
``eval_f1`` into ``F1`` by capitalising its parts).
"""

from __future__ import annotations

import re

from tui_monitor.core.parse.framing import has_any
from tui_monitor.core.parse.items import Record
from tui_monitor.core.parse.values import log_int

__all__ = ["TABLE_WORDS", "TableReader"]

_NO_LOG = "No log"
_HTML_RE = re.compile(rb"<(/?)(tr|th|td|table)\b[^>]*>|</t[hd]>", re.I)
_NUM_RE = re.compile(r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf)", re.I)
_SEP_LINE_RE = re.compile(r"[\s|:+=-]*")
TABLE_WORDS = {b"L": (b"Loss",), b">": (b">",)}
"""What a table line holds (a header's ``Loss``, HTML's ``>``), for `has_any`."""
MAX_COLUMNS = 64
"""More columns than this is not a Trainer's table (bounds the work on odd input)."""


def _key(name: str) -> str:
    """The Trainer key of a table column (see the module docstring)."""
    low = name.strip().lower()
    if low == "training loss":
        return "loss"
    if low == "validation loss":
        return "eval_loss"
    return "eval_" + "_".join(low.split())


def _is_header(cells: list[str]) -> bool:
    return (
        2 <= len(cells) <= MAX_COLUMNS
        and cells[0] in ("Epoch", "Step")
        and ("Training Loss" in cells or "Validation Loss" in cells)
    )


class TableReader:
    """Reads notebook tables line by line; the header it saw is carried between buffers.

    Attributes:
        header: the columns of the table being read (``None`` outside a table).
    """

    def __init__(self) -> None:
        self.header: list[str] | None = None
        self._html_header: list[str] | None = None
        self._html_cells: list[str] = []
        self._html_is_head = False
        self._cell_start = -1
        self._in_row = False  # between <tr> and </tr> (a row may span several buffers)
        self._row_offset = 0  # stream offset of the open <tr>

    @staticmethod
    def wanted(buf: bytes) -> bool:
        """Whether ``buf`` may hold a table line (a cheap prefilter)."""
        # A header holds "Loss"; HTML holds ">". Both first letters are rare in console logs,
        # so a memchr per letter decides (a substring search for "</t" cost ~1 ms per MiB of
        # tqdm bars, which are full of "<").
        return has_any(buf, TABLE_WORDS)

    def scan(self, buf: bytes, base: int, may: bool = True) -> list[Record]:
        """Records of the table rows in ``buf`` (complete lines), in order. ``may`` is False when
        the caller knows that no word of `TABLE_WORDS` is in ``buf`` (a `framing.Survey`)."""
        html_open = self._html_header is not None or self._in_row
        if not (self.header is not None or html_open or (may and self.wanted(buf))):
            return []
        out: list[Record] = []
        if html_open or (b">" in buf and (b"</t" in buf or b"</T" in buf)):
            self._scan_html(buf, base, out)
        if self.header is not None or b"Loss" in buf:
            self._scan_text(buf, base, out)
        out.sort(key=lambda r: r.offset)
        return out

    # -- text tables -----------------------------------------------------------------------

    def _scan_text(self, buf: bytes, base: int, out: list[Record]) -> None:
        pos = 0
        n = len(buf)
        while pos < n:
            if self.header is None:
                # Jump to the next line that may be a header.
                i = buf.find(b"Loss", pos)
                if i < 0:
                    return
                pos = max(buf.rfind(b"\n", 0, i), buf.rfind(b"\r", 0, i)) + 1
            end = buf.find(b"\n", pos)
            if end < 0:
                end = n
            raw = buf[pos:end]
            # (A constant prefix before every line, "# " or "> ", is not a cell.)
            line = raw.decode("utf-8", "replace").strip().lstrip("#>;").strip()
            if "<" in line:
                # HTML is read by _scan_html.
                pos = end + 1
                continue
            if self.header is None:
                cells = self._split(line, header=True)
                if _is_header(cells):
                    self.header = cells
                pos = end + 1
                continue
            if line and _SEP_LINE_RE.fullmatch(line):
                pos = end + 1  # a rule under the header (|---|---|)
                continue
            cells = self._split(line, header=False)
            if _is_header(cells):
                self.header = cells  # the table printed again (it is redrawn at each eval)
            elif not self._row(self.header, cells, base + pos, out):
                self.header = None
            pos = end + 1

    @staticmethod
    def _split(line: str, header: bool) -> list[str]:
        if "|" in line:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
        elif "\t" in line:
            cells = [c.strip() for c in line.split("\t")]
        elif header:
            cells = [c.strip() for c in re.split(r"\s{2,}", line)]
        else:
            # A row's cells are numbers or "No log": split on any whitespace, the one
            # two-word cell kept whole.
            cells = [c.replace("\0", " ") for c in line.replace(_NO_LOG, "No\0log").split()]
        return [c for c in cells if c] if not header else [c for c in cells if c]

    # -- HTML tables -----------------------------------------------------------------------

    def _scan_html(self, buf: bytes, base: int, out: list[Record]) -> None:
        for m in _HTML_RE.finditer(buf):
            tag = (m.group(2) or b"").lower()
            closing = m.group(1) == b"/" or not tag
            if closing and tag in (b"th", b"td", b""):  # a cell ends
                if self._cell_start >= 0:
                    text = buf[self._cell_start : m.start()] if self._cell_start <= m.start() else b""
                    self._html_cells.append(re.sub(rb"<[^>]*>", b"", text).decode("utf-8", "replace").strip())
                    self._cell_start = -1
                continue
            if tag in (b"th", b"td"):
                self._cell_start = m.end()
                if tag == b"th":
                    self._html_is_head = True
            elif tag == b"tr" and not closing:
                self._html_cells, self._html_is_head, self._cell_start = [], False, -1
                self._in_row = True
                self._row_offset = base + m.start()
            elif tag == b"tr":
                cells = self._html_cells[:MAX_COLUMNS]
                if self._html_is_head:
                    self._html_header = cells if _is_header(cells) else None
                elif self._html_header is not None:
                    self._row(self._html_header, cells, self._row_offset, out)
                self._html_cells = []
                self._in_row = False
            elif tag == b"table" and closing:
                self._html_header = None
        if self._cell_start >= 0:
            # A cell still open at the end of the buffer: its text starts in the next one.
            self._cell_start = 0

    # -- one row ---------------------------------------------------------------------------

    @staticmethod
    def _row(header: list[str], cells: list[str], offset: int, out: list[Record]) -> bool:
        """Append the records of one row; False when ``cells`` is not a row of ``header``."""
        if len(cells) != len(header) or not _NUM_RE.fullmatch(cells[0]):
            return False
        values: dict[str, float] = {}
        for name, cell in zip(header[1:], cells[1:]):
            if cell == _NO_LOG or cell == "":
                continue
            if not _NUM_RE.fullmatch(cell):
                return False
            values[_key(name)] = float(cell)
        where = float(cells[0])
        step = log_int(where) if header[0] == "Step" else None
        epoch = where if header[0] == "Epoch" else None
        train = {k: v for k, v in values.items() if not k.startswith("eval_")}
        evals = {k: v for k, v in values.items() if k.startswith("eval_")}
        if train:
            out.append(Record("train", train, step, epoch, offset))
        if evals:
            out.append(Record("eval", evals, step, epoch, offset))
        return True
