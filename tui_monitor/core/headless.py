"""Headless ``trainmon tail --plain/--json``: the same pipeline, one line per record or event.

Used when stdout is not a terminal, or on request. Every line is flushed at once so a
pipe (``trainmon tail --json log | jq``) sees records as they arrive.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from tui_monitor.core.analysis import Baseline
from tui_monitor.core.changes import ChangeDetector
from tui_monitor.core.monitor import Monitor
from tui_monitor.core.notify import Notifier
from tui_monitor.core.parse import Batch, Event, ParsedItem, Record, Rewind, RunStart, clean_line
from tui_monitor.core.report import jsonable
from tui_monitor.core.text import fmt_num, inert, label, reason_text, verdict_word, word
from tui_monitor.core.text.actions import action_text

_FILE_EVENTS = frozenset({"truncated", "rotated", "deleted", "recreated"})
"""Event kinds that come from the tailer; headless output prints them as resets."""

_REPLACED = ("directory", "not_regular")
"""Tailer states of a path replaced by something that is not a log file (waited out)."""

_SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}
"""Exit status per signal: 128 + signal number, as a shell reports it."""

EXIT_GRACE_S = 0.5
"""Seconds the reading threads get to end after an exit signal; one still writing then is
blocked on a reader that does not read, and the process is ended without it."""


class _Signalled(BaseException):
    """Raised by the signal handler in the main thread, out of whatever it waits on (a
    monitor's lock held by a thread blocked writing into a full pipe, a write of its own)."""


class OutputBlocked(Exception):
    """An exit signal came while a write to stdout was blocked on a reader that does not read.

    The caller must end the process with ``os._exit(code)``: Python's own exit would flush
    stdout and wait for that reader (or for the blocked thread holding stdout's buffer).
    What could not be written is dropped.

    Attributes:
        code: the exit status (128 + the signal's number).
    """

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def record_json(rec: Record, run: int = 1) -> dict[str, Any]:
    """The ``{"type": "record", ...}`` object of a record of run ``run`` (1-based; non-finite
    values as strings)."""
    obj: dict[str, Any] = jsonable(
        {
            "type": "record",
            "run": run,
            "kind": rec.kind,
            "step": rec.step,
            "epoch": rec.epoch,
            "rank": rec.rank,
            "metrics": rec.metrics,
            "offset": rec.offset,
        }
    )
    return obj


def _num(v: float) -> str:
    """A float as `json.dumps` writes it, non-finite values as the strings of `jsonable`."""
    if v != v:
        return '"nan"'
    if v in (math.inf, -math.inf):
        return '"inf"' if v > 0 else '"-inf"'
    return repr(v)


def record_line(rec: Record) -> str:
    """One short plain line for a record: ``train  step 50  epoch 0.39  loss 5.604  ...``."""
    parts = [f"{rec.kind:<7}"]
    if rec.rank is not None:
        parts.append(f"rank {rec.rank}")
    if rec.step is not None:
        parts.append(f"step {rec.step}")
    if rec.epoch is not None:
        parts.append(f"epoch {fmt_num(rec.epoch)}")
    for k, v in rec.metrics.items():
        parts.append(f"{clean_line(k.encode(), 60)} {fmt_num(v)}")
    return "  ".join(parts)


class HeadlessPrinter:
    """Prints items from one or more monitors, one line each, flushed at once.

    Args:
        out: the text stream (stdout).
        as_json: JSON objects instead of plain lines.
        label: prefix for lines (the file name when several files are followed), or ``None``.
        lang: ``"en"`` or ``"ru"``: the words of plain lines (JSON keys and codes stay English).
    """

    def __init__(self, out: IO[str], *, as_json: bool, label: str | None = None, lang: str = "en") -> None:
        self.out = out
        self.as_json = as_json
        self.label = label
        self.lang = lang
        self.lock = threading.Lock()
        self._keys: dict[str, str] = {}
        self._head: dict[str, str] = {}
        self.broken = False
        """True once stdout's reader has gone (`| head -1`): the run then ends."""
        self.closing = False
        """Set by an exit signal: nothing more is written (what was not written is dropped)."""
        self.run = 1
        """The run the next records belong to (1-based; a `RunStart` item moves it on)."""

    def _line(self, obj: dict[str, Any], text: str) -> str:
        if self.as_json:
            if self.label is not None:
                obj = {"file": self.label, **obj}
            return json.dumps(obj, allow_nan=False, ensure_ascii=False)
        # Plain lines are for a terminal: log text in them is made inert (see core.text.inert).
        return inert(text if self.label is None else f"{self.label}: {text}")

    def _write(self, lines: list[str]) -> None:
        """Write lines and flush once (a catch-up batch is one write, not one per record)."""
        if not lines or self.closing:
            return
        with self.lock:
            if self.closing:
                return
            try:
                self.out.write("\n".join(lines) + "\n")
                self.out.flush()
            except BrokenPipeError:
                self.broken = True  # the reader is gone: stop, as tail -f does on SIGPIPE

    def _emit(self, obj: dict[str, Any], text: str) -> None:
        self._write([self._line(obj, text)])

    def items(self, items: list[ParsedItem]) -> None:
        """Print records, crash events and rewinds (progress updates are not printed)."""
        lines: list[str] = []
        for it in items:
            if isinstance(it, Batch):
                if self.as_json:
                    lines.extend(self._batch_json(it))
                else:
                    lines.extend(self._plain(r) for r in it.records())
            elif isinstance(it, Record):
                lines.append(self._record_json(it) if self.as_json else self._plain(it))
            elif isinstance(it, Event):
                if it.kind in _FILE_EVENTS:
                    continue  # printed once by `reset`, as {"type": "reset"}
                lines.append(self._line({"type": "event", "kind": it.kind, "line": it.line}, f"! {it.kind}: {it.line}"))
            elif isinstance(it, RunStart):
                self.run += 1
                self._head.clear()
                lines.append(
                    self._line(
                        {"type": "run", "run": self.run, "reason": it.reason},
                        "-- "
                        + label("run_starts", self.lang).format(
                            n=self.run, reason=label(f"run_reason_{it.reason}", self.lang)
                        ),
                    )
                )
            elif isinstance(it, Rewind):
                lines.append(
                    self._line(
                        jsonable({"type": "rewind", "epoch": it.epoch, "step": it.step, "rank": it.rank}),
                        "-- " + label("rewind_epoch", self.lang).format(epoch=fmt_num(it.epoch))
                        if it.step is None
                        else "-- " + label("rewind_step", self.lang).format(step=it.step),
                    )
                )
        self._write(lines)

    def _key(self, name: str) -> str:
        """``"name": `` as json.dumps writes it (cached: a log has few distinct keys)."""
        k = self._keys.get(name)
        if k is None:
            k = self._keys[name] = json.dumps(name, ensure_ascii=False) + ": "
        return k

    def _record_json(self, rec: Record) -> str:
        """`record_json` as text, formatted directly (text-identical to ``json.dumps``)."""
        head = self._head.get(rec.kind)
        if head is None:
            head = '{"type": "record", "run": ' + str(self.run) + ', "kind": ' + json.dumps(rec.kind) + ', "step": '
            if self.label is not None:
                head = '{"file": ' + json.dumps(self.label, ensure_ascii=False) + ", " + head[1:]
            self._head[rec.kind] = head
        key = self._key
        metrics = ", ".join(key(k) + _num(v) for k, v in rec.metrics.items())
        step = "null" if rec.step is None else str(rec.step)
        epoch = "null" if rec.epoch is None else _num(rec.epoch)
        rank = "null" if rec.rank is None else json.dumps(rec.rank, ensure_ascii=False)
        return f'{head}{step}, "epoch": {epoch}, "rank": {rank}, "metrics": {{{metrics}}}, "offset": {rec.offset}}}'

    def _batch_json(self, b: Batch) -> list[str]:
        """The JSON lines of a columnar batch, text-identical to `record_json` per row
        (``json.dumps`` layout, ``repr`` of floats, non-finite values as strings) without
        building a `Record` and a dict per row."""
        keys = [self._key(n) for n in b.names]
        n = len(b)
        steps = b.steps.tolist()
        steps_txt = [str(s) for s in steps] + ["null"] * (n - len(steps))
        epochs = [_num(e) for e in b.epoch.tolist()] if b.epoch is not None else ["null"] * n
        rows = b.values.tolist()
        offsets = b.offsets.tolist()
        if b.shapes is None:
            self._record_json(b.record(0))  # caches the line head for this kind
            heads = [self._head[b.kind]]
            cols = [list(range(len(keys)))]
            shapes = [0] * n
        else:
            heads = []
            for kind in b.shape_kinds:
                if kind not in self._head:
                    self._record_json(Record(kind, {}))  # caches the line head for this kind
                heads.append(self._head[kind])
            cols = b.shape_cols
            shapes = b.shapes.tolist()
        out = []
        for row, p, st, ep, off in zip(rows, shapes, steps_txt, epochs, offsets):
            metrics = ", ".join(keys[c] + _num(row[c]) for c in cols[p])
            out.append(f'{heads[p]}{st}, "epoch": {ep}, "rank": null, "metrics": {{{metrics}}}, "offset": {off}}}')
        return out

    def _plain(self, rec: Record) -> str:
        text = record_line(rec)
        return inert(text if self.label is None else f"{self.label}: {text}")

    def reset(self, reason: str) -> None:
        """Print a file reset (truncated / rotated / deleted / recreated)."""
        self._emit({"type": "reset", "reason": reason}, label("line_reset", self.lang).format(reason=reason))

    def status(self, **fields: Any) -> None:
        """Print a status object/line (file state, wake-up mode, verdict, a notifier's failure).

        A verdict line with an ``action`` (what to try) gets it on a second plain line
        (``   → set `max_grad_norm=1.0` ...``); in JSON it is the ``action`` key (null when none).
        A verdict said because the run reached an end has ``state`` (``stalled``, ``finished``...)
        and, when that is not the top reason itself, ``state_reason``: said after the reason."""
        lines = []
        if "verdict" in fields:
            reason = fields.get("reason") or ""
            if fields.get("state_reason"):
                reason = f"{reason} · {fields['state_reason']}"  # the run's state beside the top reason
            text = label("line_verdict", self.lang).format(
                verdict=verdict_word(fields["verdict"], self.lang), reason=reason
            )
            text = text.rstrip(": ")
            if fields.get("action"):
                lines.append(clean_line(f"   → {fields['action']}".encode(), 300))
        elif fields.get("notify") == "failed":
            text = label("line_notify_failed", self.lang).format(error=fields.get("error") or "")
        elif fields.get("reason"):
            text = f"-- {fields['reason']}"
        else:
            text = "-- " + "  ".join(f"{k} {v}" for k, v in fields.items() if v is not None)
        obj = jsonable({"type": "status", **fields})
        if self.as_json:
            self._write([self._line(obj, "")])
        else:
            self._write([self._line(obj, line) for line in (clean_line(text.encode(), 300), *lines)])


RECHECK_EVERY = 5.0
"""Seconds between verdict checks of the headless mode when nothing new was read (a stall)."""

VERDICT_EVERY = 1.0
"""Seconds between verdict checks of the headless mode (each runs the detectors)."""

NEW_DATA_EVERY = 0.05
"""Least seconds between two verdict checks made on new data (at up to 20 batches a second
every record's verdict is said on that record; faster logs are judged 20 times a second)."""


def _say_verdict(
    i: int,
    mon: Monitor,
    printer: HeadlessPrinter,
    last: dict[int, tuple[int, float]],
    detectors: dict[int, ChangeDetector],
    lang: str,
    notifier: Notifier | None = None,
    *,
    new_data: bool = False,
) -> None:
    """Print the verdict of monitor ``i`` when it changed since the last one printed, or when the
    run reached an end state (stalled, finished, crashed, ended without finishing); hand the
    same changes to ``notifier`` (which only queues them: it sends from its own thread) and print
    its failures.

    ``new_data``: called from the monitor's thread right after a batch was printed, so that a
    verdict that changes is said after the record that changed it, before the next one (issue
    12: an alarm sounds on the record that shows it). Judgements are at most every
    :data:`NEW_DATA_EVERY` seconds on that path (a judgement costs ~2 ms); the main loop catches
    what a skipped judgement would have said within :data:`VERDICT_EVERY`.
    """
    version, at = last.get(i, (-1, 0.0))
    now = time.monotonic()
    if new_data:
        # While the history is read (catch-up), once at its end is enough: judging each
        # 1 MiB chunk of a long log would slow the read for verdicts nobody sees.
        if now - at < NEW_DATA_EVERY or mon.live_state == "reading":
            return
    # Time alone changes a verdict too (a run that went silent is stalled): re-judged every
    # RECHECK_EVERY seconds even without new data.
    elif now - at < VERDICT_EVERY or (mon.version == version and now - at < RECHECK_EVERY):
        return
    snap = mon.snapshot()
    last[i] = (snap.version, now)
    changes = detectors.setdefault(i, ChangeDetector()).update(snap)
    for c in changes:
        if c.kind != "new_run" and c.reason is not None:
            r = c.reason
            fields: dict[str, Any] = {}
            if c.end is not None:
                # The run's state is said beside the top reason, never instead of it.
                fields["state"] = c.state
                if c.end is not r:
                    fields["state_reason"] = reason_text(c.end, lang)
            printer.status(
                verdict=c.status,
                reason=reason_text(r, lang),
                code=r.code,
                step=r.step,
                action=action_text(r, lang),
                **fields,
            )
    if notifier is not None:
        notifier.observe(i, changes, snap, now)
        for failure in notifier.take_failures():
            printer.status(notify="failed", error=failure)


def run_headless(
    paths: list[str],
    *,
    as_json: bool,
    poll: float | None,
    from_end: bool,
    out: IO[str] | None = None,
    stop_event: threading.Event | None = None,
    lang: str = "en",
    notifier: Notifier | None = None,
    baseline: Baseline | None = None,
    clock: Callable[[], float] = time.time,
) -> int:
    """Follow ``paths`` and print until interrupted; returns the exit status.

    ``clock`` is the monitors' wall clock (seconds since the epoch): what a run's silence is
    measured against (a test moves it on instead of waiting minutes for a stall).

    Besides records and events, a status line is printed when a file's state changes
    (``waiting``, ``following`` once what the file held at start is read, ``deleted``,
    ``unreadable``) and when its verdict changes (checked at most every :data:`VERDICT_EVERY` seconds,
    only after new data): ``-- verdict CRITICAL: <the most severe reason>``. ``notifier`` is told
    the same changes (``--notify``/``--notify-cmd``); a failing notifier is said once as a status
    line (``-- notify failed: ...``) and never stops the following. It is closed on return.

    ``baseline`` (``--baseline``): another log's latest run each file's latest run is compared
    with (the verdict's ``loss_compare`` reason); else each run is compared with the previous one.

    SIGINT gives 130, SIGTERM 143, SIGHUP 129 (128 + signal number) within a second, even
    when stdout goes into a full pipe nobody reads: what could not be written is dropped. A
    path that is a directory or unreadable gives a one-line message on stderr and 1.

    Raises:
        OutputBlocked: a signal came while a write was blocked on the reader; end the
            process with ``os._exit(e.code)``.
    """
    out = out or sys.stdout
    stop = stop_event or threading.Event()
    got: list[int] = []
    armed = [False]
    monitors: list[tuple[Monitor, HeadlessPrinter]] = []

    def on_signal(signum: int, _frame: object) -> None:
        # No stop.set() here: the handler runs in this thread, possibly inside stop.wait()
        # while it holds the event's lock, and would deadlock on it. The loop checks `got`;
        # while it runs, the handler also raises, out of any wait on a blocked writer.
        got.append(signum)
        for _, p in monitors:
            p.closing = True
        if armed[0]:
            armed[0] = False
            raise _Signalled

    if threading.current_thread() is threading.main_thread():
        for sig in _SIGNAL_EXIT:
            signal.signal(sig, on_signal)
    last_verdict: dict[int, tuple[int, float]] = {}  # (version, checked at)
    detectors: dict[int, ChangeDetector] = {}
    # The monitor threads judge after each batch they print (holding their monitor's lock, an
    # RLock), the main loop when time passes: taking that same lock keeps the two from saying
    # one change twice, with one lock order (no deadlock).

    def judge(i: int, *, new_data: bool) -> None:
        with monitors[i][0].lock:
            _say_verdict(i, monitors[i][0], monitors[i][1], last_verdict, detectors, lang, notifier, new_data=new_data)

    for i, path in enumerate(paths):
        printer = HeadlessPrinter(out, as_json=as_json, label=path if len(paths) > 1 else None, lang=lang)

        def on_items(items: list[ParsedItem], i: int = i, printer: HeadlessPrinter = printer) -> None:
            printer.items(items)
            judge(i, new_data=True)

        mon = Monitor(
            path,
            poll=poll,
            from_end=from_end,
            on_items=on_items,
            on_reset=printer.reset,
            batches=True,
            baseline=baseline,
            clock=clock,
        )
        monitors.append((mon, printer))
    threads = [threading.Thread(target=m.run, args=(stop,), daemon=True, name=f"tail:{m.path}") for m, _ in monitors]
    for t in threads:
        t.start()
    last_state: dict[int, tuple[str | None, str, str | None, bool]] = {}
    try:
        # Armed inside the try: a signal between arming and disarming raises where it is caught.
        armed[0] = True
        status = _follow(monitors, threads, stop, got, last_state, judge, lang)
        armed[0] = False
    except _Signalled:
        status = 0
    stop.set()
    if got:
        code = _SIGNAL_EXIT.get(signal.Signals(got[0]), 1)
        for _, p in monitors:
            p.closing = True
        end = time.monotonic() + EXIT_GRACE_S
        for t in threads:
            t.join(timeout=max(0.0, end - time.monotonic()))
        if notifier is not None:
            # A signal ends the run within a second: what is queued gets what is left of it.
            notifier.close(max(0.0, end - time.monotonic()))
        # From here stdout goes nowhere: Python's flush at exit cannot wait for a reader.
        _drop_output(out)
        if any(t.is_alive() for t in threads):
            raise OutputBlocked(code)  # a thread is still blocked in write(2) on the old pipe
        return code
    for t in threads:
        t.join(timeout=2.0)
    if notifier is not None:
        # What is queued still goes out (a crash said just before the end), within a bound.
        notifier.close()
        for failure in notifier.take_failures():
            monitors[0][1].status(notify="failed", error=failure)
    if any(p.broken for _, p in monitors):
        # No "Exception ignored ... BrokenPipeError" when Python flushes stdout at exit.
        _drop_output(out)
    return status


def _drop_output(out: IO[str]) -> None:
    """Point ``out``'s file descriptor at /dev/null (nothing when it has none)."""
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


def _follow(
    monitors: list[tuple[Monitor, HeadlessPrinter]],
    threads: list[threading.Thread],
    stop: threading.Event,
    got: list[int],
    last_state: dict[int, tuple[str | None, str, str | None, bool]],
    judge: Callable[..., None],
    lang: str,
) -> int:
    """The main loop of :func:`run_headless`: print each file's state changes and judge it in
    time, until stopped, a signal, an error (returns 1), a gone reader or the threads' end."""
    status = 0
    while not stop.is_set() and not got:
        for i, (mon, printer) in enumerate(monitors):
            state = (mon.mode, mon.live_state, mon.error, mon.dir_missing)
            # "reading" (what the file held at start) is not printed: this loop samples the
            # state, so whether a short read showed would depend on timing; "following" then
            # says that the history has been read.
            if state != last_state.get(i) and (state[1] != "reading" or mon.error):
                last_state[i] = state
                if mon.error:
                    print(f"trainmon: {mon.error}", file=sys.stderr)
                    status = 1
                elif mon.mode is not None:
                    if mon.dir_missing:
                        printer.status(state=state[1], mode=mon.mode, directory="missing")
                    elif state[1] in _REPLACED:
                        # The path names a directory now: say so in words, and that we wait.
                        said = f"{mon.path} {word(state[1], lang)}"
                        printer.status(state=state[1], mode=mon.mode, reason=said)
                    elif state[1] == "following" and mon.history_skipped:
                        # --from-end: say that the history was skipped, or nothing explains the quiet.
                        printer.status(state=state[1], mode=mon.mode, history="skipped")
                    else:
                        printer.status(state=state[1], mode=mon.mode)
            mon.check_liveness()
            judge(i, new_data=False)
        if status or any(p.broken for _, p in monitors):
            break
        if not any(t.is_alive() for t in threads):
            break
        stop.wait(0.1)
    return status
