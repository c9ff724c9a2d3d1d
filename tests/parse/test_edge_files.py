"""Hardening: garbage and edge files through `read_once` / `Pipeline` and `trainmon report --json`.

Each case states its outcome: no crash, a strict JSON report, and every valid record kept.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES

from tui_monitor.core.parse import LogParser, keeps_history
from tui_monitor.core.pipeline import Pipeline, read_once

REC = "{{'loss': {loss}, 'grad_norm': 0.5, 'learning_rate': 1e-4, 'epoch': {epoch}}}\n"
BAR = " 10%|█         | 30/300 [00:06<00:54,  4.98it/s]"


def rec(i: int) -> bytes:
    return REC.format(loss=5.0 - i / 100, epoch=i / 10).encode()


def report(path: Path) -> dict:
    """`trainmon report --json PATH` in a subprocess: exit 0, strict JSON, no stderr."""
    out = subprocess.run(
        [sys.executable, "-m", "tui_monitor", "report", "--json", str(path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    return json.loads(out.stdout, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"non-strict {c}")))


def pipe_of(path: Path) -> Pipeline:
    return read_once(path)


@pytest.mark.slow
def test_empty_file(tmp_path: Path) -> None:
    log = tmp_path / "empty.log"
    log.write_bytes(b"")
    d = report(log)
    assert d["records"] == {"train": 0, "eval": 0, "summary": 0}
    assert d["metrics"] == {} and d["skipped"] == 0


@pytest.mark.slow
def test_only_bars_no_records(tmp_path: Path) -> None:
    log = tmp_path / "bars.log"
    log.write_bytes(
        "".join(f"\r{i * 100 // 300:3d}%|█    | {i}/300 [00:0{i % 10}<00:50,  5.0it/s]" for i in range(300)).encode()
    )
    d = report(log)
    assert d["records"] == {"train": 0, "eval": 0, "summary": 0}
    assert d["progress"]["global_step"] == 299 and d["progress"]["total_steps"] == 300


@pytest.mark.slow
def test_binary_file(tmp_path: Path) -> None:
    log = tmp_path / "random.bin"
    log.write_bytes(random.Random(7).randbytes(3 << 20))
    d = report(log)
    assert d["records"] == {"train": 0, "eval": 0, "summary": 0}


def test_binary_junk_around_records_keeps_them(tmp_path: Path) -> None:
    rnd = random.Random(8)
    parts = []
    for i in range(50):
        parts.append(rnd.randbytes(rnd.randrange(0, 5000)).translate(None, b"{}"))
        parts.append(b"\n" + rec(i))
    log = tmp_path / "mixed.log"
    log.write_bytes(b"".join(parts))
    p = pipe_of(log)
    assert p.run.snapshot().records["train"] == 50
    assert p.run.snapshot().metrics["loss"].first == 5.0 and p.run.snapshot().metrics["loss"].last == 5.0 - 49 / 100


@pytest.mark.slow
def test_invalid_utf8_everywhere(tmp_path: Path) -> None:
    # GIVEN bytes that are not UTF-8 in a logging prefix, in a key and in a string value
    log = tmp_path / "latin1.log"
    log.write_bytes(
        b"\xff\xfe caf\xe9 \xc3(\n"
        b"[INFO \xe9] {'loss': 1.5, 'epoch': 0.1}\n"
        b"{'loss': 1.25, 'caf\xe9_acc': 0.5, 'note': '\xff\xfe', 'epoch': 0.2}\n"
    )
    d = report(log)
    # THEN both records are read; the bad key is decoded with a replacement character
    assert d["records"]["train"] == 2
    assert d["metrics"]["loss"]["last"] == 1.25
    assert "caf\ufffd_acc" in d["metrics"]


def test_crlf_line_ends(tmp_path: Path) -> None:
    log = tmp_path / "crlf.log"
    log.write_bytes(b"".join(rec(i).replace(b"\n", b"\r\n") for i in range(20)) + (BAR + "\r\n").encode())
    p = pipe_of(log)
    assert p.run.snapshot().records["train"] == 20
    assert p.run.snapshot().metrics["loss"].count == 20
    jl = tmp_path / "crlf.jsonl"
    jl.write_bytes(b"".join(json.dumps({"loss": 1.0 + i, "epoch": i}).encode() + b"\r\n" for i in range(20)))
    assert pipe_of(jl).run.snapshot().records["train"] == 20


@pytest.mark.slow
def test_records_without_epoch(tmp_path: Path) -> None:
    log = tmp_path / "noepoch.log"
    log.write_bytes(
        b"".join(f"{{'loss': {2.0 - i / 100}, 'learning_rate': 1e-4}}\n".encode() for i in range(100))
        + b"{'eval_loss': 1.5}\n"
    )
    d = report(log)
    assert d["records"] == {"train": 100, "eval": 1, "summary": 0}
    assert d["progress"]["epoch"] is None
    assert d["metrics"]["loss"]["count"] == 100


@pytest.mark.slow
def test_every_value_nan(tmp_path: Path) -> None:
    log = tmp_path / "nan.log"
    log.write_bytes(
        b"".join(b"{'loss': nan, 'grad_norm': nan, 'learning_rate': nan, 'epoch': %d}\n" % i for i in range(200))
        + b"{'eval_loss': nan, 'epoch': 200}\n"
    )
    d = report(log)
    assert d["records"] == {"train": 200, "eval": 1, "summary": 0}
    loss = d["metrics"]["loss"]
    assert loss == {"count": 200, "first": "nan", "last": "nan", "min": None, "max": None, "nonfinite": 200}
    assert d["state"]  # a verdict word, whatever it is: the detectors ran on all-NaN series


@pytest.mark.slow
def test_key_changes_type_between_records(tmp_path: Path) -> None:
    # GIVEN a key that is a number, then a non-numeric string, then a number again
    log = tmp_path / "types.log"
    log.write_bytes(
        b"{'loss': 1.5, 'acc': 0.5, 'epoch': 0.1}\n"
        b"{'loss': 1.25, 'acc': 'n/a', 'epoch': 0.2}\n"
        b"{'loss': 1.125, 'acc': '0.75', 'epoch': 0.3}\n"
        b"{'loss': 'oops', 'acc': 1, 'epoch': 0.4}\n"
        b"{'loss': 1.0, 'acc': None, 'epoch': 0.5}\n"
    )
    p = pipe_of(log)
    # THEN every record is kept; the series holds the numeric values only
    assert p.run.snapshot().records["train"] == 5
    assert p.run.snapshot().metrics["acc"].count == 3 and p.run.snapshot().metrics["acc"].last == 1.0
    assert p.run.snapshot().metrics["loss"].count == 4 and p.run.snapshot().metrics["loss"].last == 1.0
    snap = p.run.snapshot()
    assert list(snap.series["acc"].y) == [0.5, 0.75, 1.0]
    report(log)


def test_key_changes_type_in_json_lines(tmp_path: Path) -> None:
    log = tmp_path / "types.jsonl"
    rows = [
        {"loss": 1.5, "acc": 0.5},
        {"loss": 1.25, "acc": "n/a"},
        {"loss": 1.0, "acc": [1]},
        {"loss": 0.75, "acc": {"x": 1}},
        {"loss": 0.5, "acc": 2},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    p = pipe_of(log)
    assert p.run.snapshot().records["train"] == 5
    assert p.run.snapshot().metrics["acc"].count == 2


def _rss_of_report(path: Path) -> tuple[int, dict]:
    """Run `trainmon report --json` under a fresh interpreter that waits for it, and return the
    report's peak RSS (KiB, from getrusage(RUSAGE_CHILDREN) of that interpreter) and its JSON."""
    code = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run([sys.executable, '-m', 'tui_monitor', 'report', '--json', sys.argv[1]],"
        " capture_output=True, text=True)\n"
        "sys.stderr.write(r.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(r.returncode)\n"
        "print(r.stdout)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.stderr == ""
    rss, rc, body = out.stdout.split("\n", 2)
    assert rc == "0"
    return int(rss), json.loads(body)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("head", "mib"),
    [(b"x", 100), (b"{", 24), (b"{\n", 100), (b'{"', 24)],
    ids=["text", "brace", "brace-newline", "json-start"],
)
def test_one_100mb_line_memory_bounded_records_kept(tmp_path: Path, head: bytes, mib: int) -> None:
    # GIVEN a file that opens with one 100 MB line (no \r, no \n; starting like text, a dict,
    # a pretty-printed JSON document or a JSON line), a record glued at its end, one after
    log = tmp_path / "long.log"
    with open(log, "wb") as f:
        f.write(head)
        block = b"0123456789abcdef" * 4096
        for _ in range(mib * (1 << 20) // len(block)):
            f.write(block)
        f.write(rec(1))
        f.write(rec(2))
    # WHEN reported
    rss_kib, d = _rss_of_report(log)
    # THEN both records are read and memory stays bounded (the line is never held whole;
    # "{\n" was taken for a trainer_state.json and buffered whole, quadratically)
    assert d["records"]["train"] == 2, d["records"]
    assert rss_kib < 300 * 1024, f"peak RSS {rss_kib / 1024:.0f} MiB"


def test_pipeline_chunked_equals_read_once(tmp_path: Path) -> None:
    # GIVEN a log with CRLF, bars, junk and records WHEN fed to a Pipeline in odd pieces
    data = b"".join(rec(i) + (BAR + "\r").encode() + b"\xff\x00junk\r\n" for i in range(300))
    log = tmp_path / "x.log"
    log.write_bytes(data)
    whole = pipe_of(log)
    p = Pipeline()
    for i in range(0, len(data), 997):
        p.feed(data[i : i + 997].replace(b"\x00", b""))
    p.finish()
    assert p.run.snapshot().records == whole.run.snapshot().records == {"train": 300, "eval": 0, "summary": 0}
    a, b = p.run.snapshot().metrics["loss"], whole.run.snapshot().metrics["loss"]
    assert (a.count, a.first, a.last) == (b.count, b.first, b.last)
    assert not math.isnan(a.last or 0.0)


def test_many_distinct_keys_memory_bounded(tmp_path: Path) -> None:
    # GIVEN a hostile log where every record brings new metric keys (before: the parser's
    # fast path compiled a regex per new key sequence, ~200 records/s; the tally kept a
    # MetricStats per key without bound; the time it takes: benchmarks/pathological.py)
    log = tmp_path / "keys.log"
    log.write_bytes(b"".join(b"{'loss': 1.0, 'k%d_a': 1, 'k%d_b': 2, 'epoch': %d}\n" % (i, i, i) for i in range(20000)))
    p = pipe_of(log)
    # THEN every record counts; store and tally keep a bounded number of series
    assert p.run.snapshot().records["train"] == 20000
    assert p.run.snapshot().metrics["loss"].count == 20000
    assert len(p.run.snapshot().series) <= 256
    assert len(p.run.snapshot().metrics) <= 4096 and p.run.snapshot().dropped_metrics == 40000 - 4095


def test_keeps_history_tells_a_checkpoint_rewrite_from_another_run() -> None:
    """GIVEN the real trainer_state.json of checkpoint-100 and of checkpoint-300 of one run
    THEN the later one keeps the earlier history, not the other way round; a half-written
    document is undecided; a console log is not a trainer_state.json."""
    early = (FIXTURES / "real" / "trainer_state_hf5_resume_append.resumed_from_checkpoint-100.json").read_bytes()
    late = (FIXTURES / "real" / "trainer_state_hf5_resume_append.json").read_bytes()
    marks = []
    for doc in (early, late):
        p = LogParser()
        p.feed(doc)
        assert p.state_history is not None
        marks.append(p.state_history)
    assert marks[0][0] == 21 and marks[1][0] == 63
    assert keeps_history(marks[0], late) is True
    assert keeps_history(marks[0], early) is True
    assert keeps_history(marks[1], early) is False
    assert keeps_history(marks[0], late[: len(late) // 2]) is None
    assert keeps_history(marks[0], b"") is None
    assert keeps_history(marks[0], b"{'loss': 2.5, 'epoch': 0.1}\n") is False
