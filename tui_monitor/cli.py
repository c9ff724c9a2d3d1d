"""Command line: ``trainmon tail|report|demo``; argument parsing, exit codes, one-line errors.

Exit codes: 0 ok, 1 usage or unreadable input (one line on stderr, no traceback),
130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys

from tui_monitor import __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the ``trainmon`` argument parser (sub-commands ``tail``, ``report``, ``demo``)."""
    p = argparse.ArgumentParser(
        prog="trainmon",
        description="Monitor Hugging Face Trainer training logs: is this run healthy?",
    )
    p.add_argument("--version", action="version", version=f"trainmon {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("report", help="read a whole log once and print what it found")
    r.add_argument("path", help="training log, trainer_log.jsonl or trainer_state.json")
    r.add_argument("--json", action="store_true", help="print one strict JSON object")
    r.add_argument("--lang", choices=("en", "ru"), default="en", help="language of the verdict text")
    return p


def _cmd_report(args: argparse.Namespace) -> int:
    from tui_monitor.core.monitor import InputError, read_once
    from tui_monitor.core.report import dumps, report_dict, report_text

    try:
        pipe = read_once(args.path)
    except InputError as e:
        print(f"trainmon: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(dumps(report_dict(pipe)))
    else:
        print(report_text(pipe, args.path))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``trainmon`` console script. Returns the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "report":
            return _cmd_report(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return 1
