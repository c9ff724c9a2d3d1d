"""Regenerate every real-log fixture of the "runs and liveness" set (issue 11) into tests/fixtures/real/.

    python3 scripts/real_logs/make_all.py [--work /work/real_runs] [--python /work/mlenv/bin/python] [only ...]

Each scenario runs in its own directory under --work (outside the repo) with the user's own shell redirect,
under capture.py (2 ms size poller, optional SIGKILL). Then the log(s), .chunks.tsv and a .truth.json built
from the truth callback's JSONL are copied into tests/fixtures/real/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "real")
TRAIN = os.path.join(HERE, "train.py")
CAPTURE = os.path.join(HERE, "capture.py")
ENV = "env -u PYTHONUNBUFFERED -u PYTHONDONTWRITEBYTECODE HF_HUB_OFFLINE=1"
BASE = (
    "--output_dir out --report_to none --per_device_train_batch_size 16 --per_device_eval_batch_size 32 "
    "--n_embd 128 --n_head 4"
)

# One scenario = list of runs. Each run: args, redirect (">", ">>", "| tee"), truth file, python -u?, kill step.
SCENARIOS: dict[str, dict[str, Any]] = {
    "reuse_shorter": {
        "title": "a finished 300-step run, then a new shorter run (100 steps) `> train.log` into the same file",
        "keep_part1": True,
        "runs": [
            dict(
                args="--max_steps 300 --learning_rate 5e-4 --lr_scheduler_type linear --warmup_steps 30 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 50 --save_strategy no --seed 42",
                redirect=">",
            ),
            dict(
                args="--max_steps 100 --learning_rate 5e-4 --lr_scheduler_type linear --warmup_steps 10 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 50 --save_strategy no --seed 43",
                redirect=">",
            ),
        ],
    },
    "append_two_runs": {
        "title": "two different runs `>> train.log` (200 steps linear 5e-4, then 150 steps cosine 3e-4, other seed)",
        "runs": [
            dict(
                args="--max_steps 200 --learning_rate 5e-4 --lr_scheduler_type linear --warmup_steps 20 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 50 --save_strategy no --seed 1",
                redirect=">>",
            ),
            dict(
                args="--max_steps 150 --learning_rate 3e-4 --lr_scheduler_type cosine --warmup_steps 15 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 50 --save_strategy no --seed 2",
                redirect=">>",
            ),
        ],
    },
    "killed_sigkill": {
        "title": "a 300-step run killed with SIGKILL right after its step-150 record was logged (block-buffered)",
        "runs": [
            dict(
                args="--max_steps 300 --learning_rate 5e-4 --lr_scheduler_type linear --warmup_steps 30 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 50 --save_strategy no --seed 42",
                redirect=">",
                kill=150,
            ),
        ],
    },
    "disable_tqdm_banner": {
        "title": "`disable_tqdm=True` with `--log_level info`: the banner (`Num Epochs = 3`, "
        "`Total optimization steps = 300`), no bars",
        "runs": [
            dict(
                args="--max_steps 300 --learning_rate 5e-4 --lr_scheduler_type linear --warmup_steps 30 "
                "--logging_steps 10 --eval_strategy steps --eval_steps 50 --save_strategy no --seed 42 "
                "--disable_tqdm true --log_level info",
                redirect=">",
            ),
        ],
    },
    "tee_run": {
        "title": "a healthy run with evals, `2>&1 | tee train.log`",
        "runs": [
            dict(
                args="--max_steps 200 --learning_rate 5e-4 --lr_scheduler_type cosine --warmup_steps 20 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 50 --save_strategy no --seed 42",
                redirect="| tee",
            ),
        ],
    },
    "tokens_checkpoints": {
        "title": "`include_num_input_tokens_seen=True`, checkpoints every 50 steps, `--log_level info`, evals every 50",
        "trainer_state": "out/checkpoint-200/trainer_state.json",
        "runs": [
            dict(
                args="--max_steps 200 --learning_rate 5e-4 --lr_scheduler_type linear --warmup_steps 20 "
                "--logging_steps 10 --eval_strategy steps --eval_steps 50 --save_strategy steps --save_steps 50 "
                "--include_num_input_tokens_seen true --log_level info --seed 42",
                redirect=">",
            ),
        ],
    },
    "unbuffered_killed_restart": {
        "title": "`python -u` run killed with SIGKILL right after its step-60 record, then restarted from scratch "
        "`> train.log` into the same file",
        "keep_part1": True,
        "runs": [
            dict(
                args="--max_steps 300 --learning_rate 5e-4 --lr_scheduler_type linear --warmup_steps 30 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 50 --save_strategy no --seed 42",
                redirect=">",
                unbuffered=True,
                kill=60,
            ),
            dict(
                args="--max_steps 300 --learning_rate 5e-4 --lr_scheduler_type linear --warmup_steps 30 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 50 --save_strategy no --seed 42",
                redirect=">",
                unbuffered=True,
            ),
        ],
    },
    "append_epochs": {
        "title": "two epoch-based runs `>> train.log` (2 epochs of 50 steps, then 3 of 30; evals each epoch)",
        "runs": [
            dict(
                args="--num_train_epochs 2 --n_train 800 --learning_rate 5e-4 --lr_scheduler_type linear "
                "--warmup_steps 10 --logging_steps 10 --eval_strategy epoch --save_strategy no --seed 9",
                redirect=">>",
            ),
            dict(
                args="--num_train_epochs 3 --n_train 480 --learning_rate 5e-4 --lr_scheduler_type linear "
                "--warmup_steps 5 --logging_steps 6 --eval_strategy epoch --save_strategy no --seed 10",
                redirect=">>",
            ),
        ],
    },
    "three_runs_append": {
        "title": "three short runs (60, 80, 40 steps; lr 1e-3, 5e-4, 2e-3) `>> train.log`",
        "runs": [
            dict(
                args="--max_steps 60 --learning_rate 1e-3 --lr_scheduler_type linear --warmup_steps 6 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 20 --save_strategy no --seed 11",
                redirect=">>",
            ),
            dict(
                args="--max_steps 80 --learning_rate 5e-4 --lr_scheduler_type linear --warmup_steps 8 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 20 --save_strategy no --seed 12",
                redirect=">>",
            ),
            dict(
                args="--max_steps 40 --learning_rate 2e-3 --lr_scheduler_type linear --warmup_steps 4 "
                "--logging_steps 5 --eval_strategy steps --eval_steps 20 --save_strategy no --seed 13",
                redirect=">>",
            ),
        ],
    },
}

NONFINITE_NOTE = (
    'non-finite floats recorded by the Trainer (float("nan"), float("inf")) are written here as the JSON strings '
    '"nan", "inf", "-inf"'
)


def shell_command(python: str, run: dict[str, Any], truth: str) -> str:
    py = f"{python} -u" if run.get("unbuffered") else python
    cmd = f"{ENV} {py} {TRAIN} {BASE} {run['args']} --truth {truth}"
    if run["redirect"] == "| tee":
        return f"{cmd} 2>&1 | tee train.log"
    return f"{cmd} {run['redirect']} train.log 2>&1"


def printed_text(record: dict[str, Any]) -> str:
    """The text ProgressCallback / PrinterCallback print for a log_history entry (transformers 5.x)."""
    logs = {k: v for k, v in record.items() if k not in ("step", "total_flos")}
    shown = {}
    for k, v in logs.items():
        if v in ("nan", "inf", "-inf"):
            v = float(v)
        shown[k] = f"{v:.4g}" if isinstance(v, float) else v
    return str(shown)


def kind(record: dict[str, Any]) -> str:
    # eval_* first; then "loss" = a train record (with include_num_input_tokens_seen, 5.x train records ALSO carry
    # train_runtime and train_tokens_per_second, so train_runtime alone does not make a summary); summary = train_loss
    if any(k.startswith("eval_") for k in record):
        return "eval"
    if "loss" in record:
        return "train"
    if "train_loss" in record or "train_runtime" in record:
        return "summary"
    return "other"


def read_truth(path: str) -> dict[str, Any]:
    events = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    begin = next(e for e in events if e["event"] == "train_begin")
    records = [e["record"] for e in events if e["event"] == "log"]
    checked = next((e for e in events if e["event"] == "checked"), None)
    ended = next((e for e in events if e["event"] == "train_end"), None)
    return {
        "run_info": begin["run_info"],
        "pid": begin["pid"],
        "log_history": records,
        "checked": checked,
        "train_end": ended,
    }


def run_facts(h: list[dict[str, Any]], info: dict[str, Any]) -> dict[str, Any]:
    train = [r for r in h if kind(r) == "train"]
    evals = [r for r in h if kind(r) == "eval"]
    summ = [r for r in h if kind(r) == "summary"]
    lrs = [r["learning_rate"] for r in train if "learning_rate" in r]
    peak = max(lrs) if lrs else None
    facts: dict[str, Any] = {
        "n_records": len(h),
        "n_train_records": len(train),
        "n_eval_records": len(evals),
        "has_summary_record": bool(summ),
        "first_loss": train[0]["loss"] if train else None,
        "first_loss_step": train[0]["step"] if train else None,
        "last_loss": train[-1]["loss"] if train else None,
        "last_loss_step": train[-1]["step"] if train else None,
        "train_steps_logged": [r["step"] for r in train],
        "eval_steps_logged": [r["step"] for r in evals],
        "first_eval_loss": evals[0]["eval_loss"] if evals else None,
        "last_eval_loss": evals[-1]["eval_loss"] if evals else None,
        "peak_learning_rate_logged": peak,
        "peak_learning_rate_first_step": next((r["step"] for r in train if r.get("learning_rate") == peak), None),
        "configured_learning_rate": info["args"]["learning_rate"],
        "lr_scheduler_type": str(info["args"]["lr_scheduler_type"]).replace("SchedulerType.", "").lower(),
        "warmup_steps": info["args"]["warmup_steps"],
        "total_steps": info["max_steps"],
        "final_step": h[-1]["step"] if h else None,
        "final_epoch": h[-1].get("epoch") if h else None,
        "summary": summ[0] if summ else None,
    }
    if any("num_input_tokens_seen" in r for r in h):
        seen = [r["num_input_tokens_seen"] for r in h if "num_input_tokens_seen" in r]
        facts["num_input_tokens_seen_last"] = seen[-1]
    return facts


def file_stats(data: bytes) -> dict[str, Any]:
    text = data.decode("utf-8", errors="replace")
    totals: dict[str, int] = {}
    for m in re.finditer(r"\|\s*\d+/(\d+) \[", text):
        totals[m.group(1)] = totals.get(m.group(1), 0) + 1
    return {
        "bytes": len(data),
        "newlines": data.count(b"\n"),
        "carriage_returns": data.count(b"\r"),
        "esc_cursor_up_sequences": data.count(b"\x1b[A"),
        "ends_with_newline": data.endswith(b"\n"),
        "tqdm_bar_totals_seen": dict(sorted(totals.items(), key=lambda kv: int(kv[0]))),
        "banner_total_optimization_steps": re.findall(r"Total optimization steps = ([\d,]+)", text),
        "banner_num_epochs": re.findall(r"Num Epochs = ([\d,]+)", text),
        "saving_checkpoint_lines": re.findall(r"Saving model checkpoint to (\S+)", text),
        "killed_or_traceback_text": "Traceback" in text or "Killed" in text,
    }


def load_chunks(path: str) -> list[tuple[float, int, int]]:
    rows = []
    for line in open(path, encoding="utf-8").read().splitlines()[1:]:
        t, off, n = line.split("\t")
        rows.append((float(t), int(off), int(n)))
    return rows


def print_check(runs_records: list[list[dict[str, Any]]], data: bytes, chunks: list | None) -> list[list[dict]]:
    """For each record (runs in file order): is its printed text in the log, where, and when it was complete."""
    cursor = 0
    out = []
    for recs in runs_records:
        checks = []
        for r in recs:
            text = printed_text(r)
            b = text.encode()
            pos = data.find(b, cursor)
            status = "intact"
            if pos < 0:
                pos = data.find(b)
                status = "out_of_order" if pos >= 0 else "missing"
            else:
                cursor = pos + len(b)
            c: dict[str, Any] = {
                "step": r["step"],
                "kind": kind(r),
                "status": status,
                "byte_offset": pos if pos >= 0 else None,
                "text": text,
            }
            if chunks is not None and pos >= 0:
                end = pos + len(b)
                c["complete_in_file_at_s"] = next((t for t, off, n in chunks if off + n >= end and off <= end), None)
            checks.append(c)
        out.append(checks)
    return out


def counts(checks: list[dict]) -> dict[str, int]:
    res = {"intact": 0, "out_of_order": 0, "missing": 0}
    for c in checks:
        res[c["status"]] += 1
    return res


def capture(
    cwd: str,
    log: str,
    mode: str,
    chunks: str,
    command: str,
    meta: str,
    t0: float,
    append_chunks: bool,
    kill: int | None,
    truth: str,
) -> dict[str, Any]:
    argv = [sys.executable, CAPTURE, "--log", log, "--mode", mode, "--chunks", chunks, "--meta", meta, "--t0", repr(t0)]
    if append_chunks:
        argv.append("--append-chunks")
    if kill is not None:
        argv += ["--kill-after-step", str(kill), "--truth", truth]
    argv.append(command)
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return json.load(open(os.path.join(cwd, meta)))


def make(name: str, spec: dict[str, Any], work: str, python: str, rebuild: bool = False) -> None:
    d = os.path.join(work, name)
    if not rebuild:
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    runs = spec["runs"]
    truncating = [r["redirect"] in (">", "| tee") for r in runs]
    metas = []
    commands = []
    t0 = time.time()
    for i, run in enumerate(runs, 1):
        truth = f"truth_run{i}.jsonl"
        cmd = shell_command(python, run, truth)
        commands.append(cmd)
        if rebuild:  # only rebuild the truth files from an earlier run's work directory
            metas.append(json.load(open(os.path.join(d, f"meta_run{i}.json"))))
            continue
        if spec.get("keep_part1") and i == 2:
            shutil.copyfile(os.path.join(d, "train.log"), os.path.join(d, "part1.log"))
        # runs appended to one file share one chunks file and one time axis; a truncating second run starts its own
        if i > 1 and truncating[i - 1]:
            t0 = time.time()
        chunks = "chunks_run1.tsv" if (i > 1 and not truncating[i - 1]) else f"chunks_run{i}.tsv"
        append_chunks = i > 1 and not truncating[i - 1]
        meta = capture(
            d,
            "train.log",
            "trunc" if truncating[i - 1] else "append",
            chunks,
            cmd,
            f"meta_run{i}.json",
            t0,
            append_chunks,
            run.get("kill"),
            truth,
        )
        metas.append(meta)
        print(
            f"{name} run {i}: exit {meta['exit_code']} killed={meta['killed']} log={meta['log_size_after']}",
            file=sys.stderr,
        )

    truths = [read_truth(os.path.join(d, f"truth_run{i}.jsonl")) for i in range(1, len(runs) + 1)]
    # which runs are in the final file: everything after the last truncating run
    last_trunc = max(i for i, t in enumerate(truncating) if t) if any(truncating) else 0
    in_final = list(range(last_trunc, len(runs)))
    final = open(os.path.join(d, "train.log"), "rb").read()
    final_chunks_name = f"chunks_run{last_trunc + 1}.tsv"
    final_chunks = load_chunks(os.path.join(d, final_chunks_name))
    checks_final = print_check([truths[i]["log_history"] for i in in_final], final, final_chunks)
    checks: dict[int, list[dict]] = dict(zip(in_final, checks_final))
    part1 = None
    if spec.get("keep_part1"):
        part1 = open(os.path.join(d, "part1.log"), "rb").read()
        checks[0] = print_check([truths[0]["log_history"]], part1, load_chunks(os.path.join(d, "chunks_run1.tsv")))[0]

    run_entries = []
    for i, (run, tr, meta, cmd) in enumerate(zip(runs, truths, metas, commands)):
        info = tr["run_info"]
        killed = meta["killed"]
        if killed:
            ended = {
                "how": "killed",
                "signal": "SIGKILL",
                "exit_code_of_shell": meta["exit_code"],
                "killed_after_truth_record_of_step": killed["after_truth_record_step"],
                "last_record_step_in_truth": tr["log_history"][-1]["step"],
                "log_size_at_kill": killed["log_size_at_kill"],
                "t_kill_s": killed["t_kill_s"],
                "summary_record": False,
                "train_end_callback": tr["train_end"] is not None,
            }
        else:
            ended = {
                "how": "finished",
                "exit_code": meta["exit_code"],
                "summary_record": True,
                "log_history_matches_final_state": bool(tr["checked"] and tr["checked"]["log_history_matches"]),
            }
        entry = {
            "index": i + 1,
            "command": cmd,
            "redirect": run["redirect"],
            "python_unbuffered": bool(run.get("unbuffered")),
            "in_final_log": i in in_final,
            "ended": ended,
            "total_steps": info["max_steps"],
            "run_info": info,
            "log_history": tr["log_history"],
            "facts": run_facts(tr["log_history"], info),
            "capture": {k: v for k, v in meta.items() if k != "command"},
        }
        if i in checks:
            entry["print_check"] = counts(checks[i])
            entry["print_check_where"] = "part1.log" if (i == 0 and part1 is not None and i not in in_final) else "log"
            entry["print_check_records"] = checks[i]
        run_entries.append(entry)

    latest = run_entries[-1]
    truth_json: dict[str, Any] = {
        "name": name,
        "title": spec["title"],
        "capture_command": [f"cd {d}"]
        + [
            c
            + (
                f"   # SIGKILL to the python process after the truth record of step {r['kill']} appeared"
                if r.get("kill")
                else ""
            )
            for c, r in zip(commands, runs)
        ]
        + [
            "# each run under: python3 scripts/real_logs/capture.py --log train.log --mode trunc|append "
            "--chunks ... -- '<the command>'"
        ],
        "nonfinite_encoding": NONFINITE_NOTE,
        "transformers_version": latest["run_info"]["transformers_version"],
        "torch_version": latest["run_info"]["torch_version"],
        "n_runs": len(runs),
        "runs_in_final_log": [i + 1 for i in in_final],
        "total_steps": latest["total_steps"],
        "run_info": latest["run_info"],
        "log_history": latest["log_history"],
        "log_history_note": "top-level log_history/total_steps/run_info/facts = the latest run; every run is in runs[]",
        "facts": latest["facts"],
        "log_file_stats": file_stats(final),
        "file_facts": {
            "records_in_final_log_by_truth": sum(len(truths[i]["log_history"]) for i in in_final),
            "records_found_in_final_log": sum(counts(c)["intact"] for c in checks_final),
            "records_missing_from_final_log": sum(counts(c)["missing"] for c in checks_final),
        },
        "runs": run_entries,
        "chunks_note": "complete_in_file_at_s = seconds (on the .chunks.tsv time axis) at which the last byte of the "
        "record's text was in the file",
    }
    if part1 is not None:
        truth_json["part1_log_file_stats"] = file_stats(part1)

    os.makedirs(FIXTURES, exist_ok=True)
    shutil.copyfile(os.path.join(d, "train.log"), os.path.join(FIXTURES, f"{name}.log"))
    shutil.copyfile(os.path.join(d, final_chunks_name), os.path.join(FIXTURES, f"{name}.chunks.tsv"))
    if part1 is not None:
        shutil.copyfile(os.path.join(d, "part1.log"), os.path.join(FIXTURES, f"{name}.part1.log"))
        shutil.copyfile(os.path.join(d, "chunks_run1.tsv"), os.path.join(FIXTURES, f"{name}.part1.chunks.tsv"))
    if spec.get("trainer_state"):
        shutil.copyfile(os.path.join(d, spec["trainer_state"]), os.path.join(FIXTURES, f"{name}.trainer_state.json"))
        truth_json["trainer_state_file"] = f"{name}.trainer_state.json (= {spec['trainer_state']})"
    with open(os.path.join(FIXTURES, f"{name}.truth.json"), "w", encoding="utf-8") as f:
        json.dump(truth_json, f, indent=1, allow_nan=False)
        f.write("\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/work/real_runs")
    ap.add_argument("--python", default="/work/mlenv/bin/python")
    ap.add_argument("--rebuild", action="store_true", help="do not train; rebuild fixtures from the work dirs")
    ap.add_argument("only", nargs="*")
    a = ap.parse_args()
    for name, spec in SCENARIOS.items():
        if a.only and name not in a.only:
            continue
        make(name, spec, a.work, a.python, a.rebuild)


if __name__ == "__main__":
    main()
