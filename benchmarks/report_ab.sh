#!/usr/bin/env bash
# Wall clock of `trainmon report --json FILE` in two trees, interleaved in one loop (old, new, then
# both again with TRAINMON_PURE_PYTHON=1), ROUNDS rounds (default 2). Each tree needs its own venv
# with the package installed (`.venv/bin/trainmon`). Measure at a load average below ~1.5.
#
#   benchmarks/report_ab.sh OLD_TREE NEW_TREE FILE... [ROUNDS=3 benchmarks/report_ab.sh ...]
set -eu
old=$1 new=$2
shift 2
t() { { /usr/bin/time -f %e "$@" >/dev/null; } 2>&1; }
for r in $(seq "${ROUNDS:-2}"); do
  for f in "$@"; do
    o=$(t "$old/.venv/bin/trainmon" report --json "$f")
    n=$(t "$new/.venv/bin/trainmon" report --json "$f")
    op=$(TRAINMON_PURE_PYTHON=1 t "$old/.venv/bin/trainmon" report --json "$f")
    np=$(TRAINMON_PURE_PYTHON=1 t "$new/.venv/bin/trainmon" report --json "$f")
    echo "$r $(basename "$f") | C old $o new $n | pure Python old $op new $np | load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
