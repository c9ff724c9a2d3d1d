"""Table-driven torture test: each log shape the parser must read, on its own line."""

from __future__ import annotations

import math

import pytest

from tui_monitor.core.parse import Event, LogParser, Progress, Record, Rewind, RunInfo

BAR = "\r 17%|█▋        | 50/300 [00:09<00:44,  5.68it/s]"

# (name, log text, expected records as (kind, {metric: value}, step, epoch, rank))
CASES: list[tuple[str, str, list[tuple[str, dict[str, float], int | None, float | None, str | None]]]] = [
    (
        "4.x floats",
        "{'loss': 2.5112, 'grad_norm': 0.84, 'learning_rate': 0.000199, 'epoch': 0.01}\n",
        [("train", {"loss": 2.5112, "grad_norm": 0.84, "learning_rate": 0.000199}, None, 0.01, None)],
    ),
    (
        "4.x bare nan inf -inf",
        "{'loss': nan, 'grad_norm': inf, 'x_loss': -inf, 'epoch': 0.27}\n",
        [("train", {"loss": math.nan, "grad_norm": math.inf, "x_loss": -math.inf}, None, 0.27, None)],
    ),
    (
        "5.x strings",
        "{'loss': '2.511', 'grad_norm': 'nan', 'learning_rate': '1e-05', 'epoch': '0.03906'}\n",
        [("train", {"loss": 2.511, "grad_norm": math.nan, "learning_rate": 1e-05}, None, 0.03906, None)],
    ),
    (
        "ints",
        "{'loss': 3, 'num_tokens': 9346, 'epoch': 1}\n",
        [("train", {"loss": 3.0, "num_tokens": 9346.0}, None, 1.0, None)],
    ),
    (
        "numpy and tensor",
        "{'loss': np.float64(0.85), 'grad_norm': tensor(0.75, device='cuda:0'), 'kl': np.float32(1e-3), 'epoch': 0.5}\n",
        [("train", {"loss": 0.85, "grad_norm": 0.75, "kl": 0.001}, None, 0.5, None)],
    ),
    (
        "True False None and quoted strings",
        "{'loss': 1.5, 'flag': True, 'other': None, 'note': \"it's fine\", 'epoch': 0.1}\n",
        [("train", {"loss": 1.5}, None, 0.1, None)],
    ),
    (
        "eval without eval_loss",
        "{'eval_accuracy': 0.91, 'eval_runtime': 3.2, 'epoch': 1.0}\n",
        [("eval", {"eval_accuracy": 0.91, "eval_runtime": 3.2}, None, 1.0, None)],
    ),
    (
        "summary",
        "{'train_runtime': 56.28, 'train_samples_per_second': 170.6, 'train_loss': 4.924, 'epoch': 2.344}\n",
        [
            (
                "summary",
                {"train_runtime": 56.28, "train_samples_per_second": 170.6, "train_loss": 4.924},
                None,
                2.344,
                None,
            )
        ],
    ),
    ("tokenizer config is not a record", "Updated tokens: {'eos_token_id': 151645, 'bos_token_id': None}\n", []),
    (
        "dataset sample with nested lists is not a record",
        "{'input_ids': [1, 2, 3], 'labels': [1, 2, 3], 'text': 'hi'}\n",
        [],
    ),
    ("nested dict is not a record", "{'config': {'loss': 1.0}, 'x': 2}\n", []),
    (
        "glued after bar",
        BAR + "{'loss': '6.191', 'epoch': '0.03906'}\n",
        [("train", {"loss": 6.191}, None, 0.03906, None)],
    ),
    (
        "followed by overwritten bar tail",
        "{'loss': 0.5, 'epoch': 0.0}7/10 [00:31<00:13,  4.4s/it]\n",
        [("train", {"loss": 0.5}, None, 0.0, None)],
    ),
    (
        "many bar segments and clear runs",
        "".join(f"\r  {i}%|     | {i}/300 [00:0{i % 10}<00:50,  5.0it/s]" for i in range(200))
        + "\r"
        + " " * 80
        + "\r{'loss': 4.0, 'epoch': 0.5}\n",
        [("train", {"loss": 4.0}, None, 0.5, None)],
    ),
    (
        "ESC[A nested eval bar",
        "\r 88%|████████▊ | 7/8 [00:00<00:00, 20.1it/s]\x1b[A\r      \r\x1b[A{'eval_loss': '5.524', 'epoch': '0.3906'}\n",
        [("eval", {"eval_loss": 5.524}, None, 0.3906, None)],
    ),
    (
        "logging prefix",
        "[INFO|trainer.py:2128] 2024-07-17 00:18:20,620 >> {'loss': 1.25, 'epoch': 0.2}\n",
        [("train", {"loss": 1.25}, None, 0.2, None)],
    ),
    (
        "timestamped logging",
        "2024-05-01 10:00:00,123 - INFO - __main__ - {'loss': 1.125, 'epoch': 0.3}\n",
        [("train", {"loss": 1.125}, None, 0.3, None)],
    ),
    ("srun -l label", "1: {'loss': 2.5, 'epoch': 0.16}\n", [("train", {"loss": 2.5}, None, 0.16, "1")]),
    ("[rank0]: prefix", "[rank3]: {'loss': 2.25, 'epoch': 0.16}\n", [("train", {"loss": 2.25}, None, 0.16, "3")]),
    (
        "rich handler columns",
        "[15:17:13] INFO     [Rank:0] {'loss': 0.7817, 'learning_rate': 0.01, 'epoch': 1.0, 'step': 3}          trainer_base.py:429\n",
        [("train", {"loss": 0.7817, "learning_rate": 0.01}, 3, 1.0, "0")],
    ),
    (
        "global_step/max_steps",
        "Train:  83%|████ | 50/60 [37:45<07:18, 43.90s/it]{'loss': '0.03346', 'epoch': '4.172', 'global_step/max_steps': '50/60', 'elapsed_time': '37m 45s'}\n",
        [("train", {"loss": 0.03346}, 50, 4.172, None)],
    ),
    (
        "double-quoted JSON dict in console",
        '{"loss": 0.5, "learning_rate": 1e-4, "epoch": 0.2}\n',
        [("train", {"loss": 0.5, "learning_rate": 1e-4}, None, 0.2, None)],
    ),
    (
        "trailing whitespace and CRLF",
        "{'loss': 0.0618, 'epoch': 5.27}      \r\n",
        [("train", {"loss": 0.0618}, None, 5.27, None)],
    ),
    (
        "two dicts on one line",
        "{'loss': 1.0, 'epoch': 0.1}{'loss': 0.9, 'epoch': 0.2}\n",
        [("train", {"loss": 1.0}, None, 0.1, None), ("train", {"loss": 0.9}, None, 0.2, None)],
    ),
    (
        "repeated identical records are all kept",
        "{'loss': nan, 'learning_rate': 3.0, 'epoch': 0.27}\n" * 3,
        [("train", {"loss": math.nan, "learning_rate": 3.0}, None, 0.27, None)] * 3,
    ),
    (
        "incomplete dict at EOF",
        "{'loss': 1.0, 'epoch': 0.1}\n{'loss': 0.5, 'grad_norm': 0.1, 'compl",
        [("train", {"loss": 1.0}, None, 0.1, None)],
    ),
]


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("name,text,want", CASES, ids=[c[0] for c in CASES])
def test_shape(name: str, text: str, want: list) -> None:
    # GIVEN one log shape WHEN parsed THEN exactly the expected records come out
    p = LogParser()
    items = p.feed(text.encode()) + p.flush()
    recs = [i for i in items if isinstance(i, Record)]
    assert len(recs) == len(want)
    for r, (kind, metrics, step, epoch, rank) in zip(recs, want):
        assert r.kind == kind
        assert set(r.metrics) == set(metrics)
        assert all(same(r.metrics[k], v) for k, v in metrics.items())
        assert r.step == step
        assert r.epoch == epoch
        assert r.rank == rank


def test_train_bar_progress_not_eval_bar() -> None:
    # GIVEN a train bar at 50/300 followed by an eval bar 7/8
    text = BAR + "\r 88%|████████▊ | 7/8 [00:00<00:00, 20.1it/s]\x1b[A\n"
    p = LogParser()
    prog = [i for i in p.feed(text.encode()) if isinstance(i, Progress)]
    # THEN progress is the train bar's: step 50 of 300, 5.68 steps/s, 9 s elapsed
    assert prog == [Progress(50, 300, 9.0, 5.68, prog[0].offset, "bar")]


def test_seconds_per_iteration_bar_is_inverted() -> None:
    p = LogParser()
    prog = [i for i in p.feed(b"  2%|  | 1/60 [00:42<41:47, 42.51s/it]\n") if isinstance(i, Progress)]
    assert prog[0].step == 1 and prog[0].total == 60
    assert prog[0].rate == pytest.approx(1 / 42.51)


def test_labelled_bars_are_not_the_train_bar() -> None:
    p = LogParser()
    text = b"Tokenizing train dataset: 100%|##########| 3000/3000 [00:01<00:00, 2000.0it/s]\n"
    assert [i for i in p.feed(text) if isinstance(i, Progress)] == []


def test_banner() -> None:
    text = (
        "[INFO|trainer.py:2128] 2024-07-17 00:18:20,620 >> ***** Running training *****\n"
        "[INFO|trainer.py:2130] 2024-07-17 00:18:20,620 >>   Num Epochs = 3\n"
        "[INFO|trainer.py:2135] 2024-07-17 00:18:20,620 >>   Gradient Accumulation steps = 4\n"
        "[INFO|trainer.py:2136] 2024-07-17 00:18:20,620 >>   Total optimization steps = 1,300\n"
    )
    infos = [i for i in LogParser().feed(text.encode()) if isinstance(i, RunInfo)]
    assert [(i.num_epochs, i.grad_accum, i.total_steps) for i in infos] == [
        (3, None, None),
        (None, 4, None),
        (None, None, 1300),
    ]


@pytest.mark.parametrize(
    "line,kind",
    [
        ("Traceback (most recent call last):", "traceback"),
        ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", "oom"),
        ("Killed", "killed"),
        (
            "[rank0]:[E ProcessGroupNCCL.cpp:607] [Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1)",
            "nccl_timeout",
        ),
    ],
)
def test_crash_evidence(line: str, kind: str) -> None:
    events = [i for i in LogParser().feed((line + "\n").encode()) if isinstance(i, Event)]
    assert events[0].kind == kind
    assert events[0].line == line


def test_traceback_closing_line_is_kept() -> None:
    text = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nRuntimeError: CUDA error: device-side assert triggered\n'
    events = [i for i in LogParser().feed(text.encode()) if isinstance(i, Event)]
    assert [(e.kind, e.line) for e in events] == [
        ("traceback", "Traceback (most recent call last):"),
        ("error", "RuntimeError: CUDA error: device-side assert triggered"),
    ]


def test_echo_by_second_logger_counts_once() -> None:
    # GIVEN a bare dict followed by the same values logged again with `step` (2 loggers)
    text = (
        "{'loss': 0.7817, 'learning_rate': 0.01, 'epoch': 1.0}\n"
        "[15:17:13] INFO     [Rank:0] {'loss': 0.7817, 'learning_rate': 0.01, 'epoch': 1.0, 'step': 3}   trainer_base.py:429\n"
        "{'loss': 0.5714, 'learning_rate': 0.01, 'epoch': 2.0}\n"
        "[15:17:30] INFO     [Rank:0] {'loss': 0.5714, 'learning_rate': 0.01, 'epoch': 2.0, 'step': 6}   trainer_base.py:429\n"
    )
    p = LogParser()
    recs = [i for i in p.feed(text.encode()) + p.flush() if isinstance(i, Record)]
    # THEN each record counts once; the second is the logged copy with its step
    assert [(r.metrics["loss"], r.step) for r in recs] == [(0.7817, None), (0.5714, 6)]


def test_resume_emits_rewind_before_redone_record() -> None:
    text = "{'loss': 5.1, 'epoch': 1.016}\n{'loss': 5.0, 'epoch': 1.055}\n{'loss': 5.3, 'epoch': 0.8203}\n"
    items = LogParser().feed(text.encode())
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["Record", "Record", "Rewind", "Record"]
    rw = items[2]
    assert isinstance(rw, Rewind) and rw.epoch == 0.8203 and rw.rank is None


def test_jsonl_llamafactory_lr_alias_and_nulls() -> None:
    text = (
        '{"current_steps": 5, "total_steps": 100, "loss": 1.7, "eval_loss": null, "lr": 1e-9, "epoch": 0.0, "percentage": 5.0, "elapsed_time": "0:03:29", "remaining_time": "4 days, 5:06:09"}\n'
        '{"current_steps": 100, "total_steps": 100, "epoch": 1.0, "percentage": 100.0, "throughput": "0.00"}\n'
    )
    p = LogParser()
    items = p.feed(text.encode()) + p.flush()
    recs = [i for i in items if isinstance(i, Record)]
    assert p.format == "jsonl"
    assert len(recs) == 1 and recs[0].metrics == {"loss": 1.7, "learning_rate": 1e-9} and recs[0].step == 5
    progs = [i for i in items if isinstance(i, Progress)]
    assert (progs[-1].step, progs[-1].total, progs[0].elapsed_s) == (100, 100, 209.0)


def test_trainer_state_bare_nan_tokens() -> None:
    text = '{\n  "global_step": 10,\n  "max_steps": 20,\n  "log_history": [\n    {"epoch": 0.5, "grad_norm": NaN, "loss": Infinity, "step": 10}\n  ]\n}\n'
    p = LogParser()
    recs = [i for i in p.feed(text.encode()) + p.flush() if isinstance(i, Record)]
    assert p.format == "trainer_state"
    assert math.isnan(recs[0].metrics["grad_norm"]) and recs[0].metrics["loss"] == math.inf and recs[0].step == 10


def test_malformed_metric_dict_is_counted_not_raised() -> None:
    p = LogParser()
    items = p.feed(b"{'loss': 1.0, 'x': foo(3), 'epoch': 0.1}\n{'loss': 0.5, 'epoch': 0.2}\n")
    assert [i.metrics["loss"] for i in items if isinstance(i, Record)] == [0.5]
    assert p.skipped == 1


def test_endless_bar_line_keeps_carry_bounded() -> None:
    # GIVEN 5 MB of \r-less bar text then a record: the carry never exceeds its cap
    p = LogParser()
    chunk = b"x" * 65536
    for _ in range(80):
        p.feed(chunk)
        assert p.held_bytes <= (1 << 20)
    items = p.feed(b"{'loss': 0.25, 'epoch': 0.5}\n")
    assert [i.metrics["loss"] for i in items if isinstance(i, Record)] == [0.25]


def test_oom_closing_a_traceback_is_one_event() -> None:
    text = 'Traceback (most recent call last):\n  File "x.py", line 3\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n'
    events = [i for i in LogParser().feed(text.encode()) if isinstance(i, Event)]
    assert [e.kind for e in events] == ["traceback", "oom"]
