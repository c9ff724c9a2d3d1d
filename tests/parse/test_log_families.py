"""Families of logs nobody here wrote (issue 12): each read exactly, whatever the chunking.

Every case is a small input built from a real shape (a hard-wrapped tmux capture, an IPython
pprint, LLaMA-Factory's second logger, two processes printing every record, an Optuna trial,
per-step runtimes, notebook tables, CRLF, a constant prefix, Colab bars, DeepSpeed lines). The
table says what must come out; each case is also fed in chunks of 1 byte, 7 bytes and 1 MiB
and must give exactly the items of feeding it whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tui_monitor.core.parse import LogParser, Progress, Record


@dataclass(frozen=True)
class Case:
    """One input and what it must give.

    Attributes:
        log: the bytes.
        records: ``(kind, metrics, step, epoch)`` of every record, in order.
        fragments: ``LogParser.unreadable_fragments`` after the whole input.
        readings: ``LogParser.readings`` after the whole input.
        progress: ``(step, total, skipped)`` of the last progress item, when there must be one.
    """

    log: bytes
    records: list[tuple[str, dict[str, float], int | None, float | None]]
    fragments: int = 0
    readings: tuple[str, ...] = ()
    progress: tuple[int, int | None, int | None] | None = None
    more: dict[str, object] = field(default_factory=dict)


T = "train"
E = "eval"
S = "summary"

CASES: dict[str, Case] = {
    # 1. tmux capture-pane at 80 columns: a key and a number cut, one cut on a trimmed space.
    "hard_wrapped_grpo": Case(
        b"{'loss': 0.0123, 'grad_norm': 0.08838834\n"
        b"61356163, 'learning_rate': 1e-06, 'reward': 0.5, 'comple\n"
        b"tions/mean_length': 120.5,\n"
        b"'epoch': 0.02}\n",
        [
            (
                T,
                {
                    "loss": 0.0123,
                    "grad_norm": 0.0883883461356163,
                    "learning_rate": 1e-06,
                    "reward": 0.5,
                    "completions/mean_length": 120.5,
                },
                None,
                0.02,
            )
        ],
    ),
    "hard_wrapped_two_records_and_a_fragment": Case(
        b"step log\n{'loss': 2.5, 'learning_rate': 2e-0\n5, 'epoch': 0.1}\n"
        b"{'loss': 2.4, 'learn\ning_rate' 2e-05, 'epoch': 0.2}\n"  # a colon lost: unreadable
        b"{'loss': 2.3, 'learning_rate': 2e-05, 'epo\nch': 0.3}\n",
        [(T, {"loss": 2.5, "learning_rate": 2e-05}, None, 0.1), (T, {"loss": 2.3, "learning_rate": 2e-05}, None, 0.3)],
        fragments=1,
    ),
    "wrapped_dict_cut_by_a_new_dict": Case(
        b"{'loss': 1.5, 'grad_norm': 0.3, 'lea\n{'loss': 1.4, 'grad_norm': 0.2, 'epoch': 1.0}\n",
        [(T, {"loss": 1.4, "grad_norm": 0.2}, None, 1.0)],
        fragments=1,
    ),
    "wrapped_config_is_no_fragment": Case(
        b"{'model': {'hidden': 4,\n 'layers': 2}, 'learning_rate': 0.1}\n",
        [],
    ),
    # 2. IPython pprint of trainer.evaluate(): one key per line.
    "pprint_eval_dict": Case(
        b"Out[7]:\n{'epoch': 3.0,\n 'eval_accuracy': 0.91,\n 'eval_loss': 0.2873,\n 'eval_runtime': 12.3,\n"
        b" 'eval_samples_per_second': 81.2,\n 'eval_steps_per_second': 10.2,\n 'eval_f1': 0.9,\n"
        b" 'eval_precision': 0.88}\n",
        [
            (
                E,
                {
                    "eval_accuracy": 0.91,
                    "eval_loss": 0.2873,
                    "eval_runtime": 12.3,
                    "eval_samples_per_second": 81.2,
                    "eval_steps_per_second": 10.2,
                    "eval_f1": 0.9,
                    "eval_precision": 0.88,
                },
                None,
                3.0,
            )
        ],
    ),
    # 3. LLaMA-Factory: the Trainer's dict, then its own logger's line with fewer digits.
    "llamafactory_second_logger": Case(
        b"{'loss': 1.23456, 'grad_norm': 3.5, 'learning_rate': 4.98765e-05, 'epoch': 0.05}\n"
        b"[INFO|2024-11-02 10:00:01] llamafactory.train.callbacks:140 >> {'loss': 1.2346, "
        b"'learning_rate': 4.9877e-05, 'epoch': 0.05, 'throughput': 2211.35}\n"
        b"{'loss': 1.1, 'grad_norm': 3.1, 'learning_rate': 4.9e-05, 'epoch': 0.1}\n"
        b"11/02/2024 10:00:02 - INFO - llamafactory.train.callbacks - {'loss': 1.1000, "
        b"'learning_rate': 4.9000e-05, 'epoch': 0.10, 'throughput': 2210.0}\n",
        [
            (T, {"loss": 1.23456, "grad_norm": 3.5, "learning_rate": 4.98765e-05}, None, 0.05),
            (T, {"loss": 1.1, "grad_norm": 3.1, "learning_rate": 4.9e-05}, None, 0.1),
        ],
        readings=("second_logger",),
    ),
    "llamafactory_logger_alone_is_kept": Case(
        b"[INFO|2024-11-02 10:00:01] llamafactory.train.callbacks:140 >> {'loss': 1.2346, "
        b"'learning_rate': 4.9877e-05, 'epoch': 0.05, 'throughput': 2211.35}\n",
        [(T, {"loss": 1.2346, "learning_rate": 4.9877e-05, "throughput": 2211.35}, None, 0.05)],
    ),
    # Two processes that both think they are rank 0: every record twice, identical.
    "two_processes_every_record_twice": Case(
        b"".join(
            b"{'loss': %.4f, 'grad_norm': %.3f, 'learning_rate': 1e-05, 'epoch': %.2f}\n"
            % (2 - i / 10, 1 + i / 7, i / 10)
            for i in (1, 1, 2, 2, 3, 3, 4, 4)
        ),
        [
            (T, {"loss": 2 - i / 10, "grad_norm": round(1 + i / 7, 3), "learning_rate": 1e-05}, None, round(i / 10, 2))
            for i in (1, 2, 3, 4)
        ],
        readings=("two_writers",),
    ),
    # The second process started a moment later: its copies come one record behind (r1 r2 r1
    # r3 r2 r4 r3 ...), no banner to tell.
    "two_processes_copies_one_behind": Case(
        b"".join(
            b"{'loss': %.4f, 'grad_norm': %.3f, 'learning_rate': 1e-05, 'epoch': %.2f}\n"
            % (2 - i / 10, 1 + i / 7, i / 10)
            for i in (1, 2, 1, 3, 2, 4, 3, 5, 4, 5)
        ),
        [
            (T, {"loss": 2 - i / 10, "grad_norm": round(1 + i / 7, 3), "learning_rate": 1e-05}, None, round(i / 10, 2))
            for i in (1, 2, 3, 4, 5)
        ],
        readings=("two_writers",),
    ),
    "one_writer_back_to_its_first_record_once_is_not_two": Case(
        b"".join(
            b"{'loss': %.4f, 'grad_norm': %.3f, 'learning_rate': 1e-05, 'epoch': %.2f}\n"
            % (2 - i / 10, 1 + i / 7, i / 10)
            for i in (1, 2, 1, 3, 4)
        ),
        [
            (T, {"loss": 2 - i / 10, "grad_norm": round(1 + i / 7, 3), "learning_rate": 1e-05}, None, round(i / 10, 2))
            for i in (1, 2, 1, 3, 4)
        ],
    ),
    # A run restarted into its log with the same seed prints its first records again, back to
    # back: a new run's records, not a second process's copies.
    "a_restart_with_the_same_seed_is_not_two": Case(
        b"".join(
            b"{'loss': %.4f, 'grad_norm': %.3f, 'learning_rate': 1e-05, 'epoch': %.2f}\n"
            % (2 - i / 10, 1 + i / 7, i / 10)
            for i in (1, 2, 1, 2, 3)
        ),
        [
            (T, {"loss": 2 - i / 10, "grad_norm": round(1 + i / 7, 3), "learning_rate": 1e-05}, None, round(i / 10, 2))
            for i in (1, 2, 1, 2, 3)
        ],
    ),
    "two_banners_then_skewed_copies": Case(
        b"  Total optimization steps = 40\n  Total optimization steps = 40\n"
        b"{'loss': 2.0, 'learning_rate': 1e-05, 'epoch': 0.1}\n"
        b"{'loss': 1.9, 'learning_rate': 1e-05, 'epoch': 0.2}\n"
        b"{'loss': 2.0, 'learning_rate': 1e-05, 'epoch': 0.1}\n"
        b"{'loss': 1.9, 'learning_rate': 1e-05, 'epoch': 0.2}\n",
        [
            (T, {"loss": 2.0, "learning_rate": 1e-05}, None, 0.1),
            (T, {"loss": 1.9, "learning_rate": 1e-05}, None, 0.2),
        ],
        readings=("two_writers",),
    ),
    "one_writer_repeating_a_value_is_not_two": Case(
        b"{'loss': 0.0, 'learning_rate': 1e-05, 'epoch': 1.0}\n" * 3,
        [(T, {"loss": 0.0, "learning_rate": 1e-05}, None, 1.0)] * 3,
    ),
    # 4. Dicts that are not metric records.
    "optuna_trial_parameters": Case(
        b"[I 2025-08-13 11:07:37,490] Trial 0 finished with value: 0.32 and parameters: "
        b"{'learning_rate': 0.012073035028913043, 'num_leaves': 91, 'feature_fraction': 0.71}. Best is trial 0\n"
        b"[I 2025-08-13 11:09:59,510] Trial 0 finished with value: 7.9 and parameters: {'lr': 0.00086, 'n_filters': 41}.\n"
        b"{'loss': 0.1789, 'grad_norm': 0.013, 'learning_rate': 0.00023, 'epoch': 0.04}\n",
        [(T, {"loss": 0.1789, "grad_norm": 0.013, "learning_rate": 0.00023}, None, 0.04)],
    ),
    "lr_with_an_epoch_is_a_record": Case(
        b"{'learning_rate': 0.0002, 'epoch': 0.5}\n",
        [(T, {"learning_rate": 0.0002}, None, 0.5)],
    ),
    # 5. Runtime logged at every step: train records; the run's last record is the summary.
    "runtime_at_every_step": Case(
        b"{'loss': 2.1, 'learning_rate': 1e-05, 'train_runtime': 10.5, 'train_tokens_per_second': 900.0, 'epoch': 0.1}\n"
        b"{'loss': 2.0, 'learning_rate': 1e-05, 'train_runtime': 21.0, 'train_tokens_per_second': 905.0, 'epoch': 0.2}\n"
        b"{'train_runtime': 22.1, 'train_samples_per_second': 9.1, 'train_steps_per_second': 0.9, "
        b"'train_loss': 2.05, 'epoch': 0.2}\n",
        [
            (
                T,
                {"loss": 2.1, "learning_rate": 1e-05, "train_runtime": 10.5, "train_tokens_per_second": 900.0},
                None,
                0.1,
            ),
            (
                T,
                {"loss": 2.0, "learning_rate": 1e-05, "train_runtime": 21.0, "train_tokens_per_second": 905.0},
                None,
                0.2,
            ),
            (
                S,
                {
                    "train_runtime": 22.1,
                    "train_samples_per_second": 9.1,
                    "train_steps_per_second": 0.9,
                    "train_loss": 2.05,
                },
                None,
                0.2,
            ),
        ],
    ),
    # 6. Notebook tables.
    "notebook_table_tabs_epochs": Case(
        b" [54/54 06:24, Epoch 2/2]\nEpoch\tTraining Loss\tValidation Loss\tAccuracy\tF1\n"
        b"1\tNo log\t0.426753\t0.500000\t0.333333\n2\t0.848300\t0.449921\t0.470588\t0.405308\n"
        b"Saving model checkpoint to ./out\n",
        [
            (E, {"eval_loss": 0.426753, "eval_accuracy": 0.5, "eval_f1": 0.333333}, None, 1.0),
            (T, {"loss": 0.8483}, None, 2.0),
            (E, {"eval_loss": 0.449921, "eval_accuracy": 0.470588, "eval_f1": 0.405308}, None, 2.0),
        ],
        progress=(54, 54, None),
    ),
    "notebook_table_spaces_steps": Case(
        b"Step    Training Loss    Validation Loss\n"
        b"  500         2.345600           No log\n 1000         1.987600           1.902345\n\n",
        [(T, {"loss": 2.3456}, 500, None), (T, {"loss": 1.9876}, 1000, None), (E, {"eval_loss": 1.902345}, 1000, None)],
    ),
    "notebook_table_pipes": Case(
        b"| Step | Training Loss | Validation Loss |\n|------|---------------|-----------------|\n"
        b"| 10 | 0.9 | 0.95 |\n| 20 | 0.8 | 0.85 |\n",
        [
            (T, {"loss": 0.9}, 10, None),
            (E, {"eval_loss": 0.95}, 10, None),
            (T, {"loss": 0.8}, 20, None),
            (E, {"eval_loss": 0.85}, 20, None),
        ],
    ),
    "notebook_table_html": Case(
        b'<table border="1" class="dataframe">\n  <thead>\n <tr style="text-align: left;">\n'
        b"      <th>Epoch</th>\n      <th>Training Loss</th>\n      <th>Validation Loss</th>\n    </tr>\n"
        b"  </thead>\n  <tbody>\n    <tr>\n      <td>1</td>\n      <td>No log</td>\n      <td>0.7000</td>\n"
        b"    </tr>\n    <tr>\n      <td>2</td>\n      <td>0.6500</td>\n      <td>0.6800</td>\n    </tr>\n"
        b"  </tbody>\n</table>\n",
        [
            (E, {"eval_loss": 0.7}, None, 1.0),
            (T, {"loss": 0.65}, None, 2.0),
            (E, {"eval_loss": 0.68}, None, 2.0),
        ],
    ),
    # 7. Line shapes.
    "crlf_capture": Case(
        b"{'loss': 0.5, 'grad_norm': nan, 'learning_rate': 1e-05, 'epoch': 0.7}\r\n"
        b"{'loss': 0.4, 'note': 'ok', 'learning_rate': 1e-05, 'epoch': 1.0}\r\n"
        b"{'epoch': 1.0,\r\n 'eval_loss': 0.45}\r\n",
        [
            (T, {"loss": 0.5, "grad_norm": float("nan"), "learning_rate": 1e-05}, None, 0.7),
            (T, {"loss": 0.4, "learning_rate": 1e-05}, None, 1.0),
            (E, {"eval_loss": 0.45}, None, 1.0),
        ],
        more={"text": {"note": "ok"}},
    ),
    "constant_prefix": Case(
        b"# {'loss': 0.4321, 'grad_norm': 1.08838834\n# 61356163, 'learning_rate': 1e-05, 'epoch': 0.5}\n"
        b"# Step\tTraining Loss\n# 10\t0.5\n"
        b"# Step 20/250 [00:11 < 01:52, 1.03 it/s]\n",
        [
            (T, {"loss": 0.4321, "grad_norm": 1.0883883461356163, "learning_rate": 1e-05}, None, 0.5),
            (T, {"loss": 0.5}, 10, None),
        ],
        progress=(20, 250, None),
    ),
    "colab_bar_step_form": Case(
        b"Step 135/250 [02:11 < 01:52, 1.03 it/s]\n",
        [],
        progress=(135, 250, None),
    ),
    "colab_bar_tqdm_text_form": Case(
        b"Map: 100%\n 271/271 [00:00<00:00, 311.41 examples/s]\n 45/100 [00:12<00:15]\n",
        [],
        progress=(45, 100, None),
    ),
    "deepspeed_step_skipped": Case(
        b"{'loss': 6.2645, 'learning_rate': 0.001, 'epoch': 0.02}\n"
        b"[2021-11-26 03:07:16,494] [INFO] [logging.py:69:log_dist] [Rank 0] step=2000, skipped=1995, "
        b"lr=[0.001, 0.001], mom=[0.0, 0.0]\n",
        [(T, {"loss": 6.2645, "learning_rate": 0.001}, None, 0.02)],
        progress=(2000, None, 1995),
    ),
}


def _feed(data: bytes, chunk: int | None) -> tuple[LogParser, list[object]]:
    p = LogParser()
    items: list[object] = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        items += p.feed(data[i : i + step])
    items += p.flush()
    return p, items


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("name", sorted(CASES))
def test_family_is_read_exactly(name: str) -> None:
    # GIVEN a small log of one family
    case = CASES[name]
    # WHEN it is fed whole
    p, items = _feed(case.log, None)
    recs = [i for i in items if isinstance(i, Record)]
    # THEN its records are exactly those of the table, no other, none twice
    got = [(r.kind, r.metrics, r.step, r.epoch) for r in recs]
    assert len(got) == len(case.records), got
    for (gk, gm, gs, ge), (wk, wm, ws, we) in zip(got, case.records):
        assert (gk, gs, ge) == (wk, ws, we), got
        assert gm.keys() == wm.keys() and all(_same(gm[k], wm[k]) for k in wm), (gm, wm)
    for r in recs:
        assert all("\r" not in k for k in r.metrics) and all("\r" not in v for v in r.text.values())
    if "text" in case.more:
        assert any(r.text == case.more["text"] for r in recs)
    assert p.unreadable_fragments == case.fragments
    assert p.readings == case.readings
    if case.progress is not None:
        last = [i for i in items if isinstance(i, Progress)][-1]
        assert (last.step, last.total, last.skipped) == case.progress


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_family_chunked_equals_whole(name: str, chunk: int) -> None:
    # GIVEN a family's log WHEN fed in chunks THEN the same items as fed whole (progress is
    # coalesced per feed: only the last position is compared), the same counts and readings
    data = CASES[name].log
    pw, whole = _feed(data, None)
    pc, chunked = _feed(data, chunk)
    strip = lambda items: [x for x in items if not isinstance(x, Progress)]  # noqa: E731
    assert repr(strip(chunked)) == repr(strip(whole))
    last = lambda items: [x for x in items if isinstance(x, Progress)][-1:]  # noqa: E731
    assert last(chunked) == last(whole)
    assert (pc.unreadable_fragments, pc.readings) == (pw.unreadable_fragments, pw.readings)
