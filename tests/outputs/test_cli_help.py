"""`trainmon --help` and each command's `--help` end with examples a person can paste."""

from __future__ import annotations

import re
import shlex

import pytest

from tui_monitor.cli import build_parser


def help_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What ``trainmon ARGV`` prints (argparse exits 0 after a help)."""
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(argv)
    assert done.value.code == 0
    return capsys.readouterr().out


def examples(text: str) -> list[str]:
    """The lines after the help's ``examples:`` heading."""
    _, sep, tail = text.partition("\nexamples:\n")
    assert sep, f"no examples in:\n{text}"
    return [line.strip() for line in tail.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (
            [],
            [
                "trainmon tail logs/train.log",
                "trainmon report logs/train.log",
                "trainmon tail --json logs/train.log | jq",
            ],
        ),
        (
            ["tail"],
            [
                "python train.py > logs/train.log",
                "trainmon tail logs/train.log",
                "nohup trainmon tail --notify ntfy://",
            ],
        ),
        (["report"], ["trainmon report logs/train.log", "trainmon report --json", "trainmon report --check"]),
        (["demo"], ["trainmon demo ", "trainmon demo --speed 4 --scenario exploding", "trainmon demo --json | jq"]),
        (["serve"], ["trainmon serve logs/train.log", "ssh -L 8000:127.0.0.1:8000", "trainmon serve --host 0.0.0.0"]),
    ],
)
def test_help_ends_with_examples_to_paste(
    argv: list[str], wanted: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN `trainmon [COMMAND] --help`
    text = help_text([*argv, "--help"], capsys)
    # THEN it ends with two or three examples, lines kept as written (not rewrapped)
    lines = examples(text)
    assert 2 <= len(lines) <= 3
    for want, line in zip(wanted, lines):
        assert want in line, (want, line)
    # AND every trainmon command in them is one the parser accepts as it stands
    for line in lines:
        for cmd in re.findall(r"trainmon [^|#)]*", line):
            build_parser().parse_args(shlex.split(cmd)[1:])
