"""Truth callback: records every Trainer log entry (with its step) the moment it is logged.

The file is JSON Lines, one event per line, written with flush() after each line, so it survives
SIGKILL of the training process (the kernel has the bytes once write() returned):

  {"event": "train_begin", "t": ..., "pid": ..., "run_info": {...}}
  {"event": "log", "t": ..., "record": {...}}        # == trainer.state.log_history[-1] (has "step")
  {"event": "train_end", "t": ..., "global_step": N}
  {"event": "checked", "t": ..., "log_history_matches": true, "n_records": K}   # written by train.py

Non-finite floats are written as the JSON strings "nan", "inf", "-inf" (the file is strict JSON).
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

from transformers import TrainerCallback


def encode_nonfinite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: encode_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encode_nonfinite(v) for v in value]
    return value


class TruthCallback(TrainerCallback):
    def __init__(self, path: str, run_info: dict[str, Any]) -> None:
        self.path = path
        self.run_info = run_info
        self.records: list[dict[str, Any]] = []
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._f = open(path, "a", encoding="utf-8")

    def write(self, event: dict[str, Any]) -> None:
        event = {"event": event.pop("event"), "t": round(time.time(), 4), **event}
        self._f.write(json.dumps(encode_nonfinite(event), allow_nan=False) + "\n")
        self._f.flush()

    def on_train_begin(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        info = dict(self.run_info)
        info["max_steps"] = state.max_steps
        info["global_step_at_begin"] = state.global_step
        info["num_train_epochs"] = state.num_train_epochs
        info["train_batch_size"] = state.train_batch_size
        info["world_size"] = args.world_size
        self.write({"event": "train_begin", "pid": os.getpid(), "run_info": info})

    def on_log(self, args, state, control, logs=None, **kwargs):  # type: ignore[no-untyped-def]
        record = dict(state.log_history[-1])
        self.records.append(record)
        self.write({"event": "log", "record": record})

    def on_train_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        self.write({"event": "train_end", "global_step": state.global_step})
