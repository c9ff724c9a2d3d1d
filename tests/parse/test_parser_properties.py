"""Hardening: property-based tests of the parser (hypothesis), and the regressions they found.

The generators and their rules (what noise may surround a record) are in hypothesis_logs.py;
benchmarks/fuzz_parser.py runs the same properties on >= 100,000 inputs.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_logs import GenLog, check_records, chunked, console_logs, jsonl_logs, parse_chunks

from tui_monitor.core.parse import Batch, Event, LogParser, Progress, Record, Rewind, RunInfo

CI = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
cuts = st.lists(st.integers(min_value=0, max_value=1 << 16), max_size=12)


@CI
@given(data=st.binary(max_size=4096), cuts=cuts)
def test_arbitrary_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    # GIVEN any bytes, split anywhere WHEN fed and flushed THEN no exception, only parser items,
    # and as many skipped fragments as when the same bytes arrive in one piece
    p, items = parse_chunks(chunked(data, cuts))
    whole, _ = parse_chunks([data])
    assert p.skipped == whole.skipped
    assert all(isinstance(i, (Record, Progress, RunInfo, Event, Rewind, Batch)) for i in items)


@CI
@given(
    data=st.lists(
        st.sampled_from(
            [
                b"{",
                b"}",
                b"'",
                b'"',
                b":",
                b",",
                b"\r",
                b"\n",
                b"\\",
                b"loss",
                b"nan",
                b" ",
                b"1",
                b"e",
                b"-",
                b"[rank0]: ",
                b"np.float64(",
                b")",
                b"tensor(",
                b"%|",
                b"| 5/300 [00:01<00:10, 5.0it/s]",
                b"\x1b[",
                b"\xff",
                b"eval_",
            ]
        ),
        max_size=80,
    ).map(b"".join),
    cuts=cuts,
)
def test_dict_like_token_soup_never_raises(data: bytes, cuts: list[int]) -> None:
    # GIVEN bytes made of the parser's own syntax, shuffled WHEN fed and flushed THEN no exception
    p, items = parse_chunks(chunked(data, cuts))
    for r in items:
        if isinstance(r, Record):
            assert r.metrics and all(isinstance(v, float) for v in r.metrics.values())


@CI
@given(log=console_logs(), cuts=cuts)
def test_console_records_in_noise_are_all_found_once(log: GenLog, cuts: list[int]) -> None:
    # GIVEN metric dicts (4.x, 5.x, JSON) among bars, escapes, junk and non-metric dicts
    # WHEN the log is fed in random chunks
    p, items = parse_chunks(chunked(log.data, cuts))
    # THEN every record comes out once, in order, with its values
    assert p.format == "console"
    check_records(log, items)


@CI
@given(log=console_logs(), cuts=st.lists(st.integers(min_value=0, max_value=1 << 16), max_size=64))
def test_console_chunking_does_not_change_the_items(log: GenLog, cuts: list[int]) -> None:
    # GIVEN a generated log WHEN fed in many small pieces and whole THEN the same items
    # (progress updates excepted: they are coalesced per feed by design)
    _, whole = parse_chunks([log.data])
    _, by_byte = parse_chunks(chunked(log.data, cuts))

    def keep(items: list) -> list[str]:
        # Record.step is compared by test_step_of_clear_before_first_bar_is_chunking_independent
        return [
            repr(replace(i, step=None) if isinstance(i, Record) else i) for i in items if not isinstance(i, Progress)
        ]

    assert keep(by_byte) == keep(whole)


@CI
@given(log=jsonl_logs(), cuts=cuts)
def test_jsonl_records_among_broken_lines_are_all_found_once(log: GenLog, cuts: list[int]) -> None:
    # GIVEN JSON-lines records with console lines and cut JSON between them, fed in random chunks
    p, items = parse_chunks(chunked(log.data, cuts))
    # THEN every record comes out once with its values
    assert p.format == "jsonl"
    check_records(log, items)


def test_reset_midway_then_more_never_raises() -> None:
    p = LogParser()
    p.feed(b"{'loss': 1.0, 'ep")
    p.reset()
    items = p.feed(b"{'loss': 2.0, 'epoch': 0.1}\n") + p.flush()
    assert [r.metrics["loss"] for r in items if isinstance(r, Record)] == [2.0]
    assert not math.isnan(2.0)


# -- regressions found by the properties above ---------------------------------------------


def test_escaped_key_with_non_ascii_is_not_mojibake() -> None:
    # GIVEN repr of a key holding a non-ASCII letter and an escape (found by hypothesis:
    # unicode_escape alone read the UTF-8 bytes as latin-1: '¡' came out as 'Â¡')
    line = "[rank0]: " + repr({"loss": 1.0, "¡\ud7fc\t": 2.0}) + "\n"
    p = LogParser()
    (rec,) = [r for r in p.feed(line.encode()) + p.flush() if isinstance(r, Record)]
    assert set(rec.metrics) == {"loss", "¡\ud7fc\t"}


def test_json_surrogate_pair_key_is_joined() -> None:
    # GIVEN a JSON object in a console log with an emoji key escaped as a surrogate pair
    p = LogParser()
    items = p.feed(b'step done\n{"loss": 1.0, "\\ud83d\\ude00 acc": 0.5, "\\ud800x": 1}\n') + p.flush()
    (rec,) = [r for r in items if isinstance(r, Record)]
    # THEN the pair is one character and a lone surrogate is replaced (printable, encodable)
    assert set(rec.metrics) == {"loss", "\U0001f600 acc", "\ufffdx"}
    assert all(k.encode("utf-8") for k in rec.metrics)


def test_step_of_clear_before_first_bar_is_chunking_independent() -> None:
    # GIVEN a clear run, then the first train bar with a record glued to it (found by hypothesis)
    data = (
        b"\x1b[32mINFO\x1b[0m:__main__:starting\n \r  0%|          | 0/8 [00:09<00:44, 5.68it/s]"
        b"{'loss': 0.0, 'rec_id': 0}{'loss': 0.0, 'rec_id': 1}\n"
    )
    # WHEN fed whole, and split right after the clear
    _, whole = parse_chunks([data])
    _, split = parse_chunks([data[:34], data[34:]])

    # THEN the records get the same steps
    def steps(items: list) -> list:
        return [r.step for r in items if isinstance(r, Record)]

    assert steps(split) == steps(whole)


REC = b"{'loss': 1.5, 'learning_rate': 0.0001, 'epoch': 0.1}\n"


def _records_any_chunking(data: bytes) -> list[list[dict[str, float]]]:
    out = []
    for size in (len(data) or 1, 7, 1):
        p = LogParser()
        items: list = []
        for i in range(0, len(data), size):
            items.extend(p.feed(data[i : i + size]))
        items.extend(p.flush())
        out.append([r.metrics for r in items if isinstance(r, Record)])
    return out


def test_console_log_whose_first_line_is_a_json_config_keeps_its_records() -> None:
    # GIVEN a script that prints its config as one JSON line, then the Trainer's dicts
    # (sniffed as JSON lines: the Python dicts were all skipped)
    data = b'{"model": "llama", "seed": 42}\n' + REC + b"[rank0]: " + REC.replace(b"1.5", b"1.25")
    # THEN every Trainer record is read, whatever the chunking
    for recs in _records_any_chunking(data):
        assert recs == [{"loss": 1.5, "learning_rate": 0.0001}, {"loss": 1.25, "learning_rate": 0.0001}]


def test_console_log_starting_with_pretty_printed_json_keeps_its_records() -> None:
    # GIVEN a config printed with json.dumps(indent=2) at the top of a console log
    # (sniffed as trainer_state.json: nothing was ever read, up to 256 MiB was buffered)
    data = b'{\n  "model": "llama",\n  "lr": 0.001\n}\n' + b" 10%|#   | 30/300 [00:01<00:10, 5.0it/s]\r" + REC
    for recs in _records_any_chunking(data):
        assert recs == [{"loss": 1.5, "learning_rate": 0.0001}]


def test_pretty_printed_config_alone_then_console_lines_later() -> None:
    p = LogParser()
    assert p.feed(b'{\n  "model": "llama"\n}\n') == []
    items = p.feed(REC) + p.flush()
    assert p.format == "console"
    assert [r.metrics["loss"] for r in items if isinstance(r, Record)] == [1.5]


def test_blank_only_prefix_does_not_grow_the_carry() -> None:
    # GIVEN 8 MiB of blank lines (format not sniffable yet: the carry grew without bound)
    p = LogParser()
    for _ in range(8):
        p.feed(b" \n" * (1 << 19))
    assert p.held_bytes <= 1 << 20
    # THEN the first record after them is still read
    items = p.feed(REC) + p.flush()
    assert [r.metrics["loss"] for r in items if isinstance(r, Record)] == [1.5]


LOGGING_LINES = (
    b"[INFO|trainer.py:2128] 2024-07-17 00:18:20,620 >> {'loss': 1.25, 'grad_norm': 0.5, "
    b"'learning_rate': 1e-4, 'epoch': 0.2}\n[INFO|configuration_utils.py:472] 2024-07-17 >> "
    b"Configuration saved in /out/checkpoint-50/config.json\n"
)


def test_log_without_train_bar_keeps_its_records() -> None:
    # GIVEN logging-format lines ('|' and '/' but no tqdm bar: disable_tqdm, or a long
    # preprocessing phase of labelled bars). Once a CPU bomb (the first-bars scan ran its regex
    # at every byte while no train total was known): its speed is benchmarks/pathological.py's.
    n = 2 * (1 << 20) // len(LOGGING_LINES)
    p = LogParser()
    items = p.feed(LOGGING_LINES * n) + p.flush()
    # THEN every record is read, and labelled bars alone make no record
    assert sum(isinstance(r, Record) for r in items) == n
    p = LogParser()
    maps = b"Map: 50%|#####     | 5000/10000 [00:01<00:01, 5000.00 examples/s]\r" * 30000
    assert not [r for r in p.feed(maps) + p.flush() if isinstance(r, Record)]


def test_marker_key_with_text_value_keeps_the_record() -> None:
    # GIVEN 'loss' turning into text for one record while another metric is numeric
    p = LogParser()
    items = p.feed(b"{'loss': 1.5, 'acc': 0.5, 'epoch': 0.1}\n{'loss': 'oops', 'acc': 1, 'epoch': 0.2}\n") + p.flush()
    recs = [r for r in items if isinstance(r, Record)]
    # THEN the second record is kept with its numeric value and the text aside
    assert [r.metrics for r in recs] == [{"loss": 1.5, "acc": 0.5}, {"acc": 1.0}]
    assert recs[1].text == {"loss": "oops"}
    # and a config dict with text under an eval_ key is still not a record
    p = LogParser()
    assert not [r for r in p.feed(b"{'eval_strategy': 'steps', 'seed': 42}\n") + p.flush() if isinstance(r, Record)]


def test_line_repeating_crash_words_is_one_event_per_kind() -> None:
    # GIVEN one 1.4 MiB line repeating the crash words (before: an event per word, each
    # re-scanning and cleaning the whole line: 0.9 MiB took 305 s; speed: benchmarks/pathological.py)
    from tui_monitor.core.parse import Event

    data = b"Killed memory OutOfMemoryError CUDA out of memory NCCL timed out " * 22000 + b"\n"
    p = LogParser()
    events = [e for e in p.feed(data) + p.flush() if isinstance(e, Event)]
    # THEN one event per kind and line
    assert sorted(e.kind for e in events) == ["killed", "nccl_timeout", "oom"]
    assert all(len(e.line) <= 500 for e in events)
