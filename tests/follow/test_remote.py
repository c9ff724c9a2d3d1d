"""A log on another machine: ``trainmon tail user@host:/path`` through a real sshd on 127.0.0.1.

The sshd is the test's own (Debian's openssh-server binary, its own config, host key and client
key in a temporary directory, never the system's), and the "remote" log is written live by a
separate writer process. Every record must arrive once; a truncation is a reset; killing sshd
(the listener and its sessions) shows the connection lost, and restarting it resumes where the
stream stopped.
"""

from __future__ import annotations

import getpass
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import TailProcess, expected, start_writer_process, wait_for

from tui_monitor.api import load
from tui_monitor.cli import main

pytestmark = pytest.mark.slow  # sshd, ssh and trainmon in subprocesses

SSHD = "/usr/sbin/sshd"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    """Processes under ``pid`` (sshd's per-connection children), from /proc."""
    parents: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            parents[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        out += kids
        todo += kids
    return out


class Sshd:
    """An sshd of the test's own on 127.0.0.1:``port``: start, kill (with its sessions), start again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "host_key")], check=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "client_key")], check=True)
        shutil.copy(root / "client_key.pub", root / "authorized_keys")
        (root / "sshd_config").write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {root / 'host_key'}\n"
            f"AuthorizedKeysFile {root / 'authorized_keys'}\n"
            f"PidFile {root / 'sshd.pid'}\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "PermitRootLogin prohibit-password\n"
            "LogLevel ERROR\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.ssh_command = shlex.join(
            [
                "ssh",
                "-F",
                "/dev/null",
                "-p",
                str(self.port),
                "-i",
                str(root / "client_key"),
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                f"UserKnownHostsFile={root / 'known_hosts'}",
                "-o",
                "LogLevel=ERROR",
            ]
        )

    def start(self) -> None:
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.root / "sshd_config")], stderr=subprocess.PIPE)

        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"sshd exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_for(up, "sshd listening", deadline_s=20)

    def kill(self) -> None:
        """SIGKILL the listener and every session it forked (a machine going away)."""
        assert self.proc is not None
        for pid in [*_descendants(self.proc.pid), self.proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    if not os.access(SSHD, os.X_OK) or shutil.which("ssh") is None:
        pytest.skip("needs openssh-server and openssh-client (apt-get install openssh-server; .ci/run tries)")
    d = tmp_path / "sshd"
    d.mkdir()
    server = Sshd(d)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def _spec(path: Path) -> str:
    return f"{getpass.getuser()}@127.0.0.1:{path}"


def _records(seen: list[dict]) -> list[tuple[float, float]]:
    return [(o["metrics"]["loss"], o["epoch"]) for o in seen if o.get("type") == "record"]


def _states(seen: list[dict]) -> list[str]:
    return [o["state"] for o in seen if o.get("type") == "status" and "state" in o]


def test_every_record_of_a_live_remote_log_arrives_once(sshd: Sshd, tmp_path: Path) -> None:
    # GIVEN a log being written live on the "remote" side (300 records, 5 ms apart)
    log = tmp_path / "train.log"
    writer = start_writer_process(log, 0, 300, 0.005, mode="w")
    wait_for(log.exists, "the writer's log")
    # WHEN trainmon tails it as user@127.0.0.1:/path through the test's ssh
    tail = TailProcess("--json", "--ssh-command", sshd.ssh_command, _spec(log), decode=json.loads, deadline_s=60)
    try:
        writer.wait(timeout=60)
        # (the status line is printed when the state is next looked at: it may follow the records)
        seen = tail.wait_for(
            lambda got: len(_records(got)) >= 300 and "following" in _states(got), "300 records, following"
        )
        # THEN every record arrived once, in order, and the status said remote and following
        assert _records(seen) == expected(0, 300)
        status = [o for o in seen if o.get("type") == "status" and "state" in o]
        assert [(o["mode"], o["state"]) for o in status] == [("remote", "connecting"), ("remote", "following")]
    finally:
        tail.stop()


def test_a_remote_truncation_is_a_reset(sshd: Sshd, tmp_path: Path) -> None:
    # GIVEN a remote log of 50 records, followed
    log = tmp_path / "train.log"
    start_writer_process(log, 0, 50, 0.0, mode="w").wait(timeout=30)
    tail = TailProcess("--json", "--ssh-command", sshd.ssh_command, _spec(log), decode=json.loads, deadline_s=60)
    try:
        tail.wait_for(lambda got: len(_records(got)) >= 50, "the first 50 records")
        # WHEN it is truncated and a new run writes 20 records from the start (`> train.log`)
        start_writer_process(log, 0, 20, 0.01, mode="w").wait(timeout=30)
        seen = tail.wait_for(lambda got: len(_records(got)) >= 70, "20 records of the new stream")
        # THEN the truncation is a reset event and the new records follow it, once each
        assert _records(seen) == expected(0, 50) + expected(0, 20)
        resets = [i for i, o in enumerate(seen) if o.get("type") == "reset"]
        assert [seen[i]["reason"] for i in resets] == ["truncated"]
        recs = [i for i, o in enumerate(seen) if o.get("type") == "record"]
        assert recs[49] < resets[0] < recs[50]
    finally:
        tail.stop()


def test_sshd_killed_shows_connection_lost_and_restarted_resumes(sshd: Sshd, tmp_path: Path) -> None:
    # GIVEN a remote log followed live: 100 records written, then a writer that keeps going
    log = tmp_path / "train.log"
    start_writer_process(log, 0, 100, 0.0, mode="w").wait(timeout=30)
    tail = TailProcess("--json", "--ssh-command", sshd.ssh_command, _spec(log), decode=json.loads, deadline_s=60)
    try:
        tail.wait_for(lambda got: len(_records(got)) >= 100 and "following" in _states(got), "100 records, following")
        writer = start_writer_process(log, 100, 400, 0.005, mode="a")
        # WHEN sshd and its sessions are killed while the log grows
        sshd.kill()
        # THEN the status says the connection was lost
        tail.wait_for(lambda got: "lost" in _states(got), "a 'lost' status")
        # WHEN sshd starts again (the writer has gone on meanwhile)
        writer.wait(timeout=60)
        sshd.start()
        # THEN following resumes, and every record is there exactly once
        seen = tail.wait_for(
            lambda got: len(_records(got)) >= 400 and _states(got)[-1] == "following", "all 400 records, following"
        )
        assert _records(seen) == expected(0, 400)
        assert _states(seen) == ["connecting", "following", "lost", "following"]
    finally:
        tail.stop()


def test_report_reads_a_remote_log_and_the_api_too(
    sshd: Sshd, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAINMON_SSH_COMMAND", raising=False)  # main() sets it: undone after the test
    # GIVEN a real Trainer log on the "remote" side
    from helpers import FIXTURES

    log = tmp_path / "train.log"
    shutil.copy(FIXTURES / "real" / "hf5_linear_warmup.log", log)
    # WHEN reported through ssh and locally
    assert main(["report", "--json", "--ssh-command", sshd.ssh_command, _spec(log)]) == 0
    remote = json.loads(capsys.readouterr().out)
    local = load(log).to_dict()
    # THEN the records, numbers and verdict are the same
    for key in ("format", "records", "metrics", "progress", "verdict", "runs"):
        assert remote[key] == local[key], key
    # AND the Python API loads it through the same ssh command (set by --ssh-command above)
    run = load(_spec(log)).latest
    assert run.series("loss").values.tolist() == load(log).latest.series("loss").values.tolist()


def test_ssh_failure_is_one_line(tmp_path: Path) -> None:
    # GIVEN nothing listening on a port WHEN tailing and reporting a log "there"
    if shutil.which("ssh") is None:
        pytest.skip("needs openssh-client")
    port = _free_port()
    cmd = f"ssh -F /dev/null -p {port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
    spec = f"nobody@127.0.0.1:{tmp_path / 'train.log'}"
    for argv in (["tail", "--plain", spec], ["report", spec]):
        done = subprocess.run(
            [sys.executable, "-m", "tui_monitor", *argv, "--ssh-command", cmd],
            capture_output=True,
            text=True,
            timeout=60,
        )
        # THEN one line saying what ssh said, and exit status 1
        assert done.returncode == 1, argv
        assert done.stderr == f"trainmon: {spec}: ssh: connect to host 127.0.0.1 port {port}: Connection refused\n"
