"""The README's examples, run as written through the installed console script.

A newcomer follows the README in a fresh shell: the set-up puts ``trainmon`` in the
environment's ``bin/``; ``source .venv/bin/activate`` makes the bare ``trainmon`` of the
examples work. These tests do exactly that (``bash`` with a bare ``PATH``, the environment
that runs the tests activated) and check what each example prints.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, TailProcess

pytestmark = pytest.mark.slow  # trainmon in subprocesses

README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
"""The ``bin/`` of the environment running the tests (``.venv/bin`` after the set-up)."""


def fenced_after(heading: str) -> list[str]:
    """The lines of the first fenced block after ``heading`` in the README."""
    rest = README[README.index(heading) :]
    start = rest.index("```")
    body = rest[rest.index("\n", start) + 1 :]
    return body[: body.index("```")].splitlines()


def fresh_shell(command: str, cwd: Path) -> subprocess.Popen[str]:
    """``command`` in a new bash with only the system's PATH and the environment activated,
    as a person types it after ``source .venv/bin/activate``."""
    script = f"source {shlex.quote(str(BIN / 'activate'))} && cd {shlex.quote(str(cwd))} && exec {command}"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.Popen(
        ["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
    )


def test_the_console_script_is_installed() -> None:
    # GIVEN the README's set-up (pip install into .venv) THEN .venv/bin/trainmon exists and runs
    script = BIN / "trainmon"
    assert script.is_file() and os.access(script, os.X_OK)
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("trainmon ")


def test_report_example_prints_what_the_readme_shows() -> None:
    # GIVEN the README's `$ trainmon report tests/fixtures/real/hf5_linear_warmup.log` and its output
    block = fenced_after("## `trainmon report`")
    command = block[0].removeprefix("$ ")
    shown = block[1 : block.index("...")]
    assert command == "trainmon report tests/fixtures/real/hf5_linear_warmup.log"
    # WHEN run through the installed console script, from the repository
    done = subprocess.run(
        [str(BIN / "trainmon"), *shlex.split(command)[1:]], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    # THEN it prints those lines (the README drops the spaces of an empty last column)
    assert done.returncode == 0, done.stderr
    assert [line.rstrip() for line in done.stdout.splitlines()[: len(shown)]] == shown


def test_use_examples_work_in_a_fresh_shell(tmp_path: Path) -> None:
    # GIVEN a training folder with a log, and the README's "Use" examples
    (tmp_path / "logs").mkdir()
    log = FIXTURES / "real" / "hf5_linear_warmup.log"
    for name in ("logs/train.log", "run1.log", "run2.log"):
        shutil.copy(log, tmp_path / name)
    commands = [line.split("  #")[0].strip() for line in fenced_after("## Use") if line.strip()]
    assert len(commands) >= 5 and all(c.startswith("trainmon ") for c in commands)
    ran = 0
    for command in commands:
        if "| jq" in command and shutil.which("jq", path="/usr/bin:/bin") is None:
            continue  # jq is the reader's tool, not trainmon's
        # WHEN each is typed in a fresh shell where the environment is activated
        if command.startswith("trainmon report"):
            proc = fresh_shell(command, tmp_path)
            out, err = proc.communicate(timeout=60)
            # THEN a report prints the verdict of the log and exits 0
            assert proc.returncode == 0, (command, err)
            assert "HEALTHY" in out or out.strip() == "healthy", (command, out)
        else:
            # THEN tail and demo (stdout is a pipe here: one line per record) print records
            # until they are interrupted, and Ctrl-C ends them with 130
            tail = TailProcess(proc=fresh_shell(command, tmp_path))
            lines = tail.wait_for(lambda ls: any(s.startswith(("train ", "run1.log: train")) for s in ls), command)
            assert any("loss" in s for s in lines)
            status, err = tail.stop(signal.SIGINT)
            assert status == 130, (command, err)
        ran += 1
    assert ran >= 5
