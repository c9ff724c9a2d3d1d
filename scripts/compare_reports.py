"""Compare ``trainmon report --json`` of two source trees on every fixture (a refactor's check).

A change that should not change behaviour must print the same object for every log. This
runs ``python -m tui_monitor report --json FILE`` once with each tree first on ``PYTHONPATH``
(the trees' own code, the same interpreter and dependencies) and prints the files whose
objects differ, with the differing keys.

Usage::

    git worktree add /tmp/before <commit>
    python scripts/compare_reports.py /tmp/before .            # every fixture and bundled log
    python scripts/compare_reports.py /tmp/before . --ignore-text   # reason texts not compared
    python scripts/compare_reports.py /tmp/before . extra.log other.log

Exit status: 0 when every object is the same, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_SKIP_SUFFIXES = (".truth.json", ".expect.json", ".chunks.tsv", ".timing.tsv", ".md")


def default_inputs() -> list[Path]:
    """Every log under ``tests/fixtures`` and ``tui_monitor/data`` (not truth/expect files)."""
    out: list[Path] = []
    for base in (ROOT / "tests" / "fixtures", ROOT / "tui_monitor" / "data"):
        for p in sorted(base.rglob("*")):
            if not p.is_file() or p.name == "labels.json" or p.name.endswith(_SKIP_SUFFIXES):
                continue
            if p.suffix in (".log", ".jsonl", ".json"):
                out.append(p)
    return out


def report(tree: Path, path: Path, lang: str) -> Any:
    """``report --json`` of ``path`` by the code in ``tree`` (parsed), or the error text."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    r = subprocess.run(
        [sys.executable, "-m", "tui_monitor", "report", "--json", "--lang", lang, str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        timeout=600,
    )
    if r.returncode != 0:
        return {"exit": r.returncode, "stderr": r.stderr.strip().splitlines()[-1:]}
    return json.loads(r.stdout)


def _strip_text(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_text(v) for k, v in obj.items() if k != "text"}
    if isinstance(obj, list):
        return [_strip_text(v) for v in obj]
    return obj


def diff_keys(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted paths where ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{prefix}{k} (only in {'after' if k not in a else 'before'})")
            else:
                out += diff_keys(a[k], b[k], f"{prefix}{k}.")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff_keys(x, y, f"{prefix}{i}.")
        return out
    return [] if a == b else [prefix.rstrip(".") or "(root)"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path, help="source tree before the change")
    ap.add_argument("after", type=Path, help="source tree after the change")
    ap.add_argument("files", nargs="*", type=Path, help="logs (default: every fixture and bundled log)")
    ap.add_argument("--lang", default="en", choices=("en", "ru"))
    ap.add_argument("--ignore-text", action="store_true", help="do not compare reason/event texts")
    ap.add_argument("--show", action="store_true", help="print both values of each differing key")
    ap.add_argument(
        "--ignore-new", action="store_true", help="keys only in the after tree (new fields) are not differences"
    )
    args = ap.parse_args()
    files = args.files or default_inputs()
    bad = 0
    for f in files:
        a, b = (
            report(args.before.resolve(), f.resolve(), args.lang),
            report(args.after.resolve(), f.resolve(), args.lang),
        )
        if args.ignore_text:
            a, b = _strip_text(a), _strip_text(b)
        keys = diff_keys(a, b)
        if args.ignore_new:
            keys = [k for k in keys if not k.endswith("(only in after)")]
        if keys:
            bad += 1
            print(f"DIFF {f}: {', '.join(keys[:12])}{' ...' if len(keys) > 12 else ''}")
            if args.show:
                for k in keys[:12]:
                    va, vb = a, b
                    for part in k.split(" ")[0].split("."):
                        va = va.get(part) if isinstance(va, dict) else va[int(part)] if isinstance(va, list) else None
                        vb = vb.get(part) if isinstance(vb, dict) else vb[int(part)] if isinstance(vb, list) else None
                    print(f"    {k}:\n      before {va!r}\n      after  {vb!r}")
        else:
            print(f"same {f}")
    print(f"{len(files) - bad} same, {bad} different")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
