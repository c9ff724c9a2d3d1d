"""A Hugging Face Trainer callback that writes a clean JSON-lines stream for ``trainmon tail``, and
can stop a run that diverged.

    from tui_monitor.callback import TrainmonCallback
    trainer.add_callback(TrainmonCallback())                  # writes OUTPUT_DIR/trainmon.jsonl
    trainer.add_callback(TrainmonCallback(stop_on="critical"))  # and stops a diverged run

One JSON object per line, one line per ``on_log`` (what the Trainer appends to
``state.log_history``): ``step`` (global step), ``epoch``, the logged metrics as they are
(non-finite values as the strings ``"nan"``, ``"inf"``, ``"-inf"``: the file stays strict JSON),
``total_steps`` (the run's ``max_steps``), ``wall_time`` (seconds since the epoch) and ``run``
(the run's identity: its name, start time and process id). ``trainmon tail trainmon.jsonl``
reads it with the steps the Trainer stated, no tqdm guesswork. The same callback works for TRL's
trainers (they are Trainers).

transformers is imported only when ``TrainmonCallback`` is first looked up (PEP 562 module
``__getattr__``): ``import tui_monitor`` and ``import tui_monitor.callback`` never need it.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tui_monitor.core.pipeline import Pipeline
from tui_monitor.core.report import reason_entries

__all__ = ["STOP_CODES", "STREAM_NAME", "TrainmonCallback", "TrainmonCallbackLogic", "stream_value"]

STREAM_NAME = "trainmon.jsonl"
"""The stream's file name in ``args.output_dir`` when no path is given."""

STOP_CODES = frozenset({"loss_nonfinite", "grad_nonfinite", "grad_exploding", "loss_diverged", "loss_diverging"})
"""Critical findings that stop the training under ``stop_on="critical"``: a non-finite loss or
gradient, an explosion, a divergence. A crash or a stall is not something the run itself can
be asked to stop for."""


def stream_value(v: object) -> float | int | str | None:
    """A logged value as the stream writes it: ints and finite floats as numbers, non-finite
    floats as ``"nan"``/``"inf"``/``"-inf"``, strings as they are, numpy/torch scalars through
    ``float()``; ``None`` for anything else (lists, dicts, booleans are not metrics)."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return v
    try:
        f = float(v)  # type: ignore[arg-type]  # float, numpy and torch scalars
    except (TypeError, ValueError):
        return None
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return f


class TrainmonCallbackLogic:
    """What `TrainmonCallback` does, without transformers (it is mixed into a
    ``transformers.TrainerCallback`` subclass when ``TrainmonCallback`` is looked up).

    Args:
        path: the stream's file; ``None`` is ``args.output_dir/trainmon.jsonl``. The file is
            appended to (a resumed or a second training goes on in it; trainmon splits runs).
        stop_on: ``None`` (default: never stop) or ``"critical"``: set
            ``control.should_training_stop`` when trainmon's verdict on the run turns critical
            for one of :data:`STOP_CODES`, and print one line saying why.
        lang: ``"en"`` or ``"ru"``, the language of that line.
        out: where that line goes (default ``sys.stderr``).

    Raises:
        ValueError: ``stop_on`` is neither ``None`` nor ``"critical"``.

    Attributes:
        path: the file written, once training began (``None`` before).
        stopped: the reason text the training was stopped for, or ``""``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        stop_on: str | None = None,
        lang: str = "en",
        out: IO[str] | None = None,
    ) -> None:
        if stop_on not in (None, "critical"):
            raise ValueError(f"stop_on must be None or 'critical', not {stop_on!r}")
        self._given = Path(path) if path is not None else None
        self.path: Path | None = None
        self.stop_on = stop_on
        self.lang = lang
        self._out = out
        self._file: IO[bytes] | None = None
        self._run = ""
        self._pipe: Pipeline | None = None
        self.stopped = ""

    # -- Trainer events (signatures as transformers.TrainerCallback's) ----------------------------
    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Open the stream (process zero only: one writer per run) and name the run."""
        if not state.is_world_process_zero:
            return
        self._open(args)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Write one line for the record the Trainer just logged; judge it under ``stop_on``."""
        if not state.is_world_process_zero or not logs:
            return
        if self._file is None:
            self._open(args)
        assert self._file is not None
        line: dict[str, Any] = {"step": int(state.global_step)}
        for k, v in logs.items():
            sv = stream_value(v)
            if sv is not None:
                line[k] = sv
        if "epoch" not in line and state.epoch is not None:
            line["epoch"] = stream_value(state.epoch)
        if state.max_steps:
            line["total_steps"] = int(state.max_steps)
        line["wall_time"] = round(time.time(), 3)
        line["run"] = self._run
        data = (json.dumps(line, allow_nan=False, ensure_ascii=False) + "\n").encode()
        # One write per line and a flush: a reader never sees half a record for long.
        self._file.write(data)
        self._file.flush()
        if self._pipe is not None:
            self._pipe.feed(data)
            self._judge(control, int(state.global_step))

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Close the stream."""
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- inside -----------------------------------------------------------------------------------
    def _open(self, args: Any) -> None:
        out_dir = Path(getattr(args, "output_dir", None) or "trainer_output")
        self.path = self._given or out_dir / STREAM_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "ab")  # open for the whole training
        name = getattr(args, "run_name", None) or out_dir.name
        self._run = f"{name}@{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}#{os.getpid()}"
        if self.stop_on is not None:
            # The same pipeline `trainmon` reads the file with, fed the same bytes: the verdict
            # that stops the run is the one `trainmon tail` shows.
            self._pipe = Pipeline()

    def _judge(self, control: Any, step: int) -> None:
        assert self._pipe is not None
        if self.stopped:
            return
        health = self._pipe.health()
        if health.status != "critical":
            return
        for r, entry in zip(health.reasons, reason_entries(health, self.lang)):
            if r.severity == "critical" and r.code in STOP_CODES:
                control.should_training_stop = True
                self.stopped = entry["text"]
                print(f"trainmon: stopping the training at step {step}: {self.stopped}", file=self._out or sys.stderr)
                return


def _make_callback_class() -> type[TrainmonCallbackLogic]:
    """``TrainmonCallback``: the logic mixed into ``transformers.TrainerCallback``."""
    try:
        from transformers import TrainerCallback
    except ImportError:
        raise ImportError("TrainmonCallback needs transformers (pip install transformers)") from None
    cls = type(
        "TrainmonCallback",
        (TrainmonCallbackLogic, TrainerCallback),
        {"__doc__": TrainmonCallbackLogic.__doc__, "__module__": __name__},
    )
    return cls


_cls: type[TrainmonCallbackLogic] | None = None

if TYPE_CHECKING:
    TrainmonCallback = TrainmonCallbackLogic
else:

    def __getattr__(name: str) -> Any:
        # PEP 562: transformers is imported when the callback class is first asked for.
        global _cls
        if name == "TrainmonCallback":
            if _cls is None:
                _cls = _make_callback_class()
            return _cls
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
