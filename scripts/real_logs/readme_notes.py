"""Hand-written "What the log shows" notes for readme_sections.py (written after reading the logs)."""

COMMON_BUFFERED = """stdout block-buffered (a file or a pipe): the dict lines come in bursts when tqdm flushes stdout
  (each time it creates an eval bar) and at exit; the first record of a burst is glued after a bar segment on the
  same line."""

NOTES = {
    "reuse_shorter": """
- Run 1 (300 steps, eval every 50, seed 42) finishes normally: `reuse_shorter.part1.log` is the whole file as it
  was just before run 2 started (summary record last, ends with `\\n`). Then the same shell redirect `> train.log`
  truncates the file to 0 bytes and run 2 (100 steps, seed 43, warmup 10) writes it from scratch:
  `reuse_shorter.log` contains ONLY run 2 (bars `/100`, loss back at 4.738 at step 5, summary at step 100).
- `reuse_shorter.part1.chunks.tsv`: growth of run 1 (t = seconds since run 1's launch).
  `reuse_shorter.chunks.tsv`: growth of run 2 from offset 0 (t = seconds since run 2's launch; the shell truncated
  the 21,609-byte file at t ≈ 0, several seconds before run 2's first byte at 4.7 s). To replay live: write part1
  by its chunks, truncate the file to 0, then apply `reuse_shorter.chunks.tsv`. During the replay the file is
  always shorter than part1 (8,864 < 21,609 bytes): the "new run shorter than the old one" case of issue 11.
- """
    + COMMON_BUFFERED
    + """
- truth: `runs[0]` = run 1 (`in_final_log: false`, its print check is against part1.log), `runs[1]` = run 2;
  top-level `log_history`/`facts` = run 2.""",
    "append_two_runs": """
- Two different runs appended with `>> train.log 2>&1` (the file did not exist before run 1): run 1 = 200 steps
  linear 5e-4 warmup 20 seed 1; run 2 = 150 steps cosine 3e-4 warmup 15 seed 2; eval every 50 for both.
- Boundary: run 1's summary line `{'train_runtime': ...}` + `\\n`, then run 2's first bar `\\r  0%|   | 0/150`
  with the torch UserWarning glued to it. No other marker: the step counter and epoch restart at 5 / 0.05,
  the loss jumps back up (3.617 at step 200 → 4.735 at step 5), the bar total changes /200 → /150.
- `append_two_runs.chunks.tsv` covers the whole file on ONE time axis (t = seconds since run 1's launch;
  run 2 launched at 105.2 s, 0.2 s after run 1 exited). Run 1 was slow (2 it/s, the 2 cores were shared).
- """
    + COMMON_BUFFERED,
    "killed_sigkill": """
- 300-step run, block-buffered `> train.log 2>&1`; `capture.py` sent SIGKILL to the python process the moment the
  truth callback had written the step-150 train record (24.5 s). No traceback, no summary, no `Killed` text in the
  log (the shell prints `Killed` on its own stderr, the terminal, not into the file). Shell exit code 137.
- The log ends with the bar `\\r 50%|█████     | 150/300 [00:20<00:23,  6.36it/s]` and NO final newline.
- What it does NOT contain: the truth has 32 records (30 train steps 5–150, eval 50 and 100), the log only 21:
  train records up to step 100 and the eval of step 50. The eval record of step 100 and the train records of steps
  105–150 were still in Python's stdout buffer and died with the process (status `missing` in
  `print_check_records`). The last dict reached the file at 8.4 s (flushed when the step-100 eval bar was created);
  from 8.4 s to the kill at 24.5 s only stderr bars were written.
- `killed_sigkill.chunks.tsv`: last growth at 24.524 s, i.e. the file's mtime is the moment of the kill.""",
    "disable_tqdm_banner": """
- `disable_tqdm=True` → PrinterCallback, no bars, no `\\r`. `--log_level info` → transformers INFO lines on stderr
  (prefixed `[transformers] `), unbuffered, so they are in the file at once: the banner
  `[transformers]   Num Epochs = 3`, `Num update steps per epoch = 100`, `Total optimization steps = 300`,
  then one `***** Running Evaluation *****` block per eval (6), then `Training completed. ...`.
- stdout is block-buffered and the 37 records total only ~3.6 KB (< the 8 KB buffer), so NO dict line reaches the file
  until the process exits: `disable_tqdm_banner.chunks.tsv` shows the banner at 6.5–7.2 s, the eval banners one by
  one (32.6–47.8 s), and all 37 records in one write of 3,593 bytes at 47.842 s. A live monitor sees the banner and
  the eval blocks and no metric at all until the end. In the finished file all records follow all banners.""",
    "tee_run": """
- `2>&1 | tee train.log`: the pipe buffers stdout like a file (bursts), tee copies bytes unchanged (it also printed
  them to the capture's stdout, discarded). 200 steps cosine 5e-4 warmup 20, eval every 50, healthy run: loss
  4.735 → 3.650, eval loss 4.29 → 3.62. Records complete in the file at 7.6, 11.3, 19.0, 22.1 s (one burst per eval
  bar, the last at exit); process exit at 23.4 s.""",
    "tokens_checkpoints": """
- `include_num_input_tokens_seen=True` (5.x: the field takes `"all"`/`"non_padding"`/`"no"` or a bool,
  `true` → `"all"`), checkpoints every 50 steps, eval every 50, `--log_level info`, 200 steps (2 epochs of 100).
- In transformers 5.25 every TRAIN record then carries `num_input_tokens_seen` (an int, printed unquoted:
  `'num_input_tokens_seen': 5120`) AND `train_runtime` and `train_tokens_per_second` (floats, quoted `.4g`,
  e.g. `'train_tokens_per_second': '1.526e+04'`). So `train_runtime` in a record does NOT mean the summary here;
  the summary is the record with `train_loss`. Eval records carry `num_input_tokens_seen` too.
- INFO lines: the banner (`Num Epochs = 2`, `Total optimization steps = 200`), `***** Running Evaluation *****`,
  `Saving model checkpoint to out/checkpoint-50` (…100, 150, 200), `Configuration saved in ...`,
  `Model weights saved in out/checkpoint-50/model.safetensors`, a `Writing model shards` bar per save,
  and the torch `pin_memory` UserWarning 4 times (at the start, then again
  later between saves; the runs without checkpoints print it once per run).
- `tokens_checkpoints.trainer_state.json` = `out/checkpoint-200/trainer_state.json`: its `log_history` equals the
  truth's first 24 records (the summary is logged after the last save).""",
    "unbuffered_killed_restart": """
- `python -u` (unbuffered): every record is in the file the moment it is logged (one write per line, no bursts).
- Run 1 (300 steps) was killed with SIGKILL the moment the step-60 train record was in the truth (5.6 s);
  `unbuffered_killed_restart.part1.log` is the file at that moment: 13 records, all present (train 5–60, eval 50),
  ending with the bar `\\r 20%|██        | 60/300 [00:01<00:07, 30.43it/s]` without a final newline.
- Run 2: the same command again from scratch (`> train.log` truncates): `unbuffered_killed_restart.log` holds only
  run 2 (finished, 300 steps, 67 records). Its train records equal run 1's for steps 5–60 (same seed,
  deterministic); the eval of step 50 differs only in `eval_runtime` / `eval_*_per_second`.
- Chunks as for `reuse_shorter`: part1 chunks (run 1, t from its launch), then the final chunks from offset 0
  (t from run 2's launch). Here the new run is LONGER than the killed one.""",
    "three_runs_append": """
- Three short runs `>> train.log 2>&1` into one file (new file): 60 steps lr 1e-3 seed 11, 80 steps lr 5e-4 seed 12,
  40 steps lr 2e-3 seed 13; linear with warmup = 10 % of the steps; logging 5, eval every 20. Each ends with its
  summary record; each starts with a new bar (`0/60`, `0/80`, `0/40`) and the torch UserWarning.
- `three_runs_append.chunks.tsv` covers the whole file on one time axis (t since run 1's launch).
- """
    + COMMON_BUFFERED,
}


# The README text before the sections (readme_sections.py --intro prints it first).
INTRO = """
# Runs and liveness fixtures (issue 11)

Eight more scenarios, made for "Runs and liveness": a log reused by a shorter run, runs appended to one file, runs
killed with SIGKILL (block-buffered and `python -u`), `disable_tqdm=True` with the INFO banner, `| tee`, and
`include_num_input_tokens_seen` with checkpoints. Same method as above (real Trainer on CPU, tiny GPT-2 from
`GPT2Config`, random init, synthetic progressions/motifs, `HF_HUB_OFFLINE=1`, `env -u PYTHONUNBUFFERED`), but the
scripts are in this repo: `scripts/real_logs/`.

- `train.py`: the tiny GPT-2 (vocab 128, seq 32, n_embd 128, 2 layers, 4 heads, 417,280 parameters; 1,600 train
  / 128 eval sequences; batch 16 → 100 steps per epoch). Every `TrainingArguments` field is a flag
  (`HfArgumentParser`), plus `--truth PATH`.
- `truth_callback.py`: appends one JSON line per event to `--truth` and flushes each line (survives SIGKILL):
  `train_begin` (run facts: versions, max_steps, args), `log` (= `state.log_history[-1]`, with `step`),
  `train_end`, and `checked` (written by train.py after `train()`: the recorded list equals `state.log_history`).
- `capture.py`: runs the command under `bash -c` with the user's own redirect (`> train.log 2>&1`,
  `>> train.log 2>&1`, `2>&1 | tee train.log`), polls the log's size every ~2 ms into `.chunks.tsv`, and
  optionally sends SIGKILL to the python process once the truth has the train record of step N.
- `make_all.py`: regenerates all eight (`python3 scripts/real_logs/make_all.py [name ...]`, work dirs in
  `/work/real_runs/<name>`; `--rebuild` rebuilds the fixtures from existing work dirs without training).
  `readme_sections.py` + `readme_notes.py` print the sections below from the truth files.
- Venv (outside the repo): `python3 -m venv /work/mlenv && /work/mlenv/bin/pip install torch==2.13.0 &&
  /work/mlenv/bin/pip install transformers==5.25.0 accelerate` → torch 2.13.0+cpu, transformers 5.25.0,
  accelerate 1.16.0, numpy 2.4.6, safetensors 0.8.0 (Python 3.11.7).
- The 2 cores were shared with other work while these ran: speeds (it/s, `train_runtime`) vary a lot between and
  within runs; they are real but not reproducible.

Differences from the truth format above:

- `runs`: one entry per training process, in the order they ran: `index` (1-based), `command` (exactly as run),
  `redirect`, `python_unbuffered`, `in_final_log` (false for a run whose output a later `>` truncated away),
  `ended` (`how`: `finished` or `killed`; for killed runs `signal`, `killed_after_truth_record_of_step`,
  `last_record_step_in_truth`, `log_size_at_kill`, `t_kill_s`), `total_steps`, `run_info`, `log_history`
  (up to the kill for killed runs: there is no final state to compare with), `facts`, `capture` (from capture.py:
  launch/exit times on the chunks time axis, exit code, log size before/after), `print_check` / `print_check_records`.
- Top-level `log_history`, `total_steps`, `run_info`, `facts` = the latest run; `runs_in_final_log` = which runs'
  output the final `.log` holds; `file_facts` counts records of those runs found verbatim in the final log.
- `print_check_records[].status`: `intact` (the printed text is in the file, after the previous record's),
  `out_of_order`, or `missing` (never reached the file). `complete_in_file_at_s` is on the `.chunks.tsv` time axis.
- "train record" = has `loss` (even when it also has `train_runtime`, see `tokens_checkpoints`); "summary" = has
  `train_loss`.
- `.chunks.tsv` as above (`t_seconds  byte_offset  n_bytes`). For `>>` scenarios one file covers all runs on one time
  axis (t since the first run's launch). For `reuse_shorter` and `unbuffered_killed_restart` there are two:
  `<name>.part1.chunks.tsv` (run 1, t since its launch) and `<name>.chunks.tsv` (the truncating run, offsets from 0,
  t since its launch). No `.timing.tsv` for these.

Fixtures: `reuse_shorter`, `append_two_runs`, `killed_sigkill`, `disable_tqdm_banner`, `tee_run`, `tokens_checkpoints`,
`unbuffered_killed_restart`, `three_runs_append`

"""
