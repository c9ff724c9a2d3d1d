"""What cuts the parser's fixed cost per chunk gives the same results as before:

- the chunk survey (`framing.Surveyor`: the console reader's per-chunk prefilters in one pass)
  answers exactly what its reference does, one `has_any` per word group and ``buf.count(b"{")``,
  with the C extension and in pure Python; a log holding every kind of line the prefilters
  guard (banner, resume message, DeepSpeed step line, traceback, checkpoint, notebook table)
  reads the same items on both paths, in every chunking, as many as the log holds;
- the rank prefix is read as by its three regexes tried in order (`framing.rank_of_prefix` skips
  a regex whose literal is absent), on the prefixes writers print and on arbitrary bytes;
- chunks fed from one reused ``bytearray`` (`pipeline.feed_range`'s read buffer, overwritten by
  the next read) give the items and parser state of the same chunks fed as ``bytes``.
"""

from __future__ import annotations

import io
import re

import gen_logs  # benchmarks/gen_logs.py (pyproject's pythonpath)
import pytest
from helpers import scan_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scan_paths import FIXTURES, _items, _same_both_ways

from tui_monitor.core.parse import Checkpoint, Event, LogParser, Progress, Record, RunInfo, accel
from tui_monitor.core.parse.console import _SURVEYOR
from tui_monitor.core.parse.framing import Surveyor, WordGroup, has_any, rank_of_prefix

COMPILED = accel.scan
needs_compiled = pytest.mark.skipif(COMPILED is None, reason="the C extension is not built here")
PROPS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reference(buf: bytes, groups: tuple[WordGroup, ...]) -> tuple[list[bool], int]:
    return [has_any(buf, g) for g in groups], buf.count(b"{")


def _surveyed(buf: bytes, surveyor: Surveyor, compiled: bool) -> tuple[list[bool], int]:
    with scan_path(compiled):
        s = surveyor(buf)
        braces = s.braces if s.braces >= 0 else buf.count(b"{")
        return [s.has(i) for i in range(len(surveyor.groups))], braces


# -- the survey against its reference -----------------------------------------------------------

# Words of the console reader's groups, their near misses (cut short, another case), bytes
# just outside the first letters' range (the compiled pass looks only at blocks holding one in
# it), braces, and fillers of lengths that move what follows across the compiled pass's blocks (64 and 128 bytes).
PIECES = [w for g in _SURVEYOR.groups for ws in g.values() for w in ws] + [
    b"Traceba",
    b"Runnin",
    b"Saving model checkpoint t",
    b"rank ",
    b"loss",
    b"A",
    b"=",
    b"<",
    b"?",
    b"X",
    b"\xff",
    b"\x00",
    b"{",
    b"{" * 70,
    b"{'loss': 1.5}\n",
    b"\x1b[A",
    *(b"." * k for k in (1, 7, 31, 63, 64, 65, 200)),
]


@st.composite
def buffers(draw: st.DrawFn) -> bytes:
    return b"".join(draw(st.lists(st.sampled_from(PIECES), max_size=30)))


@st.composite
def word_groups(draw: st.DrawFn) -> tuple[WordGroup, ...]:
    """Up to 6 random groups of up to 4 words over a few letters (``{`` and bytes at both ends
    of the range included), each keyed by its first byte as `has_any` takes them."""
    groups = []
    for _ in range(draw(st.integers(0, 6))):
        words = draw(st.lists(st.binary(min_size=1, max_size=4).filter(lambda w: w[0] in b"AZ{>a\x00\xff"), max_size=4))
        g: dict[bytes, tuple[bytes, ...]] = {}
        for w in words:
            g[w[:1]] = (*g.get(w[:1], ()), w)
        groups.append(g)
    return tuple(groups)


@PROPS
@given(buf=buffers(), cut=st.integers(0, 300))
def test_console_survey_matches_has_any_on_both_paths(buf: bytes, cut: int) -> None:
    # GIVEN a buffer of the words the console reader looks for, near misses and fillers (cut
    # anywhere: a word may end the buffer, or be cut by its end)
    buf = buf[: len(buf) - cut] if cut < len(buf) else buf
    ref = _reference(buf, _SURVEYOR.groups)
    # THEN the survey answers what one has_any per group and a count of "{" answer, on both paths
    assert _surveyed(buf, _SURVEYOR, compiled=False) == ref
    if COMPILED is not None:
        assert _surveyed(buf, _SURVEYOR, compiled=True) == ref


@needs_compiled
@PROPS
@given(buf=st.binary(max_size=400) | buffers(), groups=word_groups())
def test_compiled_survey_matches_has_any_for_any_groups(buf: bytes, groups: tuple[WordGroup, ...]) -> None:
    assert COMPILED is not None
    surveyor = Surveyor(groups)
    found, braces = _reference(buf, groups)
    bits, count = COMPILED.survey(buf, tuple(tuple(w for ws in g.values() for w in ws) for g in groups))
    assert [bool(bits >> i & 1) for i in range(len(groups))] == found
    assert count == braces
    assert _surveyed(buf, surveyor, compiled=True) == (found, braces)


@needs_compiled
def test_compiled_survey_edges() -> None:
    assert COMPILED is not None
    groups = ((b"Loss",), (b">",))
    # Blocks of "{" only (a byte counter per block must not wrap), a word at the very end, a
    # word cut by the end, an empty buffer, no groups at all.
    assert COMPILED.survey(b"{" * 64 * 5 + b"x" * 3, groups) == (0, 320)
    assert COMPILED.survey(b"{" * 4096, groups) == (0, 4096)
    assert COMPILED.survey(b"." * 127 + b"Loss", groups) == (1, 0)
    assert COMPILED.survey(b"." * 128 + b"Los", groups) == (0, 0)
    assert COMPILED.survey(b"." * 63 + b">", groups) == (2, 0)
    assert COMPILED.survey(b"", groups) == (0, 0)
    assert COMPILED.survey(b"{'>'}" * 40, ()) == (0, 40)
    with pytest.raises(ValueError):
        COMPILED.survey(b"", ((b"",),))
    with pytest.raises(TypeError):
        COMPILED.survey(b"", ([b"x"],))


def test_surveyor_refuses_what_has_any_would_misread() -> None:
    with pytest.raises(ValueError, match="starts with it"):
        Surveyor(({b"T": (b"Loss",)},))
    with pytest.raises(ValueError, match="at most"):
        Surveyor(tuple({b"a": (b"a",)} for _ in range(33)))


# -- the console reader with the survey: every guarded kind of line, both paths --------------------

GUARDED = [
    b"***** Running training *****\n  Num examples = 1,000\n  Num Epochs = 3\n  Total optimization steps = 300\n",
    b"Resuming training from checkpoint out/checkpoint-100\n",
    b"[Rank 0] step=120, skipped=3, lr=[0.0001]\n",
    b"Saving model checkpoint to out/checkpoint-100\n",
    b'Traceback (most recent call last):\n  File "train.py", line 1, in <module>\nRuntimeError: boom\n',
    b"Step | Training Loss | Validation Loss\n5 | 1.5 | 2.5\n",
]


def _guarded_log() -> bytes:
    """A tqdm-laden log (4.x dicts, block-buffered bursts) with each `GUARDED` text placed
    after a line at a few offsets (in a chunk's first, middle and last bytes)."""
    out = io.BytesIO()
    gen_logs.generate(out, "tqdm4", size=200_000, seed=5, eval_steps=200)
    data = out.getvalue()
    parts, pos = [], 0
    for k, text in enumerate(GUARDED * 3):
        at = data.index(b"\n", 3_000 + k * 10_007) + 1
        parts += [data[pos:at], text]
        pos = at
    return b"".join([*parts, data[pos:]])


def test_guarded_lines_read_on_both_paths_in_every_chunking() -> None:
    data = _guarded_log()
    # GIVEN the log read whole on the reference path
    with scan_path(False):
        p = LogParser()
        items = p.feed_columnar(data) + p.flush()
    # THEN every guarded line was read: 3 of each
    assert sum(isinstance(i, Checkpoint) and i.step == 100 for i in items) == 3
    assert sum(isinstance(i, Event) and i.kind == "traceback" for i in items) == 3
    assert sum(isinstance(i, RunInfo) and i.total_steps == 300 for i in items) == 3
    assert sum(isinstance(i, Progress) and i.source == "deepspeed" and i.skipped == 3 for i in items) == 3
    assert sum(isinstance(i, Record) and i.metrics.get("eval_loss") == 2.5 for i in items) >= 1
    # AND the compiled path reads the same items and state, whole and in pieces of any size
    if COMPILED is not None:
        _same_both_ways(data, (1 << 30, 97, 4099, 65_536 + 7))


# -- chunks fed from a reused buffer ---------------------------------------------------------------


def _fed(data: bytes, chunk: int, reuse: bool) -> tuple[list[object], str]:
    """``feed_columnar`` in ``chunk``-byte pieces, as ``bytes`` or in one ``bytearray`` that is
    scribbled over after each feed (as the next read overwrites it): (items, parser state)."""
    p = LogParser()
    buf = bytearray(chunk)
    items: list[object] = []
    for i in range(0, len(data), chunk):
        piece = data[i : i + chunk]
        if reuse:
            buf[: len(piece)] = piece
            items += p.feed_columnar(buf if len(piece) == chunk else buf[: len(piece)])
            buf[:] = b"\xee" * chunk
        else:
            items += p.feed_columnar(piece)
    items += p.flush()
    return _items(items), repr(p.policy_state())


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_reused_read_buffer_gives_the_items_of_bytes(path: object) -> None:
    data = path.read_bytes()  # type: ignore[attr-defined]
    for chunk in (4099, 65_536 + 7):
        # GIVEN the fixture fed in pieces WHEN from one reused buffer THEN as from bytes
        ref = _fed(data, chunk, reuse=False)
        assert _fed(data, chunk, reuse=True) == ref
        assert ref[0] or not data.strip()


@pytest.mark.parametrize("kind", ["tqdm5", "write4", "dense4"])
def test_reused_read_buffer_on_catch_up_chunks(kind: str) -> None:
    # GIVEN a generated log of two and a half 1 MiB chunks (the catch-up's read size)
    out = io.BytesIO()
    gen_logs.generate(out, kind, size=(5 << 20) // 2, seed=3, eval_steps=200)
    data = out.getvalue()
    # WHEN fed from one reused buffer THEN the items and state are those of bytes
    ref_items, ref_state = _fed(data, 1 << 20, reuse=False)
    items, state = _fed(data, 1 << 20, reuse=True)
    assert (items, state) == (ref_items, ref_state)
    assert sum(1 for it in items if isinstance(it, tuple) and it[0] == "batch") > 0


_RANK_REFERENCE = (
    re.compile(rb"^\s*(\d{1,4}): "),
    re.compile(rb"\[rank(\d+)\]:", re.I),
    re.compile(rb"\[Rank:(\d+)\]"),
)
"""The rank prefixes before `rank_of_prefix` skipped a regex by its literal: each searched in turn."""


def _rank_reference(prefix: bytes) -> str | None:
    for rx in _RANK_REFERENCE:
        m = rx.search(prefix)
        if m:
            return m.group(1).decode()
    return None


def test_rank_prefix_of_the_writers_prefixes() -> None:
    cases = {
        b"3: ": "3",
        b"  12: [rank1]: ": "12",  # srun -l first, as before
        b"[rank1]: ": "1",
        b"[RANK7]: ": "7",  # torchrun's, in any case
        b"[15:17:13] INFO     [Rank:2] ": "2",
        b"[rank1] ": None,  # no colon after it
        b"[rank:1]: ": None,
        b" 50%|\xe2\x96\x88    | 5/10 [00:01<00:01,  5.60it/s]": None,  # a bar before a glued dict
    }
    for prefix, rank in cases.items():
        assert rank_of_prefix(prefix) == rank == _rank_reference(prefix), prefix


@PROPS
@given(st.lists(st.sampled_from([b"[", b"]", b":", b" ", b"1", b"42", b"rank", b"RaNk", b"Rank:", b"x"]), max_size=12))
def test_rank_prefix_matches_its_regexes_on_any_bytes(parts: list[bytes]) -> None:
    prefix = b"".join(parts)
    assert rank_of_prefix(prefix) == _rank_reference(prefix)
