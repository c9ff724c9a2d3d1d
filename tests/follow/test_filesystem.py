"""Hardening: filesystem cases through the headless `trainmon tail --json` (a subprocess).

Symlinks (and re-pointing them), paths with spaces and non-ASCII letters, read-only
directories, permission lost mid-run. As root permission bits do not stop reads, so the
permission cases run trainmon as uid/gid 65534 (``nobody``) in a forked child, in a
directory made for it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import TailProcess, wait_for

pytestmark = pytest.mark.slow  # trainmon tail in a subprocess or a forked child


def _drop_to_nobody() -> None:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


class NobodyProc:
    """``trainmon ARGV`` run as uid 65534 in a forked child (the interpreter lives under a
    0700 /root, so ``nobody`` cannot exec it: the child keeps the parent's loaded modules and
    calls `tui_monitor.cli.main`). Mimics the bits of `subprocess.Popen` the tests use."""

    def __init__(self, argv: list[str]) -> None:
        import watchfiles  # noqa: F401

        import tui_monitor.cli  # noqa: F401 - everything the child needs, loaded while root
        import tui_monitor.core.follow  # noqa: F401
        import tui_monitor.core.headless  # noqa: F401
        import tui_monitor.core.report  # noqa: F401

        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            code = 1
            try:
                os.dup2(out_w, 1)
                os.dup2(err_w, 2)
                for fd in (out_r, out_w, err_r, err_w):
                    os.close(fd)
                sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
                _drop_to_nobody()
                from tui_monitor.cli import main

                code = main(argv)
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException as e:  # noqa: BLE001 - report, then always _exit
                os.write(2, f"child raised {e!r}\n".encode())
            finally:
                os._exit(code)
        os.close(out_w)
        os.close(err_w)
        self.pid = pid
        self.stdout = open(out_r, encoding="utf-8")  # noqa: SIM115
        self.stderr = open(err_r, encoding="utf-8")  # noqa: SIM115
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int:
        try:
            wait_for(lambda: self.poll() is not None, "the child's exit", timeout)
        except AssertionError:
            os.kill(self.pid, signal.SIGKILL)
            raise
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        os.kill(self.pid, sig)


def run_as_nobody(argv: list[str], timeout: float = 30) -> tuple[int, str, str]:
    """Run ``trainmon ARGV`` to its end as nobody: (exit status, stdout, stderr)."""
    p = NobodyProc(argv)
    out, err = p.stdout.read(), p.stderr.read()
    return p.wait(timeout), out, err


def tail_json(*args: str, nobody: bool = False, cwd: Path | None = None) -> TailProcess:
    """`trainmon tail --json ARGS` in a subprocess, or as nobody in a forked child."""
    proc = NobodyProc(["tail", "--json", *args]) if nobody and os.geteuid() == 0 else None
    return TailProcess("--json", *args, decode=json.loads, cwd=cwd, proc=proc)


def losses(objs: list[dict]) -> list[float]:
    return [o["metrics"]["loss"] for o in objs if o["type"] == "record"]


def has_loss(v: float) -> Callable[[list[dict]], bool]:
    return lambda objs: v in losses(objs)


def states(objs: list[dict]) -> list[str]:
    # a status object is either a file state or a verdict (which has no "state"; it comes every second)
    return [o["state"] for o in objs if o["type"] == "status" and "state" in o]


def append(path: Path, loss: float, epoch: float) -> None:
    with open(path, "ab") as f:
        f.write(f"{{'loss': {loss}, 'learning_rate': 0.0001, 'epoch': {epoch}}}\n".encode())


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory `nobody` can enter (pytest's tmp_path is 0700 root)."""
    d = Path(tempfile.mkdtemp(prefix="trainmon-fs-", dir="/tmp"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        for p in [d, *d.rglob("*")]:
            try:
                p.chmod(0o777 if p.is_dir() else 0o666)
            except OSError:
                pass
        shutil.rmtree(d, ignore_errors=True)


def needs_root_to_drop() -> None:
    if os.geteuid() != 0:
        pytest.skip("drops to uid 65534: needs root (as a normal user the permission bits already apply)")


def test_symlink_followed_and_repointed(tmp_path: Path) -> None:
    # GIVEN a symlink to a log in another directory
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "links").mkdir()
    first, second, link = tmp_path / "a" / "train.log", tmp_path / "b" / "train.log", tmp_path / "links" / "cur.log"
    append(first, 1.5, 0.1)
    link.symlink_to(Path("..") / "a" / "train.log")
    tail = tail_json(str(link))
    try:
        tail.wait_for(has_loss(1.5), "record through the symlink")
        # WHEN the target grows, THEN the record arrives
        append(first, 1.25, 0.2)
        tail.wait_for(has_loss(1.25), "record appended to the target")
        # WHEN the symlink is re-pointed to another file (ln -sfn)
        append(second, 9.5, 0.05)
        tmp = tmp_path / "links" / "tmp.lnk"
        tmp.symlink_to(Path("..") / "b" / "train.log")
        os.replace(tmp, link)
        objs = tail.wait_for(has_loss(9.5), "record of the new target")
        append(second, 9.25, 0.06)
        objs = tail.wait_for(has_loss(9.25), "record appended to the new target")
    finally:
        rc, err = tail.stop()
    # THEN the switch is said (rotated), each record once, clean exit
    assert [o["reason"] for o in objs if o["type"] == "reset"] == ["rotated"]
    assert losses(objs) == [1.5, 1.25, 9.5, 9.25]
    assert rc == 130 and "Traceback" not in err


def test_path_with_spaces_and_non_ascii(tmp_path: Path) -> None:
    d = tmp_path / "мой запуск ✓" / "run 1 (copy)"
    d.mkdir(parents=True)
    log = d / "журнал обучения — 日本 .log"
    append(log, 2.5, 0.1)
    out = subprocess.run(
        [sys.executable, "-m", "tui_monitor", "report", "--json", str(log)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and json.loads(out.stdout)["records"]["train"] == 1
    text = subprocess.run(
        [sys.executable, "-m", "tui_monitor", "report", str(log)], capture_output=True, text=True, timeout=60
    )
    assert text.returncode == 0 and str(log) in text.stdout
    tail = tail_json(log.name, cwd=d)
    try:
        tail.wait_for(has_loss(2.5), "first record")
        append(log, 2.25, 0.2)
        tail.wait_for(has_loss(2.25), "appended record")
    finally:
        rc, err = tail.stop(signal.SIGTERM)
    assert rc == 143 and err == ""


def test_read_only_directory_and_file_as_nobody(shared_dir: Path) -> None:
    needs_root_to_drop()
    # GIVEN a log 0444 in a directory 0555 (nobody may write either)
    d = shared_dir / "ro"
    d.mkdir()
    log = d / "train.log"
    append(log, 1.5, 0.1)
    log.chmod(0o444)
    d.chmod(0o555)
    before = sorted(os.listdir(d)), log.stat().st_mtime_ns
    # WHEN report and tail run as nobody
    rc, out, err = run_as_nobody(["report", "--json", str(log)])
    assert rc == 0, err
    assert json.loads(out)["records"]["train"] == 1
    tail = tail_json(str(log), nobody=True)
    try:
        tail.wait_for(has_loss(1.5), "record")
        d.chmod(0o755)
        log.chmod(0o644)
        append(log, 1.25, 0.2)  # root (the trainer) still writes
        log.chmod(0o444)
        d.chmod(0o555)
        tail.wait_for(has_loss(1.25), "appended record")
    finally:
        rc, err = tail.stop()
    # THEN all is read, nothing was written beside the log, clean exit
    assert rc == 130 and err == ""
    assert sorted(os.listdir(d)) == before[0]


def test_unreadable_log_is_one_line_exit_1_as_nobody(shared_dir: Path) -> None:
    needs_root_to_drop()
    log = shared_dir / "secret.log"
    append(log, 1.5, 0.1)
    log.chmod(0o600)
    for cmd in (["report", "--json"], ["tail", "--json"]):
        rc, out, err = run_as_nobody([*cmd, str(log)])
        assert rc == 1
        assert err.startswith("trainmon: ") and err.count("\n") == 1, err


def test_permission_lost_mid_run_as_nobody(shared_dir: Path) -> None:
    needs_root_to_drop()
    # GIVEN trainmon (as nobody) following a readable log
    d = shared_dir / "logs"
    d.mkdir()
    d.chmod(0o777)
    log = d / "train.log"
    append(log, 1.5, 0.1)
    log.chmod(0o644)
    tail = tail_json(str(log), nobody=True)
    try:
        tail.wait_for(lambda o: has_loss(1.5)(o) and "following" in states(o), "first record, following")
        # WHEN the open file's mode becomes 000: the open handle still reads it
        log.chmod(0)
        append(log, 1.25, 0.2)
        tail.wait_for(has_loss(1.25), "record after chmod 000 of the open file")
        # WHEN the log is rotated and the new file is not readable by trainmon
        os.rename(log, d / "train.log.1")
        # (Created 0600 at once: a new file readable for a moment could be opened in that
        # moment, whatever the timing of trainmon's polls, and "unreadable" never said.)
        os.close(os.open(log, os.O_WRONLY | os.O_CREAT, 0o600))
        append(log, 1.0, 0.3)
        tail.wait_for(lambda o: "unreadable" in states(o), "an 'unreadable' status")
        # WHEN it becomes readable again
        log.chmod(0o644)
        objs = tail.wait_for(has_loss(1.0), "record of the new file")
        tail.wait_for(lambda o: states(o)[-1:] == ["following"], "'following' again")
        # WHEN the directory becomes unsearchable, then searchable again
        d.chmod(0)
        append(log, 0.75, 0.4)
        # The subject, not a synchronisation: the directory stays unsearchable across several polls.
        time.sleep(0.5)
        d.chmod(0o777)
        append(log, 0.5, 0.5)
        objs = tail.wait_for(has_loss(0.5), "record after the directory came back")
    finally:
        rc, err = tail.stop(signal.SIGHUP)
    # THEN a clear status, every record once, no crash, exit 129 on SIGHUP
    assert losses(objs) == [1.5, 1.25, 1.0, 0.75, 0.5]
    assert states(objs)[:3] == ["following", "unreadable", "following"]
    assert rc == 129 and err == ""
