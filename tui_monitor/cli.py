"""Command line: ``trainmon tail|report|demo``; argument parsing, exit codes, one-line errors."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """Return the ``trainmon`` argument parser (sub-commands ``tail``, ``report``, ``demo``)."""
    p = argparse.ArgumentParser(prog="trainmon", description=__doc__)
    p.add_subparsers(dest="command", required=True)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``trainmon`` console script. Returns the process exit status."""
    args = build_parser().parse_args(argv)
    print(f"trainmon: {args.command} is not implemented yet", file=sys.stderr)
    return 1
