"""A dropped SSH connection leaves no trainmon behind: a real sshd on 127.0.0.1.

The test starts its own sshd (its own config, a host key and a client key generated in a
temporary directory; never the system's sshd or keys) and runs the real `trainmon tail` over
``ssh -tt`` from a pseudo-terminal, as a person's terminal would. Killing the client drops the
connection: sshd closes the session's terminal. Skipped where openssh-server is not installed
(Debian: ``apt-get install openssh-server``; ``.ci/run`` installs it when it can).
"""

from __future__ import annotations

import getpass
import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT, record_line, wait_for
from test_terminal_gone import GONE_WITHIN_S, kill_left, trainmon_pids

pytestmark = pytest.mark.slow  # a real sshd, ssh and trainmon in subprocesses

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An sshd of the test's own on 127.0.0.1: (port, the client's private key)."""
    if not os.path.exists(SSHD) or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.skip("openssh-server / openssh-client not installed")
    d = tmp_path / "ssh"
    d.mkdir(mode=0o700)
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    (d / "authorized_keys").write_text((d / "client.pub").read_text())
    port = _free_port()
    config = d / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
        "PrintMotd no\nLogLevel ERROR\n"
    )
    if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 10
        while not _accepts(port):
            if proc.poll() is not None or time.monotonic() > end:
                err = proc.stderr.read().decode() if proc.stderr and proc.poll() is not None else ""
                pytest.skip(f"the test's sshd did not start: {err.strip()[:200]}")
            time.sleep(0.05)  # polling the port until sshd listens
        yield port, d / "client"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("shell", ["plain", "trap-hup"])
def test_ssh_client_killed_leaves_no_trainmon(tmp_path: Path, sshd: tuple[int, Path], shell: str) -> None:
    # GIVEN `trainmon tail` on the dashboard over ssh -tt (run by the login shell directly, or
    # under a shell that traps HUP, so the kernel's SIGHUP never reaches trainmon)
    port, key = sshd
    log = tmp_path / "train.log"
    log.write_bytes(b"".join(record_line(i) for i in range(40)))
    tail = f"{sys.executable} -m tui_monitor tail {log}"
    remote = f"cd {ROOT} && " + (tail if shell == "plain" else f"bash -c 'trap : HUP; {tail}; echo'")
    master, slave = pty.openpty()
    client = subprocess.Popen(
        ["ssh", "-tt", "-F", "/dev/null", "-i", str(key), "-p", str(port)]
        + ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"]
        + ["-o", "LogLevel=ERROR", f"{getpass.getuser()}@127.0.0.1", remote],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    os.close(slave)
    try:
        drawn = b""

        def drew() -> bool:
            nonlocal drawn
            try:
                drawn += os.read(master, 65536)
            except BlockingIOError:
                pass
            return b"train.log" in drawn

        os.set_blocking(master, False)
        wait_for(drew, lambda: f"the dashboard over ssh; got {drawn[-200:]!r}", 30.0)
        assert trainmon_pids(log)
        # WHEN the client is killed (the connection drops)
        client.send_signal(signal.SIGKILL)
        client.wait(timeout=5)
        # THEN `ps` shows no trainmon within 10 s
        wait_for(lambda: not trainmon_pids(log), "trainmon gone after the ssh client died", GONE_WITHIN_S)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
        os.close(master)
        kill_left(log)
