"""Make the README screenshots from the app itself (``run_test`` + ``save_screenshot``).

Usage: ``python scripts/screenshots.py [OUT_DIR]`` (default ``screenshots/``). Writes an SVG
per state and converts it to PNG with ``rsvg-convert`` (``apt-get install librsvg2-bin``)
or ImageMagick's ``convert`` when available. Every state is a fixed read of a real or
bundled log (no live clock), so the pictures are reproducible.
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tui_monitor.core.demo import load_demo
from tui_monitor.ui.app import make_app

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Shot:
    """One picture: which log, how big, which keys first, which language."""

    name: str
    log: str
    size: tuple[int, int]
    keys: tuple[str, ...] = ()
    lang: str = "en"
    until_s: float | None = None
    """Replay the demo log only up to this many seconds (a run under way)."""
    extra: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    """A real log of the repository to show instead of a demo log (``log`` is then unused)."""


SHOTS: tuple[Shot, ...] = (
    Shot("healthy_120x36", "healthy", (120, 36), until_s=40.0),
    Shot("exploding_120x36", "exploding", (120, 36), keys=("down", "down")),
    Shot("healthy_80x24", "healthy", (80, 24), until_s=40.0),
    Shot("glossary_120x36", "healthy", (120, 36), keys=("down", "down", "g"), until_s=40.0),
    Shot("russian_120x36", "exploding", (120, 36), keys=("down", "down", "g"), lang="ru"),
    Shot("finished_160x48", "healthy", (160, 48)),
    # Three runs appended to one log: the latest, with run 2 drawn under its loss chart and
    # the verdict comparing them at the same epoch.
    Shot("runs_compared_120x36", "", (120, 36), path="tests/fixtures/real/three_runs_append.log"),
    # A real log with num_input_tokens_seen, checkpoints and evals (tests/fixtures/real/README.md).
    Shot("throughput_160x48", "", (160, 48), path="tests/fixtures/real/tokens_checkpoints.log"),
    Shot("verdict_paged_80x24", "", (80, 24), keys=("v",), path="tests/fixtures/real/tokens_checkpoints.log"),
    # The raw log (t) of a run that crashed with a traceback and was resumed: opened at the traceback.
    Shot("raw_log_100x30", "", (100, 30), keys=("t",), path="tests/fixtures/real/hf5_resume_append.log"),
    # The raw log of the exploding run with no event chosen: opened at the first NaN, its line marked.
    Shot("raw_log_nan_100x30", "exploding", (100, 30), keys=("t",)),
    # The same log filtered by `/` as you type: the NaN records, the first still marked.
    Shot("raw_log_filtered_100x30", "exploding", (100, 30), keys=("t", "slash", "n", "a", "n")),
)
"""The pictures the README shows."""


def _write_log(shot: Shot, folder: Path) -> Path:
    if shot.path is not None:
        return ROOT / shot.path
    demo = load_demo(shot.log)
    t0 = demo.chunks[0].t
    end = len(demo.data)
    if shot.until_s is not None:
        done = [c for c in demo.chunks if c.t - t0 <= shot.until_s]
        end = done[-1].offset + done[-1].size if done else 0
    path = folder / demo.filename
    path.write_bytes(demo.data[:end])
    return path


async def _take(shot: Shot, folder: Path, out: Path) -> Path:
    log = _write_log(shot, folder)
    app = make_app([log], follow=False, lang=shot.lang, bell=False)
    async with app.run_test(size=shot.size) as pilot:
        await pilot.pause()
        for key in shot.keys:
            await pilot.press(key)
        await pilot.pause(0.2)
        svg = app.save_screenshot(filename=f"{shot.name}.svg", path=str(out))
    return Path(svg)


PNG_FONT = "DejaVu Sans Mono, DejaVu Sans"
"""Fonts for the PNG conversion. Textual's SVG asks for Fira Code; where it is missing,
fontconfig answers with a proportional font, and ``rsvg-convert`` (which ignores
``textLength``) squeezes spaces and braille. DejaVu Sans Mono has no braille block, so
braille falls back to DejaVu Sans, whose widths differ: braille text is split into one
positioned element per cell, and leading spaces become an x offset (:func:`_pin_braille`)."""

_TEXT_RE = re.compile(
    r'<text class="([^"]+)" x="([0-9.]+)" y="([0-9.]+)" textLength="([0-9.]+)" ([^>]*)>([^<]*)</text>'
)
_BRAILLE_RE = re.compile("[\u2800-\u28ff]")


def _pin_braille(svg: str) -> str:
    """Put every character of braille-bearing text elements at its own cell's x."""

    def split(m: re.Match[str]) -> str:
        cls, x, y, length, rest, body = m.groups()
        chars = html.unescape(body)
        cell = float(length) / max(len(chars), 1)
        if not _BRAILLE_RE.search(body):
            lead = len(chars) - len(chars.lstrip(" \u00a0"))
            if not lead or lead == len(chars):
                return m.group(0)
            body = html.escape(chars[lead:]).replace(" ", "&#160;")
            x0 = float(x) + lead * cell
            return (
                f'<text class="{cls}" x="{x0:.1f}" y="{y}" textLength="{cell * (len(chars) - lead):.1f}" '
                f"{rest}>{body}</text>"
            )
        out = []
        for i, ch in enumerate(chars):
            if ch in (" ", "\u00a0"):
                continue
            out.append(
                f'<text class="{cls}" x="{float(x) + i * cell:.1f}" y="{y}" textLength="{cell:.1f}" '
                f"{rest}>{html.escape(ch)}</text>"
            )
        return "".join(out)

    return _TEXT_RE.sub(split, svg)


def _to_png(svg: Path) -> Path | None:
    png = svg.with_suffix(".png")
    text = svg.read_text(encoding="utf-8").replace("Fira Code, monospace", f"{PNG_FONT}, monospace")
    text = _pin_braille(text)
    with tempfile.NamedTemporaryFile("w", suffix=".svg", delete=False, encoding="utf-8") as f:
        f.write(text)
        tmp_svg = f.name
    try:
        if shutil.which("rsvg-convert"):
            subprocess.run(["rsvg-convert", "-o", str(png), tmp_svg], check=True)
        elif shutil.which("convert"):
            subprocess.run(["convert", tmp_svg, str(png)], check=True)
        else:
            return None
    finally:
        Path(tmp_svg).unlink(missing_ok=True)
    return png


def main(argv: list[str]) -> int:
    """Take every shot in :data:`SHOTS`; print the files written."""
    if len(argv) > 1 and argv[1].startswith("-"):
        print(__doc__)  # `--help` is not an output directory
        return 0 if argv[1] in ("-h", "--help") else 2
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for shot in SHOTS:
        with tempfile.TemporaryDirectory() as tmp:
            svg = asyncio.run(_take(shot, Path(tmp), out))
        png = _to_png(svg)
        print(svg.relative_to(ROOT) if svg.is_relative_to(ROOT) else svg, png.name if png else "(no PNG converter)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
