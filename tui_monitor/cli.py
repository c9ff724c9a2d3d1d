"""Command line: ``trainmon tail|report|serve|demo``; argument parsing, exit codes, one-line errors.

Exit codes: 0 ok, 1 usage or unreadable input (one line on stderr, no traceback),
130 on Ctrl-C, 143 on SIGTERM, 129 on SIGHUP or when the dashboard's terminal went away;
``report --check`` exits 0/1/2/3 by verdict (Nagios plugin convention).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tui_monitor import __version__

if TYPE_CHECKING:
    from tui_monitor.core.notify import Notifier

MAIN_EXAMPLES = """\
examples:
  trainmon tail logs/train.log                 # the dashboard, in a tmux pane beside the training
  trainmon report logs/train.log               # the verdict and the numbers of a whole log, once
  trainmon tail --json logs/train.log | jq -c 'select(.type == "status")'   # verdicts as JSON
"""
"""The end of ``trainmon --help``: commands to paste (README "Use" has the same ones)."""

TAIL_EXAMPLES = """\
examples:
  python train.py > logs/train.log 2>&1 &      # the training, its console in a file
  trainmon tail logs/train.log                 # the dashboard beside it (may start first)
  nohup trainmon tail --notify ntfy://my-topic logs/train.log > /dev/null 2>&1 &   # told on your phone
"""

REPORT_EXAMPLES = """\
examples:
  trainmon report logs/train.log               # the verdict with its reasons, then the numbers
  trainmon report --json out/checkpoint-500/trainer_state.json | jq -r .verdict.status
  trainmon report --check logs/train.log       # one line; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
"""

SERVE_EXAMPLES = """\
examples:
  trainmon serve logs/train.log                # http://127.0.0.1:8000, this machine only
  ssh -L 8000:127.0.0.1:8000 gpu-box           # then, on your laptop, open http://localhost:8000
  trainmon serve --host 0.0.0.0 --port 8080 logs/train.log   # any address (read the warning)
"""

DEMO_EXAMPLES = """\
examples:
  trainmon demo                                # a real run replayed at its real pace (q quits)
  trainmon demo --speed 4 --scenario exploding # gradients exploding into NaN, four times faster
  trainmon demo --json | jq -c 'select(.type == "status")'   # the same run as JSON lines
"""


def _ssh_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--ssh-command",
        metavar="CMD",
        default=None,
        help="ssh command for a user@host:/path log (default $TRAINMON_SSH_COMMAND, else ssh), e.g. 'ssh -p 2222'",
    )


class _VersionAction(argparse.Action):
    """``--version``: argparse's version action with the scan path (`accel.describe`) looked up
    when asked for, so that parsing arguments does not import the parser and numpy."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.update(nargs=0, default=argparse.SUPPRESS, help="show program's version number and exit")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from tui_monitor.core.parse import accel

        print(f"trainmon {__version__} (log scan: {accel.describe()})")  # stdout, as argparse's
        parser.exit()


_starting = False
"""`main` switched the cyclic garbage collector off for start-up (see `_started`)."""


def _started() -> None:
    """The command's modules are imported: the collector runs again, and what start-up made
    (modules, classes, functions: objects that live as long as the process) is moved out of
    its reach (`gc.freeze`), so no later full collection traverses it again. With `main`'s
    `gc.disable` while importing, this took ~60 M instructions (~7 %) off a ``report``
    start-up (callgrind; BENCHMARKS.md, wt-chunk). Only in a process that runs one command
    (`main` with ``argv`` from ``sys.argv``); idempotent."""
    global _starting
    if _starting:
        _starting = False
        gc.enable()
        gc.freeze()


def build_parser() -> argparse.ArgumentParser:
    """Return the ``trainmon`` argument parser (sub-commands ``tail``, ``report``, ``serve``, ``demo``)."""
    # RawDescriptionHelpFormatter keeps the examples' lines as written (argparse rewraps text).
    raw = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="trainmon",
        description="Monitor Hugging Face Trainer training logs: is this run healthy?",
        epilog=MAIN_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("--version", action=_VersionAction)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser(
        "report",
        help="read a whole log once and print what it found",
        description="Read a whole log once and print the verdict with its reasons, then the numbers.",
        epilog=REPORT_EXAMPLES,
        formatter_class=raw,
    )
    r.add_argument("path", help="training log, trainer_log.jsonl or trainer_state.json")
    r.add_argument("--json", action="store_true", help="print one strict JSON object")
    r.add_argument("--lang", choices=("en", "ru"), default="en", help="language of the verdict text")
    r.add_argument(
        "--check",
        action="store_true",
        help="print one line and exit 0 healthy, 1 warning, 2 critical, 3 unknown (Nagios plugin convention)",
    )
    r.add_argument(
        "--baseline",
        metavar="OTHER",
        help="compare the latest run with OTHER log's latest run (default: with the previous run of the same log)",
    )
    _ssh_option(r)

    t = sub.add_parser(
        "tail",
        help="follow logs live (the dashboard; headless when piped)",
        description="Follow training logs live: the dashboard, or one line per record when piped.",
        epilog=TAIL_EXAMPLES,
        formatter_class=raw,
    )
    t.add_argument("paths", nargs="+", metavar="PATH", help="log file(s); one tab per file")
    t.add_argument(
        "--poll",
        nargs="?",
        type=float,
        const=1.0,
        default=None,
        metavar="SECONDS",
        help="poll the file every SECONDS (default 1) instead of inotify; automatic on network filesystems",
    )
    t.add_argument("--from-end", action="store_true", help="start at the end of the file, skip its history")
    t.add_argument("--plain", action="store_true", help="no dashboard: one line per new record and event")
    t.add_argument("--json", action="store_true", help="no dashboard: one JSON object per line")
    t.add_argument("--lang", choices=("en", "ru"), default="en", help="language of glossary, verdict, status words")
    t.add_argument("--no-mouse", action="store_true", help="do not capture the mouse")
    t.add_argument("--no-bell", action="store_true", help="no terminal bell when the verdict turns critical")
    t.add_argument("--inline", action="store_true", help="draw below the prompt instead of full screen")
    _notify_arguments(t)
    t.add_argument(
        "--baseline",
        metavar="OTHER",
        help="draw OTHER log's latest run under the chart and compare with it (default: the previous run)",
    )
    _ssh_option(t)

    v = sub.add_parser(
        "serve",
        help="the dashboard in a web browser (needs trainmon[serve])",
        description="Serve the dashboard to web browsers through textual-serve (pip install 'trainmon[serve]').",
        epilog=SERVE_EXAMPLES,
        formatter_class=raw,
    )
    v.add_argument("paths", nargs="+", metavar="PATH", help="log file(s); one tab per file")
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    v.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    v.add_argument("--public-url", default=None, metavar="URL", help="the URL browsers use, behind a proxy")
    v.add_argument("--lang", choices=("en", "ru"), default="en", help="language of glossary, verdict, status words")
    v.add_argument("--poll", type=float, default=None, metavar="SECONDS", help="poll the file instead of inotify")
    _ssh_option(v)

    d = sub.add_parser(
        "demo",
        help="replay a bundled real Trainer log at its real pace and tail it",
        description="Replay a bundled real Trainer log at its real pace and follow it.",
        epilog=DEMO_EXAMPLES,
        formatter_class=raw,
    )
    d.add_argument("--speed", type=float, default=1.0, metavar="X", help="replay X times faster (default 1)")
    d.add_argument(
        "--scenario",
        choices=("healthy", "exploding"),
        default="healthy",
        help="healthy: a real transformers 5.x run; exploding: gradients blow up into NaN",
    )
    d.add_argument("--plain", action="store_true", help="no dashboard: one line per record")
    d.add_argument("--json", action="store_true", help="no dashboard: one JSON object per line")
    d.add_argument("--lang", choices=("en", "ru"), default="en")
    d.add_argument("--no-mouse", action="store_true")
    d.add_argument("--no-bell", action="store_true")
    d.add_argument("--inline", action="store_true")
    _notify_arguments(d)
    return p


def _notify_arguments(p: argparse.ArgumentParser) -> None:
    """``--notify URL`` and ``--notify-cmd CMD`` (both repeatable) of ``tail`` and ``demo``."""
    p.add_argument(
        "--notify",
        action="append",
        metavar="URL",
        help="send a message when the verdict changes or the run ends (an Apprise URL: ntfy://, slack://, "
        "json://host:port ...; needs pip install 'trainmon[notify]')",
    )
    p.add_argument(
        "--notify-cmd",
        action="append",
        metavar="CMD",
        help="run CMD for each message, the event as JSON on its stdin (TRAINMON_STATUS, TRAINMON_FILE set)",
    )


def _notifier(args: argparse.Namespace) -> tuple[Notifier | None, int]:
    """The notifier of ``--notify``/``--notify-cmd`` (or None), and 0; or None and 1 after a one-line error."""
    if not args.notify and not args.notify_cmd:
        return None, 0
    from tui_monitor.core.notify import NotifyError, make_notifier

    try:
        return make_notifier(args.notify, args.notify_cmd, args.lang), 0
    except NotifyError as e:
        print(f"trainmon: {e}", file=sys.stderr)
        return None, 1


def _cmd_tail(args: argparse.Namespace) -> int:
    for path in args.paths:
        if os.path.isdir(path):
            print(f"trainmon: {path}: is a directory, not a log file", file=sys.stderr)
            return 1
        if os.path.exists(path) and not os.access(path, os.R_OK):
            print(f"trainmon: {path}: cannot read (permission denied)", file=sys.stderr)
            return 1
    if args.poll is not None and args.poll <= 0:
        print("trainmon: --poll needs a positive number of seconds", file=sys.stderr)
        return 1
    baseline = None
    if args.baseline is not None:
        from tui_monitor.core.pipeline import InputError, read_baseline

        try:
            baseline = read_baseline(args.baseline)
        except InputError as e:
            print(f"trainmon: {e}", file=sys.stderr)
            return 1
    notifier, bad = _notifier(args)
    if bad:
        return bad
    # Under a Textual driver chosen from outside (textual-serve's web driver for `trainmon
    # serve`), stdout is that driver's pipe, not a reader's: draw the app.
    driven = bool(os.environ.get("TEXTUAL_DRIVER"))
    if args.plain or args.json or (not sys.stdout.isatty() and not driven):
        from tui_monitor.core.headless import run_headless

        _started()
        return run_headless(
            args.paths,
            as_json=args.json,
            poll=args.poll,
            from_end=args.from_end,
            lang=args.lang,
            notifier=notifier,
            baseline=baseline,
        )
    from tui_monitor.ui.app import run_app

    _started()
    return run_app(
        args.paths,
        lang=args.lang,
        mouse=not args.no_mouse,
        bell=not args.no_bell,
        poll=args.poll,
        from_end=args.from_end,
        inline=args.inline,
        notifier=notifier,
        baseline=baseline,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.speed <= 0:
        print("trainmon: --speed needs a positive factor", file=sys.stderr)
        return 1
    notifier, bad = _notifier(args)
    if bad:
        return bad
    if args.plain or args.json or not sys.stdout.isatty():
        import shutil
        import threading

        from tui_monitor.core.demo import start_demo
        from tui_monitor.core.headless import run_headless

        path, writer = start_demo(args.scenario, speed=args.speed)
        stop = threading.Event()

        def end_when_written() -> None:
            writer.finished.wait()
            # let the follower read the last bytes before stopping
            stop.wait(1.5)
            stop.set()

        threading.Thread(target=end_when_written, daemon=True).start()
        try:
            return run_headless(
                [str(path)],
                as_json=args.json,
                poll=None,
                from_end=False,
                stop_event=stop,
                lang=args.lang,
                notifier=notifier,
            )
        finally:
            writer.stop()
            shutil.rmtree(path.parent, ignore_errors=True)
    from tui_monitor.ui.app import run_demo

    return run_demo(
        args.scenario,
        speed=args.speed,
        lang=args.lang,
        mouse=not args.no_mouse,
        bell=not args.no_bell,
        inline=args.inline,
        notifier=notifier,
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from tui_monitor.serve import ServeExtraMissing, is_loopback, run_serve

    for path in args.paths:
        if os.path.isdir(path):
            print(f"trainmon: {path}: is a directory, not a log file", file=sys.stderr)
            return 1
    if not 0 < args.port < 65536:
        print("trainmon: --port needs a number from 1 to 65535", file=sys.stderr)
        return 1
    if not is_loopback(args.host):
        print(
            f"trainmon: warning: serving on {args.host}:{args.port}: anyone who can reach this port can read the log",
            file=sys.stderr,
        )
    try:
        return run_serve(
            args.paths, host=args.host, port=args.port, public_url=args.public_url, lang=args.lang, poll=args.poll
        )
    except ServeExtraMissing as e:
        print(f"trainmon: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"trainmon: cannot serve on {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1


def _cmd_report(args: argparse.Namespace) -> int:
    from tui_monitor.core.check import check_line, check_unknown
    from tui_monitor.core.pipeline import InputError, read_baseline, read_once
    from tui_monitor.core.report import dumps, report_dict, report_text
    from tui_monitor.core.text import reason_text

    _started()
    try:
        baseline = read_baseline(args.baseline) if args.baseline is not None else None
        # The writer is looked for around the read: a run whose process exited without a
        # summary ended without finishing; none visible: the file's age decides.
        pipe = read_once(args.path, writers=True)
        pipe.baseline = baseline
    except InputError as e:
        if args.check:
            code, line = check_unknown(str(e))
            print(line)
            return code
        print(f"trainmon: {e}", file=sys.stderr)
        return 1
    if args.check:
        health = pipe.health()
        if health.status == "no_data":
            code, line = check_unknown(reason_text(health.reasons[0], args.lang))
        else:
            last = {k: m.last for k, m in pipe.run.snapshot().metrics.items() if m.last is not None}
            code, line = check_line(health, last, args.lang)
        print(line)
        return code
    if args.json:
        print(dumps(report_dict(pipe, args.lang)))
    else:
        print(report_text(pipe, args.path, args.lang))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``trainmon`` console script. Returns the process exit status."""
    global _starting
    if argv is None and gc.isenabled():
        # The process's own command line (the console script, ``python -m tui_monitor``): no
        # collection while the command's modules are imported (see `_started`).
        gc.disable()
        _starting = True
    if argv is None and "numpy" not in sys.modules:
        # Before numpy is imported: its OpenBLAS starts a thread per core that spins after
        # start-up (~10 M instructions, and a second core taken from the reading) for
        # products of a few thousand points at most (the analysis), where one thread is as fast.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        return _main(argv)
    finally:
        _started()


def _main(argv: list[str] | None) -> int:
    from tui_monitor.core.text.charset import prepare_stream

    # Any locale: what the output encoding cannot show gets a plain fallback, never a
    # UnicodeEncodeError (see core.text.charset). stderr is where Textual draws the dashboard,
    # so its fallbacks keep each glyph's width in cells.
    prepare_stream(sys.stdout, "text")
    prepare_stream(sys.stderr, "cells")
    args = build_parser().parse_args(argv)
    if getattr(args, "json", False):
        prepare_stream(sys.stdout, "json")
    if getattr(args, "ssh_command", None):
        from tui_monitor.core.follow.remote import SSH_COMMAND_ENV

        # Through the environment, as git's GIT_SSH_COMMAND: the app, its monitors and the
        # processes `trainmon serve` starts all see it.
        os.environ[SSH_COMMAND_ENV] = args.ssh_command
    if args.command not in ("report", "tail"):
        # `report` and `tail` say when their modules are imported (`_started`); `demo` and
        # `serve` run for as long as the user keeps them: the collector is on from the start.
        _started()
    try:
        if args.command == "report":
            return _cmd_report(args)
        if args.command == "tail":
            return _cmd_tail(args)
        if args.command == "demo":
            return _cmd_demo(args)
        if args.command == "serve":
            return _cmd_serve(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        from tui_monitor.core.headless import OutputBlocked

        if not isinstance(e, OutputBlocked):
            raise
        # A signal came while stdout was blocked on a reader that does not read: end now,
        # dropping what was not written (Python's own exit would wait for that reader).
        sys.stderr.flush()
        os._exit(e.code)
    return 1
