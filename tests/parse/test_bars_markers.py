"""`TrainBar.markers` finds the training banner and the resume messages where ``_MARKER_RE``'s
``finditer`` over the whole buffer finds them: it tries the regex only where one of their
literals is (``bytes.find``), so the first chunk of every log (which holds the banner) is not
tried byte by byte."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tui_monitor.core.parse.bars import _MARKER_RE, TrainBar, _marker_matches

BANNER = b"***** Running training *****"
PIECES = [
    BANNER,
    b"*",
    b" ",
    b"\n",
    b"\r",
    b"[rank1]: ",
    b"Running training ",
    b"Continuing training from checkpoint",
    b"Continuing training from global step",
    b"Resuming training from checkpoint, will skip",
    b"Resuming training from ",
    b"training from global step",
    b"{'loss': 1.0}",
]


@given(st.lists(st.sampled_from(PIECES), max_size=30))
@settings(max_examples=400, deadline=None)
def test_same_matches_as_finditer(pieces: list[bytes]) -> None:
    # GIVEN a buffer of banner pieces, stars, partial literals and separators
    buf = b"".join(pieces)
    # WHEN the markers are found from their literals
    got = [(m.start(), m.end()) for m in _marker_matches(buf)]
    # THEN they are the regex's own matches over the whole buffer
    assert got == [(m.start(), m.end()) for m in _MARKER_RE.finditer(buf)]


def test_banner_and_resume_markers_with_offsets_and_ranks() -> None:
    # GIVEN a first chunk: a banner (six stars before it: the match starts at the second), a
    # rank-prefixed resume message, and a banner whose stars run into the next one's
    buf = (
        b"noise\n*" + BANNER + b"\n"
        b"[rank1]: Continuing training from checkpoint, will skip to saved global_step\n"
        b"***** Running training ***** Running training *****\n"
    )
    # WHEN its run markers are read at stream offset 1000
    marks = TrainBar().markers(buf, 1000)
    # THEN a start at each banner line's segment (the second line's stars are taken by its first
    # match only) and a resume of rank 1
    assert [(off, m.kind, m.rank) for off, m in marks] == [
        (1006, "start", None),
        (1000 + buf.index(b"[rank1]"), "resume", "1"),
        (1000 + buf.index(b"***** Running training ***** R"), "start", None),
    ]
    assert len(list(re.finditer(rb"Running training", buf))) == 3
