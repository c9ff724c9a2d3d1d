"""Everything that is not drawing. The stages, in the order a byte travels through them:

1. :mod:`~tui_monitor.core.follow`: bytes of a growing log file, file resets (truncation,
   rotation, deletion), and the wake-ups (inotify or polling) that drive reading.
2. :mod:`~tui_monitor.core.parse`: bytes in, typed items out (metric records, progress,
   banner facts, crash events, rewinds), behind the `LogParser` facade.
3. :mod:`~tui_monitor.core.state`: a `Run` per run, fed by ``apply(items)``: exact counts and
   statistics, progress, events and numeric series; read through a frozen `RunSnapshot`.
4. :mod:`~tui_monitor.core.analysis`: pure functions over one run's snapshot: typed findings
   (codes and parameters, no prose) and the verdict (`analyse` -> `Health`).
5. :mod:`~tui_monitor.core.text`: the words: the bilingual catalogue that renders findings,
   labels and status words, the number/duration formatter, and the glossary.

The wiring: :mod:`~tui_monitor.core.pipeline` (parse -> state, and whole-file reads) and
:mod:`~tui_monitor.core.monitor` (follow -> pipeline, snapshots for readers). The outputs:
:mod:`~tui_monitor.core.report` (``trainmon report``), :mod:`~tui_monitor.core.headless`
(``trainmon tail --plain/--json``) and :mod:`~tui_monitor.core.demo`. The Textual app in
:mod:`tui_monitor.ui` only presents what these give it.

Never imports textual or rich (tests/test_core_imports.py checks it in a fresh subprocess).
"""
