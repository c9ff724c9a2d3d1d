"""The remote stream's pieces without ssh: ``user@host:/path`` parsing and taking GNU tail's
messages out of the merged output (the strings are what coreutils' tail 9 prints, checked by
running it on this machine)."""

from __future__ import annotations

import pytest

from tui_monitor.core.follow.remote import RemoteSpec, parse_remote
from tui_monitor.core.follow.tail_messages import MessageSplitter


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("me@gpu-box:/runs/a/train.log", RemoteSpec("me@gpu-box", "/runs/a/train.log")),
        ("gpu-box:runs/train.log", RemoteSpec("gpu-box", "runs/train.log")),
        ("me@gpu-box:~/train.log", RemoteSpec("me@gpu-box", "train.log")),
        ("me@[::1]:/x.log", RemoteSpec("me@[::1]", "/x.log")),
        ("/local/a:b.log", None),
        ("./x:y.log", None),
        ("train.log", None),
        ("host:", None),
    ],
)
def test_remote_paths_read_like_scp(text: str, want: RemoteSpec | None) -> None:
    assert parse_remote(text) == want


def _run(path: str, pieces: list[bytes]) -> list[bytes | tuple[str, str]]:
    sp = MessageSplitter(path)
    out: list[bytes | tuple[str, str]] = []
    for p in pieces:
        out += sp.feed(p)
    # the log bytes joined, messages as they are
    merged: list[bytes | tuple[str, str]] = []
    for x in out:
        if isinstance(x, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] = merged[-1] + x
        else:
            merged.append(x)
    return merged


def test_messages_about_the_file_are_taken_out_even_split_across_reads() -> None:
    # GIVEN tail's output with a truncation message cut in the middle of a partial line
    stream = b"{'loss': 1.0}\n{'lo" + b"tail: /r/train.log: file truncated\n" + b"{'loss': 2.0}\n"
    for cut in range(1, len(stream)):
        # WHEN it arrives in two reads, cut anywhere THEN the message is found once, in place
        assert _run("/r/train.log", [stream[:cut], stream[cut:]]) == [
            b"{'loss': 1.0}\n{'lo",
            (": file truncated", ": file truncated"),
            b"{'loss': 2.0}\n",
        ]


def test_quoted_names_and_the_other_messages() -> None:
    got = _run(
        "a b.log",
        [
            b"x\ntail: 'a b.log' has become inaccessible: No such file or directory\n"
            b"tail: 'a b.log' has appeared;  following new file\ny\n"
            b'tail: "a b.log": file truncated\n'
            b"tail: 'a b.log' has been replaced;  following new file\n"
            b"tail: cannot open 'a b.log' for reading: Permission denied\n"
        ],
    )
    assert [g[0] if isinstance(g, tuple) else g for g in got] == [
        b"x\n",
        " has become inaccessible",
        " has appeared;",
        b"y\n",
        ": file truncated",
        " has been replaced;",
        "cannot open",
    ]
    assert got[-1] == ("cannot open", "Permission denied")


def test_log_text_that_looks_like_a_message_stays_data() -> None:
    # GIVEN log lines quoting tail about another file, or about no file
    lines = b"tail: other.log: file truncated\nrunning tail: -F\n{'loss': 1.0}\n"
    # THEN every byte is handed on as data
    assert _run("/r/train.log", [lines]) == [lines]
