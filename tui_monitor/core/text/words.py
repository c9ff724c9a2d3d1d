"""Words shown to a person, in English and Russian: status words, labels, key descriptions.

Data only (stdlib). Every status the screen shows is a word (plus a symbol), never a
colour alone, so ``NO_COLOR`` and 16-colour terminals stay readable; this module holds
those words. The reason sentences are in :mod:`tui_monitor.core.text.reasons`, the
metric explanations in :mod:`tui_monitor.core.text.glossary`.

One Russian word per idea: LR warmup is «прогрев» everywhere (the reasons too), and a
schedule's name is translated once, here (``WORDS``, by transformers' spelling).
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("en", "ru")
"""Supported UI languages."""

WORDS: dict[str, tuple[str, str]] = {
    # verdicts
    "healthy": ("healthy", "норма"),
    "warning": ("warning", "внимание"),
    "critical": ("critical", "критично"),
    "unknown": ("no data", "нет данных"),
    "no_data": ("no data", "нет данных"),
    # run / file states
    "following": ("following", "слежу"),
    "polling": ("polling", "опрос"),
    "waiting": ("waiting for file", "жду файл"),
    "reading": ("reading the file", "читаю файл"),
    "deleted": ("file deleted", "файл удалён"),
    "directory": ("is now a directory; waiting for the file", "теперь каталог; жду файл"),
    "not_regular": ("is not a regular file now; waiting for the file", "теперь не обычный файл; жду файл"),
    "unreadable": ("unreadable", "нет доступа"),
    "remote": ("remote", "удалённый"),
    "connecting": ("connecting over ssh", "подключаюсь по ssh"),
    "lost": ("connection lost, reconnecting", "связь потеряна, переподключаюсь"),
    "running": ("running", "идёт"),
    "stalled": ("stalled", "застрял"),
    "finished": ("finished", "завершён"),
    "crashed": ("crashed", "упал"),
    "superseded": ("superseded", "прерван"),
    "ended": ("ended without finishing", "закончился незавершённым"),
    "paused": ("paused", "пауза"),
    "catching_up": ("catching up", "догоняю"),
    "recent_window": ("recent window only", "только последние записи"),
    # loss trend
    "decreasing": ("decreasing", "падает"),
    "plateau": ("plateau", "плато"),
    "rising": ("rising", "растёт"),
    "diverging": ("diverging", "расходится"),
    # LR phase
    "warmup": ("warmup", "прогрев"),
    "hold": ("hold", "держится"),
    "constant": ("constant", "постоянный"),
    "decay": ("decay", "затухание"),
    "done": ("finished", "закончен"),
    # grad status
    "exploding": ("exploding", "взрыв"),
    "vanishing": ("vanishing", "затухает"),
    "zero": ("zero", "ноль"),
    "nonfinite": ("non-finite", "NaN/inf"),
    "absent": ("absent", "нет"),
    # eval
    "best": ("best", "лучший"),
    "improving": ("improving", "улучшается"),
    "worse": ("worse", "хуже"),
    "overfitting": ("overfitting", "переобучение"),
    # generic trends for other metrics
    "falling": ("falling", "падает"),
    "flat": ("flat", "ровно"),
    "up": ("rising", "растёт"),
    "new": ("new", "новая"),
    "spike": ("spike", "спайк"),
    "nan": ("NaN", "NaN"),
    "few_points": ("few points", "мало точек"),
    "unclear": ("unclear", "неясно"),
    # the eval − train gap
    "widening": ("widening", "растёт"),
    "narrowing": ("narrowing", "сокращается"),
    "steady": ("steady", "стабилен"),
    "slowing": ("slowing down", "замедляется"),
    # LR schedules (names as transformers spells them)
    "linear": ("linear", "линейный"),
    "cosine": ("cosine", "косинусный"),
    "cosine_with_restarts": ("cosine with restarts", "косинус с перезапусками"),
    "constant_with_warmup": ("constant after warmup", "постоянный после прогрева"),
    "warmup_stable_decay": ("warmup-stable-decay", "прогрев-плато-спад"),
    "inverse_sqrt": ("inverse sqrt", "обратный корень"),
}
"""Status words by key: ``(english, russian)``."""

LABELS: dict[str, tuple[str, str]] = {
    "step": ("step", "шаг"),
    "epoch": ("epoch", "эпоха"),
    "of": ("of", "из"),
    "eta": ("ETA", "осталось"),
    "elapsed": ("elapsed", "прошло"),
    "min": ("min", "мин"),
    "max": ("max", "макс"),
    "best": ("best", "лучший"),
    "at": ("at", "на"),
    "at_step": ("at step {n}", "на шаге {n}"),
    "at_epoch": ("at epoch {n}", "на эпохе {n}"),
    "peak": ("peak", "пик"),
    "median": ("median", "медиана"),
    "last": ("last", "посл."),
    "smoothed": ("smoothed", "сглаж."),
    "raw": ("raw", "сырые"),
    "linear_y": ("linear y", "линейная ось"),
    "log_y": ("log y", "лог. ось"),
    "whole": ("whole run", "весь запуск"),
    "recent": ("recent", "последние"),
    "steps": ("steps", "шаги"),
    "records": ("records", "записи"),
    "verdict": ("verdict", "вердикт"),
    "events": ("events", "события"),
    "glossary": ("glossary", "глоссарий"),
    "metrics": ("metrics", "метрики"),
    "no_events": ("no events yet", "событий пока нет"),
    "no_reasons": ("nothing to report yet", "пока нечего сказать"),
    "no_metrics": ("waiting for the first metric record…", "жду первую запись метрик…"),
    "nonfinite": ("non-finite", "не числа"),
    "too_small": (
        "Terminal too small: {w}×{h}.\ntrainmon needs at least {mw}×{mh}.\nEnlarge the window, or press q to quit.",
        "Терминал слишком мал: {w}×{h}.\nНужно хотя бы {mw}×{mh}.\nУвеличьте окно или нажмите q для выхода.",
    ),
    "help_title": ("trainmon — keys", "trainmon — клавиши"),
    "smoothing_off": ("smoothing off", "без сглаживания"),
    "it_s": ("it/s", "ит/с"),
    "read": ("read", "прочитано"),
    "in_pass": ("{pct}% into pass {n}", "{pct}% прохода №{n}"),
    "pass_done": ("pass {n} done", "проход №{n} завершён"),
    "of_steps": ("of steps", "шагов"),
    "of_epochs": ("of epochs", "эпох"),
    "raw_only": ("raw only", "только сырые"),
    "more": ("+{n} more", "ещё {n}"),
    # events pane (the analysis' findings placed at their step)
    "ev_warmup_done": ("warmup finished, LR {lr}", "прогрев закончен, LR {lr}"),
    "ev_loss_spike": ("loss spike{ratio}: {value}", "всплеск loss{ratio}: {value}"),
    "ev_first_nonfinite": ("first {value} in {metric}", "первое значение {value} в {metric}"),
    "ev_new_best": ("new best {metric} {value}", "новый лучший {metric} {value}"),
    "ev_overfitting": ("overfitting: {metric} worse since", "переобучение: {metric} хуже с этого места"),
    "ev_crashed": ("crashed: {line}", "упал: {line}"),
    "ev_finished": ("finished", "завершён"),
    "ev_stalled": ("stalled: no record for {silence}", "застрял: нет записей {silence}"),
    "ev_checkpoint": ("last checkpoint saved: {path}", "последний чекпоинт сохранён: {path}"),
    "ev_run_start": ("run {n} starts: {reason}", "запуск {n} начинается: {reason}"),
    "ev_ended": ("ended without finishing: the writer exited", "закончился незавершённым: процесс вышел"),
    # report text and headless lines
    "report_title": ("trainmon report: {path}", "отчёт trainmon: {path}"),
    "report_counts": (
        "format {format}: {train} train, {eval} eval, {summary} summary records",
        "формат {format}: записей обучения {train}, оценки {eval}, итоговых {summary}",
    ),
    "report_skipped": (", {n} skipped", ", пропущено {n}"),
    "report_resumed": (", resumed {n}x", ", продолжен {n} раз"),
    "report_progress": ("progress: {where}", "ход: {where}"),
    "report_columns": (
        "metric count first last min max nonfinite",
        "метрика число первое последнее мин макс не_числа",
    ),
    "report_events": ("events:", "события:"),
    "report_runs": ("runs in this log: {n} (the latest is judged above)", "запусков в логе: {n} (выше — о последнем)"),
    "report_run_counts": ("{train} train, {eval} eval", "обучения {train}, оценки {eval}"),
    "line_reset": ("-- file {reason}", "-- файл {reason}"),
    "run_starts": ("run {n} starts: {reason}", "запуск {n} начинается: {reason}"),
    "run_of": ("run {n}/{total}", "запуск {n}/{total}"),
    "run_earlier": ("earlier run, read-only", "прошлый запуск, только просмотр"),
    "runs_title": ("runs in this log", "запуски в этом логе"),
    "runs_hint": (
        "enter: show the run · r or esc: close · the latest is followed live",
        "enter: показать запуск · r или esc: закрыть · последний идёт вживую",
    ),
    "runs_latest": ("latest", "последний"),
    "runs_steps": ("step {step}", "шаг {step}"),
    "under_run": ("run {n} under it", "под ним запуск {n}"),
    "under_file": ("{file} under it", "под ним {file}"),
    "report_writer": ("writer: pid {pid} {command}", "пишет: pid {pid} {command}"),
    "report_writer_gone": (
        "writer: pid {pid} {command} exited while this was read",
        "писал: pid {pid} {command}, вышел во время чтения",
    ),
    "report_baseline": ("compared with: {file}, run {n}", "сравнение с: {file}, запуск {n}"),
    "history_skipped": (
        "history skipped (--from-end)",
        "история пропущена (--from-end)",
    ),
    "waiting_no_dir": (
        "waiting for file: its directory does not exist",
        "жду файл: его каталога нет",
    ),
    "run_reason_banner": ("the training banner again", "снова баннер обучения"),
    "run_reason_after_summary": (
        "training went on after the summary record",
        "обучение продолжилось после итоговой записи",
    ),
    "run_reason_restart": ("the steps started again from the beginning", "шаги снова начались с начала"),
    "run_reason_new_file": (
        "the log was truncated or replaced and the steps do not go on",
        "лог обрезан или заменён, и шаги не продолжаются",
    ),
    "notify_head": ("{file}, run {n}: {head}", "{file}, запуск {n}: {head}"),
    "notify_run_started": ("run {n} started", "запуск {n} начался"),
    "notify_flapping": (
        "the verdict changed {n} times within {window} (now {verdict}); further changes are held until it settles",
        "вердикт сменился {n} раз за {window} (сейчас {verdict}); следующие смены придержаны, пока он не устоится",
    ),
    "notify_failed": ("notify failed", "уведомление не отправлено"),
    "line_notify_failed": ("-- notify failed: {error}", "-- уведомление не отправлено: {error}"),
    "line_verdict": ("-- verdict {verdict}: {reason}", "-- вердикт {verdict}: {reason}"),
    # chart
    "chart_no_values": ("no values yet", "значений пока нет"),
    "chart_no_finite": ("no finite values yet", "конечных значений пока нет"),
    # help screen
    "help_note": (
        "Smoothing is TensorBoard's debiased EMA.\n↑↓ PgUp PgDn scroll this help; any other key closes it.",
        "Сглаживание — EMA с поправкой, как в TensorBoard.\n↑↓ PgUp PgDn листают справку, другие клавиши закрывают её.",
    ),
    "no_records": ("no metric records in this file", "в файле нет записей с метриками"),
    "unreadable_fragments": (
        "{n} fragments looked like metrics but could not be read",
        "фрагментов, похожих на метрики, но не прочитанных: {n}",
    ),
    "reading_second_logger": (
        "each record was printed again by a second logger (its copies are not counted)",
        "каждая запись напечатана ещё раз вторым логгером (копии не учтены)",
    ),
    "reading_two_writers": (
        "two processes printed every record (each record is counted once)",
        "каждую запись напечатали два процесса (каждая учтена один раз)",
    ),
    "rewind_step": (
        "run restarted or resumed: records from step {step} on replace the earlier ones",
        "запуск перезапущен или продолжен: записи с шага {step} заменяют прежние",
    ),
    "rewind_epoch": (
        "run restarted or resumed: records from epoch {epoch} on replace the earlier ones",
        "запуск перезапущен или продолжен: записи с эпохи {epoch} заменяют прежние",
    ),
    "steps_per_s": ("{n} steps/s", "{n} шаг/с"),
    "raw_title": ("raw log · {path} · {n} lines", "лог как есть · {path} · строк: {n}"),
    "raw_end": ("its end, following", "его конец, слежу"),
    "raw_around": ("around the event: {event}", "вокруг события: {event}"),
    "raw_matches": ("lines matching /{pattern}/", "строки, подходящие под /{pattern}/"),
    "raw_matches_recent": (
        "lines matching /{pattern}/, in the latest part of the file",
        "строки, подходящие под /{pattern}/, в последней части файла",
    ),
    "raw_empty": ("(no lines)", "(строк нет)"),
    "raw_keys": (
        " / filter   esc close   end the end, following   ↑↓ pgup pgdn home ←→ scroll",
        " / фильтр   esc закрыть   end конец, слежу   ↑↓ pgup pgdn home ←→ прокрутка",
    ),
    "raw_filter_hint": ("regular expression, e.g. loss|Error", "регулярное выражение, напр. loss|Error"),
    "raw_bad_regex": ("not a regular expression: {error}", "не регулярное выражение: {error}"),
    "s_per_step": ("{n} s/step", "{n} с/шаг"),
    "samples_per_s": ("{n} samples/s", "{n} прим./с"),
    "tokens_seen": ("tokens", "токенов"),
    "gap": ("gap", "разрыв"),
}
"""Labels by key: ``(english, russian)``."""

KEYS: dict[str, tuple[str, str]] = {
    "quit": ("quit", "выход"),
    "help": ("help", "справка"),
    "glossary": ("glossary", "глоссарий"),
    "metric": ("metric", "метрика"),
    "log": ("log-y", "лог. ось"),
    "smooth": ("smoothing", "сглаживание"),
    "window": ("whole/recent", "весь/последние"),
    "pause": ("pause", "пауза"),
    "runs": ("runs", "запуски"),
    "next_metric": ("next metric", "следующая метрика"),
    "prev_metric": ("previous metric", "предыдущая метрика"),
    "tab_n": ("tab N", "вкладка N"),
    "tabs": ("tabs", "вкладки"),
    "verdict": ("verdict ↓", "вердикт ↓"),
    "raw": ("raw log", "лог"),
    "event": ("event", "событие"),
}
"""Key descriptions for the footer and the help screen: ``(english, russian)``."""


def word(key: str, lang: str = "en") -> str:
    """Return the status word for ``key`` in ``lang``; an unknown key is returned as is."""
    pair = WORDS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "ru" else pair[0]


def label(key: str, lang: str = "en") -> str:
    """Return the label for ``key`` in ``lang``; an unknown key is returned as is."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "ru" else pair[0]


HELP_TEXTS: dict[str, tuple[str, str]] = {
    "quit": ("quit (ctrl+c: exit status 130)", "выход (ctrl+c: код выхода 130)"),
    "help": ("this help", "эта справка"),
    "tabs": ("previous / next file (tab; with several files)", "предыдущий / следующий файл (при нескольких файлах)"),
    "tab_n": ("go to file N (tab N; with several files)", "файл номер N (при нескольких файлах)"),
    "metric": ("previous / next metric: the chart follows", "предыдущая / следующая метрика: график за ней"),
    "glossary": (
        "glossary: the focused metric in plain words (open/close)",
        "глоссарий: метрика простыми словами (откр./закр.)",
    ),
    "glossary_scroll": ("glossary: page down / up", "глоссарий: страница вниз / вверх"),
    "verdict": ("verdict: page down (then back to the top) / up", "вердикт: страница вниз (потом снова вверх) / вверх"),
    "raw": (
        "raw log: at the event (crash, first NaN, reset) or the end",
        "лог: у события (падение, первый NaN, сброс) или в конце",
    ),
    "event": (
        "events: next / previous one; t opens the raw log at it",
        "события: следующее / предыдущее; t открывает лог у него",
    ),
    "raw_filter": (
        "raw log: filter by a regular expression; esc: close",
        "лог: фильтр по регулярному выражению; esc: закрыть",
    ),
    "page": (
        "metrics list: page up / down (home / end too)",
        "список метрик: страница вверх / вниз (и home / end)",
    ),
    "log": ("chart y-axis: linear / log", "ось Y графика: линейная / логарифмическая"),
    "smooth": ("chart smoothing: 0.6 → 0.9 → 0.99 → off (raw only)", "сглаживание графика: 0.6 → 0.9 → 0.99 → выкл"),
    "window": ("chart: whole run / recent points", "график: весь запуск / последние точки"),
    "pause": ("pause the display (reading the log goes on)", "пауза экрана (чтение лога продолжается)"),
    "runs": (
        "the log's runs: view an earlier one (read-only) or the latest",
        "запуски лога: прошлый (только просмотр) или последний",
    ),
}
"""What each key does, for the help screen (``?``): ``(english, russian)``."""


def help_text(key: str, lang: str = "en") -> str:
    """Return the help screen's description of a key in ``lang``."""
    pair = HELP_TEXTS.get(key) or KEYS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "ru" else pair[0]


SHORT_KEYS: dict[str, tuple[str, str]] = {
    "glossary": ("gloss.", "глосс."),
    "smooth": ("smooth", "сглаж."),
    "window": ("window", "окно"),
    "log": ("log-y", "лог"),
    "metric": ("metric", "метр."),
    "help": ("help", "справка"),
    "tabs": ("tabs", "вкл."),
    "verdict": ("verd.↓", "верд.↓"),
    "raw": ("raw", "лог"),
}
"""Shorter key descriptions the footer falls back to when the full ones do not fit."""


VERDICT_WORDS: dict[str, tuple[str, str]] = {
    "healthy": ("HEALTHY", "НОРМА"),
    "warning": ("WARNING", "ВНИМАНИЕ"),
    "critical": ("CRITICAL", "КРИТИЧНО"),
    "unknown": ("NO DATA", "НЕТ ДАННЫХ"),
    "no_data": ("NO DATA", "НЕТ ДАННЫХ"),
}
"""The verdict as one word in capitals, the same on every screen and in ``trainmon report``."""


def verdict_word(verdict: str, lang: str = "en") -> str:
    """Return the verdict (``healthy``/``warning``/``critical``/``unknown``) as its capital word."""
    pair = VERDICT_WORDS.get(verdict)
    if pair is None:
        return verdict.upper()
    return pair[1] if lang == "ru" else pair[0]


SEVERITY_MARKS: dict[str, str] = {"ok": "✓", "info": "·", "warning": "!", "critical": "✗"}
"""A reason's severity as one plain-text mark (``trainmon report``): readable without colour."""


def key_text(key: str, lang: str = "en", *, short: bool = False) -> str:
    """Return the description of an app key binding in ``lang`` (``short``: the footer's
    fallback when the full words do not fit)."""
    pair = SHORT_KEYS.get(key) if short else None
    pair = pair or KEYS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "ru" else pair[0]
