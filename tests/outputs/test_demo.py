"""The demo writer: bundled logs, chunk tables, and a paced replay that can be stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FIXTURES

from tui_monitor.core.demo import DEMOS, DemoWriter, load_demo, start_demo


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_bundled_demo_chunks_cover_the_log(name: str) -> None:
    """GIVEN a bundled demo WHEN loaded THEN its chunks tile the log and time moves forward."""
    demo = load_demo(name)
    assert sum(c.size for c in demo.chunks) == len(demo.data)
    assert all(a.t <= b.t for a, b in zip(demo.chunks, demo.chunks[1:], strict=False))
    assert demo.duration > 10


def test_healthy_demo_is_the_real_fixture() -> None:
    """GIVEN the healthy demo WHEN compared with the real fixture THEN byte-identical."""
    fixture = FIXTURES / "real" / "hf5_linear_warmup_unbuffered.log"
    assert load_demo("healthy").data == fixture.read_bytes()


def test_fast_replay_writes_the_whole_log(tmp_path: Path) -> None:
    """GIVEN a 1000x replay WHEN it finishes THEN the file equals the bundled log."""
    path, writer = start_demo("exploding", speed=1000.0, directory=tmp_path)
    assert writer.finished.wait(10)
    assert path.read_bytes() == load_demo("exploding").data
    assert writer.written == len(load_demo("exploding").data)


def test_stop_ends_a_real_pace_replay_early(tmp_path: Path) -> None:
    """GIVEN a real-pace replay WHEN stopped THEN the thread ends with a prefix of the log."""
    demo = load_demo("healthy")
    writer = DemoWriter(demo, tmp_path / "x.log", speed=1.0)
    writer.start()
    writer.stop()
    writer.join(5)
    assert not writer.is_alive()
    data = (tmp_path / "x.log").read_bytes()
    assert demo.data.startswith(data) and len(data) < len(demo.data)


def test_skip_writes_the_first_seconds_at_once(tmp_path: Path) -> None:
    """GIVEN skip_s past the end WHEN started THEN everything is written without waiting."""
    path, writer = start_demo("healthy", speed=1.0, directory=tmp_path, skip_s=10_000)
    assert writer.finished.wait(10)
    assert path.stat().st_size == len(load_demo("healthy").data)
