"""Judgement on the evidence, at the moment it shows (issue 12, items 8-10).

Each log is built from a real shape and replayed through the real parser, run state and
verdict; the alarm-timing test replays a log record by record, as the app sees it live.
"""

from __future__ import annotations

import pytest

from tui_monitor.core.analysis import Health, analyse
from tui_monitor.core.parse import LogParser
from tui_monitor.core.state import Run
from tui_monitor.core.text import reason_text


def judge(log: bytes) -> Health:
    """The verdict on ``log`` read whole (no clock, as ``trainmon report``)."""
    p = LogParser()
    items = p.feed(log) + p.flush()
    run = Run()
    run.apply(items)
    return analyse(run.snapshot(), None)


def _rec(loss: float, grad: float, step: int) -> bytes:
    return b"{'loss': %r, 'grad_norm': %r, 'learning_rate': 1e-05, 'epoch': %.2f, 'step': %d}\n" % (
        loss,
        grad,
        step / 1000,
        step,
    )


GRAD = [1.5, 1.4, 1.6, 1.5, 1.45, 1.55, 1.5, 1.52, 1.48, 1.5, 7.44, 30.0, 153.0]


def test_grad_alarm_sounds_on_the_record_that_shows_it() -> None:
    # GIVEN a run whose grad_norm is ~1.5, then 7.44 at step 110, 30 (20× usual) at step 120
    lines = [_rec(2.0 - i / 100, g, 10 * (i + 1)) for i, g in enumerate(GRAD)]
    # WHEN it is replayed live, one record at a time
    p, run = LogParser(), Run()
    first_critical = None
    for i, line in enumerate(lines):
        run.apply(p.feed(line))
        h = analyse(run.snapshot(), None)
        if h.status == "critical" and first_critical is None:
            first_critical = i
            r = h.reason("grad_exploding")
            assert r is not None
            # THEN it is said with the current value and where it started
            assert reason_text(r, "en") == "grad_norm exploding since step 110: 7.44 → now 30 (20× usual)"
            assert "с шага 110" in reason_text(r, "ru")
    # THEN the verdict turns critical on the record with 20× the usual value, not one later
    assert first_critical == GRAD.index(30.0)
    r = h.reason("grad_exploding")
    assert r is not None and reason_text(r, "en") == "grad_norm exploding since step 110: 7.44 → now 153 (102× usual)"


def test_falling_grad_norm_is_falling_not_stable() -> None:
    # GIVEN axolotl's memorisation run: grad_norm 98.5 → 59.5 → 45 → 19.6 → 11.8
    log = b"".join(
        b"{'loss': %r, 'grad_norm': %r, 'learning_rate': 5e-06, 'epoch': %d.0}\n" % (lo, g, i + 1)
        for i, (lo, g) in enumerate([(4.75, 98.5), (2.0312, 59.5), (0.8984, 45.0), (0.4102, 19.625), (0.2031, 11.8125)])
    )
    r = judge(log).reason("grad_ok")
    # THEN it reads as falling, from its first value to its last
    assert r is not None and reason_text(r, "en") == "grad_norm falling: 98.5 → 11.81"


@pytest.mark.parametrize(
    ("log", "severity"),
    [
        # T5 + DeepSpeed: 6.26, then exactly 0.0, 1995 of 2000 steps skipped (fp16 overflow)
        (
            b"{'loss': 6.2645, 'learning_rate': 0.001, 'epoch': 0.02}\n"
            + b"".join(b"{'loss': 0.0, 'learning_rate': 0.001, 'epoch': 0.%02d}\n" % e for e in (4, 6, 8, 10))
            + b"[Rank 0] step=2000, skipped=1995, lr=[0.001, 0.001], mom=[0.0, 0.0]\n",
            "critical",
        ),
        # loss 0 with grad_norm NaN in every record after a real loss
        (
            b"{'loss': 0.18, 'grad_norm': 0.02, 'learning_rate': 2e-4, 'epoch': 0.1}\n"
            + b"".join(
                b"{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 2e-4, 'epoch': 0.%d}\n" % e for e in range(2, 6)
            ),
            "critical",
        ),
        # a GRPO-looking log with zero loss but NaN gradients: no excuse
        (
            b"".join(
                b"{'loss': 0.0, 'grad_norm': nan, 'reward': 0.5, 'kl': 0.0, 'learning_rate': 1e-6, 'epoch': 0.%d}\n" % e
                for e in range(1, 5)
            ),
            None,
        ),
    ],
)
def test_loss_exactly_zero_after_a_real_loss_is_a_collapse(log: bytes, severity: str | None) -> None:
    h = judge(log)
    assert "loss_decreasing" not in h.codes and "loss_zero_expected" not in h.codes
    if severity is not None:
        r = h.reason("loss_collapse")
        assert r is not None and r.severity == severity
    assert h.status == "critical"


def test_grpo_zero_loss_with_flowing_gradients_is_expected() -> None:
    log = b"".join(
        b"{'loss': 0.0, 'grad_norm': 0.%d, 'reward': 0.5, 'kl': 0.001, 'learning_rate': 1e-6, 'epoch': 0.%d}\n" % (e, e)
        for e in range(1, 6)
    )
    h = judge(log)
    assert "loss_zero_expected" in h.codes and "loss_collapse" not in h.codes


def test_traceback_after_training_finished_is_an_event() -> None:
    # GIVEN a finished run ("Training completed.") and then an OOM in post-training analysis
    log = (
        b"{'loss': 0.9, 'learning_rate': 1e-05, 'epoch': 1.0}\n{'loss': 0.5, 'learning_rate': 1e-05, 'epoch': 2.0}\n"
        b"{'loss': 0.3, 'learning_rate': 1e-05, 'epoch': 3.0}\n"
        b"\n\nTraining completed. Do not forget to share your model on huggingface.co/models =)\n\n"
        b"Could not generate explanation: CUDA out of memory. Tried to allocate 16.48 GiB.\n"
        b'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n'
        b"torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 16.48 GiB.\n"
    )
    h = judge(log)
    # THEN the run finished; the error is said as an event, not as a crash
    assert h.state.word == "finished" and "run_crashed" not in h.codes
    r = h.reason("error_after_finish")
    assert r is not None and reason_text(r, "en").startswith("error after training finished: ")


def test_launcher_wrapper_never_names_the_cause() -> None:
    # GIVEN a child's own error, then torchrun's ChildFailedError traceback
    log = (
        b"{'loss': 0.9, 'learning_rate': 1e-05, 'epoch': 0.1}\n"
        b'Traceback (most recent call last):\n  File "train.py", line 9\n'
        b"RuntimeError: CUDA error: an illegal memory access was encountered\n"
        b'Traceback (most recent call last):\n  File "/bin/torchrun", line 8\n'
        b"torch.distributed.elastic.multiprocessing.errors.ChildFailedError: \n"
    )
    h = judge(log)
    assert h.state.word == "crashed"
    assert h.state.line == "RuntimeError: CUDA error: an illegal memory access was encountered"


def test_huge_loss_beside_nan_is_critical_not_flat() -> None:
    # GIVEN losses of 3.4e14 among NaN losses and a NaN train_loss in the summary
    log = (
        b"{'loss': 2.1, 'learning_rate': 1e-05, 'epoch': 0.1}\n{'loss': nan, 'learning_rate': 1e-05, 'epoch': 0.2}\n"
        b"{'loss': 340000000000000.0, 'learning_rate': 1e-05, 'epoch': 0.3}\n{'loss': nan, 'learning_rate': 1e-05, 'epoch': 0.4}\n"
        b"{'loss': 0.0, 'learning_rate': 1e-05, 'epoch': 0.5}\n"
        b"{'train_runtime': 10.0, 'train_samples_per_second': 1.0, 'train_steps_per_second': 1.0, 'train_loss': nan, 'epoch': 0.5}\n"
    )
    h = judge(log)
    assert h.status == "critical"
    assert "loss_plateau" not in h.codes and "loss_decreasing" not in h.codes


def test_first_nan_is_reported_as_the_first() -> None:
    # GIVEN KTO: a finite loss, then NaN on every later record
    log = b"{'loss': 1.0431, 'grad_norm': 42.1, 'learning_rate': 1e-06, 'epoch': 0.0}\n" + b"".join(
        b"{'loss': nan, 'grad_norm': %r, 'learning_rate': %de-06, 'epoch': 0.0}\n" % (40.0 + i, i) for i in range(2, 6)
    )
    r = judge(log).reason("loss_nonfinite")
    assert r is not None and r.severity == "critical"
    # (no step on the x axis: the place is the record's epoch, never its ordinal)
    assert reason_text(r, "en") == "loss is nan (first at epoch 0, 4× in all): training has diverged"


@pytest.mark.parametrize(
    ("evals", "word"),
    [
        # 1.532 → 1.553 over 7 evaluations after the best, the train loss falling: overfitting
        ([1.60, 1.532, 1.54, 1.538, 1.545, 1.549, 1.547, 1.553], "eval_overfitting"),
        # best at the second-to-last evaluation, the last worse: not "improving"
        ([1.9, 1.7, 1.5, 1.52], "eval_worsening"),
    ],
)
def test_eval_worse_than_its_best_is_never_improving(evals: list[float], word: str) -> None:
    lines = []
    for i, e in enumerate(evals):
        lines.append(b"{'loss': %r, 'learning_rate': 1e-05, 'epoch': %d.0}\n" % (3.0 - i * 0.2, i + 1))
        lines.append(b"{'eval_loss': %r, 'eval_runtime': 1.0, 'epoch': %d.0}\n" % (e, i + 1))
    h = judge(b"".join(lines))
    assert word in h.codes and "eval_improving" not in h.codes, h.codes
