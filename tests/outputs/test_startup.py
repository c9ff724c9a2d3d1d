"""What a ``trainmon`` process loads and leaves behind at start-up (`cli.main` with the process's own
``sys.argv``): ``report`` reads without the follower, the wakers, logging, ssh or hashlib; the
collector is on again when the command runs, with start-up's objects frozen out of it; numpy's
OpenBLAS runs one thread unless the user said otherwise; ``--version`` names the scan path."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import FIXTURES

from tui_monitor.cli import build_parser

LOG = FIXTURES / "real" / "hf5_linear_warmup.log"

_PROBE = """
import gc, json, os, sys
from tui_monitor import cli
seen = {}
started = cli._started
def probe():  # the command's modules are imported: what is the process like now?
    started()
    if not seen:
        seen.update(gc=gc.isenabled(), frozen=gc.get_freeze_count(), blas=os.environ.get("OPENBLAS_NUM_THREADS"))
cli._started = probe
sys.argv = ["trainmon", *sys.argv[1:]]
code = cli.main()
seen["modules"] = sorted(m for m in sys.modules if m.split(".")[0] in ("tui_monitor", "logging", "subprocess", "hashlib"))
print(json.dumps(seen), file=sys.stderr)
sys.exit(code)
"""


def _probe(*argv: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, timeout=120, env=env)
    return done, json.loads(done.stderr.strip().splitlines()[-1])


def test_report_starts_without_the_follower_and_with_the_collector_on() -> None:
    done, seen = _probe("report", "--json", str(LOG))
    assert done.returncode == 0
    assert json.loads(done.stdout)["runs"], done.stdout[:200]
    modules = seen["modules"]
    assert isinstance(modules, list)
    follow = [m for m in modules if m.startswith("tui_monitor.core.follow")]
    assert follow == ["tui_monitor.core.follow", "tui_monitor.core.follow.writer"]
    assert not {"logging", "subprocess", "hashlib"} & set(modules)
    assert seen["gc"] is True
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000
    assert seen["blas"] == "1"


_DEMO_PROBE = """
import gc, json, sys
from tui_monitor import cli
seen = []
def hook(event, args):  # each open of the demo's log (the writer's, the follower's) while it runs
    if event == "open" and "trainmon-demo-" in str(args[0]):
        seen.append(gc.isenabled())
sys.addaudithook(hook)
sys.argv = ["trainmon", "demo", "--plain", "--speed", "200"]
code = cli.main()
print(json.dumps(seen), file=sys.stderr)
sys.exit(code)
"""


def test_demo_runs_with_the_collector_on() -> None:
    """GIVEN ``trainmon demo --plain`` as its own process WHEN the demo's log is written and read
    THEN the collector is on all along (a long-running command never runs without it)."""
    done = subprocess.run([sys.executable, "-c", _DEMO_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    seen = json.loads(done.stderr.strip().splitlines()[-1])
    assert len(seen) >= 2 and all(seen)


def test_a_users_openblas_threads_are_kept() -> None:
    import os

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "3"}
    done, seen = _probe("report", "--json", str(LOG), env=env)
    assert done.returncode == 0
    assert seen["blas"] == "3"


def test_main_with_argv_leaves_the_collector_alone() -> None:
    import gc

    from tui_monitor.cli import main

    frozen = gc.get_freeze_count()
    assert main(["report", "--json", str(LOG)]) == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_version_names_the_scan_path() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui_monitor", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("trainmon ")
    assert "(log scan: " in done.stdout and done.stdout.endswith(")\n")
    assert "--version" in build_parser().format_help()
