"""`TrainBar.last` finds the last train-bar draw of a buffer whichever rate unit it prints
(``it/s`` for fast steps, ``s/it`` for slow ones), also when the unit changes between
buffers and within one (it looks for the unit it found last first, the other after it)."""

from __future__ import annotations

import pytest

from tui_monitor.core.parse.bars import TrainBar


def draw(n: int, total: int, rate: str) -> bytes:
    return f"\r{n * 100 // total:3d}%|#   | {n}/{total} [00:{n:02d}<00:10, {rate}]".encode()


@pytest.mark.parametrize(
    "units",
    [
        ["it/s", "it/s", "s/it"],  # the bar slows down: the last draw is in s/it
        ["s/it", "s/it", "it/s"],
        ["it/s", "s/it", "it/s"],
    ],
)
def test_last_draw_whatever_its_unit(units: list[str]) -> None:
    bars = TrainBar()
    bars.banner_total = 50
    for start in (1, 10, 20):  # three buffers in a row: the unit order learnt carries over
        buf = b"".join(draw(start + i, 50, f"{1.5 + i:.2f}{u}") for i, u in enumerate(units))
        prog = bars.last(buf, 1000)
        assert prog is not None
        assert prog.step == start + 2
        last_rate = 3.5 if units[-1] == "it/s" else 1 / 3.5
        assert prog.rate == pytest.approx(last_rate)
        assert prog.offset == 1000 + buf.rindex(f" {start + 2}/50".encode()) + 1


def test_unit_inside_a_label_is_not_a_bar() -> None:
    # "s/it" in the text after the last train draw (a label, not a bar) and an eval bar at the
    # end: the last train draw is still found.
    bars = TrainBar()
    bars.banner_total = 50
    buf = draw(7, 50, "2.00it/s") + b"\nnotes/items s/it\n" + b"\r 50%|##  | 4/8 [00:01<00:01, 3.00s/it]\x1b[A"
    prog = bars.last(buf, 0)
    assert prog is not None and (prog.step, prog.total) == (7, 50)
