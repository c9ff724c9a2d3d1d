"""Print the README.md sections (facts tables) for the fixtures made by make_all.py, from their truth files.

    python3 scripts/real_logs/readme_sections.py [--intro] NAME... > sections.md

The "What the log shows" notes are written by hand (NOTES below), after reading the logs.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "fixtures", "real")
sys.path.insert(0, HERE)
from readme_notes import INTRO, NOTES  # noqa: E402


def fmt_lr(v: float | None) -> str:
    return "—" if v is None else f"{v} (printed '{v:.4g}')"


def facts_table(run: dict) -> list[str]:
    f = run["facts"]
    pc = run.get("print_check")
    ended = run["ended"]
    if ended["how"] == "killed":
        how = (
            f"killed by SIGKILL after the truth record of step {ended['killed_after_truth_record_of_step']} "
            f"(last record in the truth: step {ended['last_record_step_in_truth']}); no summary record"
        )
    else:
        how = "finished (summary record; the truth equals the final `state.log_history`)"
    ev = f["eval_steps_logged"]
    rows = [
        ("how the run ended", how),
        (
            "redirect",
            f"`{run['redirect']}`" + (" with `python -u`" if run["python_unbuffered"] else " (block-buffered)"),
        ),
        (
            "records (truth)",
            f"{f['n_records']}: {f['n_train_records']} train, {f['n_eval_records']} eval"
            f"{' (steps ' + ', '.join(map(str, ev)) + ')' if ev else ''}, "
            f"summary {'yes' if f['has_summary_record'] else 'no'}",
        ),
        ("first loss", f"{f['first_loss']} at step {f['first_loss_step']} (printed '{f['first_loss']:.4g}')"),
        ("last loss", f"{f['last_loss']} at step {f['last_loss_step']} (printed '{f['last_loss']:.4g}')"),
        (
            "peak learning rate as logged",
            f"{fmt_lr(f['peak_learning_rate_logged'])}, first at step {f['peak_learning_rate_first_step']}",
        ),
        (
            "configured learning rate / scheduler / warmup",
            f"{f['configured_learning_rate']} / {f['lr_scheduler_type']} / {f['warmup_steps']:g} steps",
        ),
        ("total steps (max_steps)", str(f["total_steps"])),
        ("last step logged / epoch", f"{f['final_step']} / {f['final_epoch']}"),
    ]
    if "num_input_tokens_seen_last" in f:
        rows.append(("num_input_tokens_seen (last record)", str(f["num_input_tokens_seen_last"])))
    if pc:
        where = "part1.log" if run.get("print_check_where") == "part1.log" else "the log"
        rows.append(
            (
                f"records found verbatim in {where}",
                f"{pc['intact']} intact, {pc['out_of_order']} out of order, {pc['missing']} missing",
            )
        )
    out = ["| fact | value |", "| --- | --- |"]
    out += [f"| {k} | {v} |" for k, v in rows]
    return out


def stats_line(s: dict) -> str:
    totals = ", ".join(f"`/{k}` ×{v}" for k, v in s["tqdm_bar_totals_seen"].items()) or "none"
    return (
        f"{s['bytes']} bytes, {s['newlines']} `\\n`, {s['carriage_returns']} `\\r`, "
        f"{s['esc_cursor_up_sequences']} `ESC[A`, ends with newline: {s['ends_with_newline']}; "
        f"tqdm bar totals {totals}; banner `Total optimization steps` "
        f"{s['banner_total_optimization_steps'] or 'absent'}, `Num Epochs` {s['banner_num_epochs'] or 'absent'}"
        + (
            f"; `Saving model checkpoint to` ×{len(s['saving_checkpoint_lines'])}"
            if s["saving_checkpoint_lines"]
            else ""
        )
    )


def section(name: str) -> str:
    t = json.load(open(os.path.join(FIXTURES, f"{name}.truth.json")))
    files = sorted(f for f in os.listdir(FIXTURES) if f.startswith(name + "."))
    out = [
        f"## `{name}`",
        "",
        f"**{t['title']}**",
        "",
        "Files: " + ", ".join(f"`{f}`" for f in files),
        "",
        f"Versions: transformers {t['transformers_version']}, torch {t['torch_version']}",
        "",
        "Capture command (exactly as run):",
        "",
        "```sh",
        *t["capture_command"],
        "```",
        "",
    ]
    if name in NOTES:
        out += ["What the log shows:", "", NOTES[name].strip(), ""]
    if "part1_log_file_stats" in t:
        out += [
            f"`{name}.part1.log` (the file just before the second run truncated it): "
            + stats_line(t["part1_log_file_stats"])
            + ".",
            "",
        ]
    out += [f"Log file `{name}.log` (final): " + stats_line(t["log_file_stats"]) + ".", ""]
    out += ["Facts (from the truth callback = the Trainer's own `state.log_history`):", ""]
    for run in t["runs"]:
        where = "in the final log" if run["in_final_log"] else "NOT in the final log: overwritten"
        out += [f"*run {run['index']} of {t['n_runs']} ({where})*", ""] if t["n_runs"] > 1 else []
        out += facts_table(run) + [""]
    return "\n".join(out)


if __name__ == "__main__":
    names = [a for a in sys.argv[1:] if a != "--intro"]
    print((INTRO if "--intro" in sys.argv else "") + "\n".join(section(n) for n in names))
