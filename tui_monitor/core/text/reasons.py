"""The reason sentences: one template per reason code (and variant) and language, rendered here.

The analysis gives a finding as a code, a variant and typed parameters (numbers, names,
places); :func:`reason_text` picks the template and formats each parameter at render time
through :mod:`~tui_monitor.core.text.fmt`, so a number reads the same in the verdict, the
report and on the screen. Templates are data: ``str.format`` fields with a format spec
that says how to show the value:

========================  ================================================================
``{start:num}``           a metric value (:func:`~tui_monitor.core.text.fmt.fmt_num`)
``{first:epoch}``         an epoch, 3 significant digits as the status bar shows it
``{change:change}``       a relative change, ``−38 %``
``{fraction:percent}``    a fraction done, ``46 %``
``{eta:dur}``             seconds as ``4:05``
``{at:place}``            `` at step 110`` / `` at epoch 1.56`` (leading space), or nothing
``{trend:word}``          a status word of the catalogue in the language
``{schedule:sched}``      `` (cosine)`` in the language, or nothing for an unknown schedule
``{rate:rate}``           ``2.5 steps/s``, or ``4.2 s/step`` when slower than 0.1 steps/s
``{free:bytes}``          a size, ``4.8 GiB``
``{eta:?eta}``            the fragment ``eta`` of :data:`FRAGMENTS` when ``eta`` is not
                          None, else nothing (for the optional parts of a sentence)
``{factor:.0f}``          any other spec is Python's own
========================  ================================================================

Stdlib only: a reason and a place are read through the small protocols below, so this
module does not import the analysis.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any, Protocol

from tui_monitor.core.text.fmt import fmt_bytes, fmt_change, fmt_duration, fmt_num, fmt_percent
from tui_monitor.core.text.words import label, word

__all__ = ["FRAGMENTS", "REASONS", "PlaceLike", "ReasonLike", "place_text", "reason_text", "template_key"]


class PlaceLike(Protocol):
    """Where a finding happened: ``x`` is a global step when ``is_step``, else a 0-based record
    ordinal, which is never shown: the point's ``epoch`` is (or nothing, without one)."""

    @property
    def x(self) -> float: ...

    @property
    def is_step(self) -> bool: ...

    @property
    def epoch(self) -> float | None: ...


class ReasonLike(Protocol):
    """What :func:`reason_text` reads of a finding (``analysis.verdict.Reason`` has it)."""

    @property
    def code(self) -> str: ...

    @property
    def variant(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...


REASONS: dict[str, tuple[str, str]] = {
    # -- loss ------------------------------------------------------------------------------------
    "loss_nonfinite.now": (
        "loss is {value:num} (first{at:place}, {count}× in all): training has diverged",
        "loss равен {value:num} (впервые{at:place}, всего {count}×): обучение разошлось",
    ),
    "loss_diverged": (
        "loss is {value:num}{at:place}: training has diverged",
        "loss равен {value:num}{at:place}: обучение разошлось",
    ),
    "loss_nonfinite.earlier": (
        "loss was {value:num}{at:place} ({count}×), finite since",
        "loss был {value:num}{at:place} ({count}×), дальше конечен",
    ),
    "loss_collapse": (
        "loss collapsed to exactly 0{at:place} after {before:num} ({count}× since): no learning, not progress",
        "loss упал ровно до 0{at:place} после {before:num} ({count}× с тех пор): это не обучение, а сбой",
    ),
    "loss_collapse.skipped": (
        "loss collapsed to exactly 0{at:place} after {before:num} ({count}× since); "
        "DeepSpeed skipped {skipped} of {steps} steps (fp16 overflow)",
        "loss упал ровно до 0{at:place} после {before:num} ({count}× с тех пор); "
        "DeepSpeed пропустил {skipped} из {steps} шагов (переполнение fp16)",
    ),
    "loss_zero_expected": (
        "loss is 0 on every record: normal for GRPO (the loss is ~0 by construction); watch reward and kl instead",
        "loss равен 0 во всех записях: для GRPO это нормально (loss ≈ 0 по построению); следите за reward и kl",
    ),
    "loss_few_points.one": (
        "loss {start:num} → {end:num} ({n} point): too few to judge",
        "loss {start:num} → {end:num} (точек: {n}): слишком мало, чтобы судить",
    ),
    "loss_few_points.many": (
        "loss {start:num} → {end:num} ({n} points): too few to judge",
        "loss {start:num} → {end:num} (точек: {n}): слишком мало, чтобы судить",
    ),
    "loss_unclear": (
        "loss has no clear trend yet: {start:num} → {end:num} over {n} noisy points",
        "у loss пока нет явного тренда: {start:num} → {end:num} за {n} шумных точек",
    ),
    "loss_diverging.after_fall": (
        "loss is diverging: it fell {start:num} → {low:num}, now {end:num} (×{factor:.1f})",
        "loss расходится: снизился {start:num} → {low:num}, теперь {end:num} (×{factor:.1f})",
    ),
    "loss_diverging.fit": (
        "loss is diverging: {start:num} → {end:num} ({change:change} fitted)",
        "loss расходится: {start:num} → {end:num} ({change:change} по тренду)",
    ),
    "loss_rising.whole_run": (
        "loss is rising over the run: {start:num} → {end:num} ({change:change} fitted)",
        "loss растёт за весь прогон: {start:num} → {end:num} ({change:change} по тренду)",
    ),
    "loss_rising.recent": (
        "loss is rising recently: {start:num} → {end:num} ({change:change} fitted)",
        "loss растёт в последнее время: {start:num} → {end:num} ({change:change} по тренду)",
    ),
    "loss_decreasing": (
        "loss fell {start:num} → {end:num} ({change:change})",
        "loss снизился {start:num} → {end:num} ({change:change})",
    ),
    "loss_decreasing.whole_run": (
        "over the whole run loss fell {start:num} → {end:num} ({change:change})",
        "за весь прогон loss снизился {start:num} → {end:num} ({change:change})",
    ),
    "loss_flattening": (
        "loss has levelled off recently near {level:num}",
        "в последнее время loss выровнялся около {level:num}",
    ),
    "loss_plateau": (
        "loss is flat near {level:num} over {n} points (fitted {change:change}): the model is not learning",
        "loss стоит около {level:num} уже {n} точек (по тренду {change:change}): модель не учится",
    ),
    "loss_plateau.warmup": (
        "loss is flat near {level:num} over {n} points (fitted {change:change}) during LR warmup: "
        "expected while the LR is small",
        "loss стоит около {level:num} уже {n} точек (по тренду {change:change}) во время прогрева LR: "
        "ожидаемо, пока LR мал",
    ),
    "loss_spike": (
        "loss spike{at:place}: {before:num} → {after:num}",
        "всплеск loss{at:place}: {before:num} → {after:num}",
    ),
    # -- rewards (GRPO) and DPO ------------------------------------------------------------------
    "reward_trend.decreasing": ("reward falling: {start:num} → {end:num}", "reward падает: {start:num} → {end:num}"),
    "reward_trend.plateau": ("reward flat: {start:num} → {end:num}", "reward стоит: {start:num} → {end:num}"),
    "reward_trend.rising": ("reward rising: {start:num} → {end:num}", "reward растёт: {start:num} → {end:num}"),
    "reward_trend.diverging": (
        "reward rising fast: {start:num} → {end:num}",
        "reward быстро растёт: {start:num} → {end:num}",
    ),
    "reward_trend.unknown": ("reward unclear: {start:num} → {end:num}", "reward неясно: {start:num} → {end:num}"),
    "dpo_degenerate": (
        "DPO looks degenerate: loss {loss:num} with rewards/accuracies {accuracy:num} and rewards/margins "
        "{margin:num} ({count} recent records): the policy separates pairs trivially (check β, data, "
        "reference model)",
        "DPO вырождается: loss {loss:num} при rewards/accuracies {accuracy:num} и rewards/margins "
        "{margin:num} ({count} последних записей): модель тривиально разделяет пары (проверьте β, данные, "
        "референсную модель)",
    ),
    # -- gradient --------------------------------------------------------------------------------
    "grad_nonfinite.now": (
        "grad_norm is {value:num} (first{at:place}, {count}× in all)",
        "grad_norm равен {value:num} (впервые{at:place}, всего {count}×)",
    ),
    "grad_nonfinite.now_loss_finite": (
        "grad_norm is {value:num} (first{at:place}, {count}× in all) while loss is still finite: "
        "logging_nan_inf_filter hides NaN losses, so the model has likely diverged",
        "grad_norm равен {value:num} (впервые{at:place}, всего {count}×) при конечном loss: "
        "logging_nan_inf_filter скрывает NaN в loss, модель, скорее всего, разошлась",
    ),
    "grad_nonfinite.earlier": (
        "grad_norm was non-finite{at:place} ({count}×), finite since (near {level:num})",
        "grad_norm был не конечен{at:place} ({count}×), дальше конечен (около {level:num})",
    ),
    "grad_zero": (
        "grad_norm is exactly 0: no gradient reaches the weights (frozen model, detached loss, or no "
        "trainable parameters)",
        "grad_norm ровно 0: градиент не доходит до весов (замороженная модель, оторванный loss или нет "
        "обучаемых параметров)",
    ),
    "grad_exploding": (
        "grad_norm is exploding: {level:num}, {factor:.0f}× its usual {usual:num}",
        "grad_norm взрывается: {level:num}, в {factor:.0f} раз выше обычного {usual:num}",
    ),
    "grad_vanishing": (
        "grad_norm is vanishing: {level:num}, down from {start:num}",
        "grad_norm затухает: {level:num}, было {start:num}",
    ),
    "grad_exploding.since": (
        "grad_norm exploding since step {since}: {onset:num} → now {now:num} ({factor:.0f}× usual)",
        "grad_norm взрывается с шага {since}: {onset:num} → сейчас {now:num} (в {factor:.0f} раз выше обычного)",
    ),
    "grad_exploding.from": (
        "grad_norm exploding from{at:place}: {onset:num} → now {now:num} ({factor:.0f}× usual)",
        "grad_norm взрывается начиная{at:place}: {onset:num} → сейчас {now:num} (в {factor:.0f} раз выше обычного)",
    ),
    "grad_ok": ("grad_norm stable near {level:num}", "grad_norm стабилен, около {level:num}"),
    "grad_ok.falling": ("grad_norm falling: {first:num} → {now:num}", "grad_norm снижается: {first:num} → {now:num}"),
    # -- learning rate ---------------------------------------------------------------------------
    "lr_warmup": ("LR warming up: {first:num} → {last:num}", "LR в прогреве: {first:num} → {last:num}"),
    "lr_hold": (
        "LR warmed up to {peak:num}{at:place} and holds there{schedule:sched}",
        "LR прогрет до {peak:num}{at:place} и держится{schedule:sched}",
    ),
    "lr_constant": ("LR constant at {peak:num}", "LR постоянный: {peak:num}"),
    "lr_decay": (
        "LR decaying{schedule:sched}: {peak:num} → {last:num}",
        "LR снижается{schedule:sched}: {peak:num} → {last:num}",
    ),
    "lr_decay.after_warmup": (
        "LR warmed up to {peak:num} and is now decaying{schedule:sched}: {last:num}",
        "LR прогрет до {peak:num} и теперь снижается{schedule:sched}: {last:num}",
    ),
    "lr_finished": (
        "LR decayed from its peak {peak:num} to {last:num}: end of the schedule{schedule:sched}",
        "LR снизился с пика {peak:num} до {last:num}: расписание завершено{schedule:sched}",
    ),
    "lr_stuck_zero": (
        "LR is stuck at 0{at:place} mid-run: the weights do not move",
        "LR застрял на 0{at:place} посреди обучения: веса не меняются",
    ),
    # -- evaluation ------------------------------------------------------------------------------
    "eval_improving": (
        "{metric} improving: {first:num} → {last:num} (best {best:num}{at:place})",
        "{metric} улучшается: {first:num} → {last:num} (лучший {best:num}{at:place})",
    ),
    "eval_overfitting": (
        "overfitting: {metric} rose {rises} evaluations in a row since its best {best:num}{at:place} "
        "(now {last:num}) while train loss keeps falling{gap:?gap}",
        "переобучение: {metric} растёт {rises} оценки подряд после лучшего {best:num}{at:place} "
        "(сейчас {last:num}), а train loss продолжает падать{gap:?gap}",
    ),
    "eval_overfitting.since_best": (
        "overfitting: {metric} worse than its best {best:num}{at:place} for {after} evaluations "
        "(now {last:num}) while train loss keeps falling{gap:?gap}",
        "переобучение: {metric} хуже лучшего {best:num}{at:place} уже {after} оценок "
        "(сейчас {last:num}), а train loss падает{gap:?gap}",
    ),
    "eval_worsening.since_best": (
        "{metric} worse than its best {best:num}{at:place}: now {last:num} (first {first:num})",
        "{metric} хуже лучшего {best:num}{at:place}: сейчас {last:num} (в начале {first:num})",
    ),
    "eval_flat": ("{metric} flat: {first:num} → {last:num}", "{metric} не меняется: {first:num} → {last:num}"),
    "eval_worsening": (
        "{metric} worse than at the start: {first:num} → {last:num} (best {best:num}{at:place})",
        "{metric} хуже, чем в начале: {first:num} → {last:num} (лучший {best:num}{at:place})",
    ),
    "eval_single": ("one evaluation so far: {metric} {last:num}", "пока одна оценка: {metric} {last:num}"),
    "eval_no_loss": ("evaluations report no loss", "оценки не сообщают loss"),
    # -- run state -------------------------------------------------------------------------------
    "run_crashed": ("crashed: {line}", "упал: {line}"),
    "error_after_finish": ("error after training finished: {line}", "ошибка после конца обучения: {line}"),
    "run_finished": (
        "finished ({why}{runtime:?runtime}){step:?where}",
        "завершён ({why}{runtime:?runtime}){step:?where}",
    ),
    "run_finished.summary": (
        "finished (summary record{runtime:?runtime}){step:?where}",
        "завершён (итоговая запись{runtime:?runtime}){step:?where}",
    ),
    "run_finished.last_step": (
        "finished (last step reached{runtime:?runtime}){step:?where}",
        "завершён (достигнут последний шаг{runtime:?runtime}){step:?where}",
    ),
    "run_finished.final_line": (
        "finished (final line at 100 %{runtime:?runtime}){step:?where}",
        "завершён (финальная строка 100 %{runtime:?runtime}){step:?where}",
    ),
    "run_stalled": (
        "stalled: no new record for {silence:dur}{usual:?usual}",
        "застрял: нет новых записей {silence:dur}{usual:?usual}",
    ),
    "run_running": ("running{step:?where}{rate:?rate}{eta:?eta}", "идёт{step:?where}{rate:?rate}{eta:?eta}"),
    "run_waiting": ("waiting for the first metric record", "ждём первую запись с метриками"),
    "no_data": (
        "no metric record{bytes:?bytes_read}{fragments:?fragments}",
        "нет записей с метриками{bytes:?bytes_read}{fragments:?fragments}",
    ),
    "run_ended": (
        "ended without finishing: the process writing the log exited and left no summary{step:?where}",
        "закончился незавершённым: процесс, писавший лог, вышел без итоговой записи{step:?where}",
    ),
    "run_superseded": (
        "ended without finishing: a new run started after it{step:?where}",
        "закончился незавершённым: после него начался новый запуск{step:?where}",
    ),
    # -- comparison with an earlier run or another log ---------------------------------------------
    "loss_compare.run": (
        "{metric} {now:num} vs {then:num} for run {run}{at:place} ({change:change})",
        "{metric} {now:num} против {then:num} у запуска {run}{at:place} ({change:change})",
    ),
    "loss_compare.file": (
        "{metric} {now:num} vs {then:num} for {file}{at:place} ({change:change})",
        "{metric} {now:num} против {then:num} у {file}{at:place} ({change:change})",
    ),
    "loss_compare.run_epoch": (
        "{metric} {now:num} vs {then:num} for run {run} at epoch {epoch:epoch} ({change:change})",
        "{metric} {now:num} против {then:num} у запуска {run} на эпохе {epoch:epoch} ({change:change})",
    ),
    "loss_compare.file_epoch": (
        "{metric} {now:num} vs {then:num} for {file} at epoch {epoch:epoch} ({change:change})",
        "{metric} {now:num} против {then:num} у {file} на эпохе {epoch:epoch} ({change:change})",
    ),
    # -- throughput and checkpoints --------------------------------------------------------------
    "throughput_slowdown.now": (
        "slowing down: steps/s fell to {ratio:percent} of its median since step {since} "
        "({usual:rate} → {slow:rate}); look at data loading, thermal throttling, swapping, another job on the GPU",
        "замедление: шагов/с упало до {ratio:percent} медианы с шага {since} "
        "({usual:rate} → {slow:rate}); проверьте загрузку данных, перегрев, подкачку, чужую задачу на GPU",
    ),
    "throughput_slowdown.recovered": (
        "slowed down between steps {since} and {until}: {ratio:percent} of its median steps/s for {seconds:dur} "
        "({usual:rate} → {slow:rate}), then recovered",
        "замедлялся между шагами {since} и {until}: {ratio:percent} медианы шагов/с в течение {seconds:dur} "
        "({usual:rate} → {slow:rate}), потом восстановился",
    ),
    "checkpoint_saved": (
        "last checkpoint at step {step} ({count} saved){age:?age}",
        "последний чекпойнт на шаге {step} (всего {count}){age:?age}",
    ),
    "checkpoint_saved.best": (
        "last checkpoint at step {step} ({count} saved){age:?age}; best: {best}{best_metric:?best_metric}",
        "последний чекпойнт на шаге {step} (всего {count}){age:?age}; лучший: {best}{best_metric:?best_metric}",
    ),
    "checkpoint_redo": (
        "last checkpoint at step {step}: {steps} steps{redo:?redo} to redo",
        "последний чекпойнт на шаге {step}: переделать {steps} шагов{redo:?redo}",
    ),
    "checkpoint_space": (
        "only {free:bytes} free where checkpoints are saved ({path}); the last one took {size:bytes}",
        "свободно лишь {free:bytes} там, где сохраняются чекпойнты ({path}); последний занял {size:bytes}",
    ),
    # -- epoch -----------------------------------------------------------------------------------
    "epoch_advancing": (
        "epoch is advancing: {first:epoch} → {last:epoch}",
        "эпоха растёт: {first:epoch} → {last:epoch}",
    ),
    "epoch_advancing.finished": (
        "epochs done: {first:epoch} → {last:epoch}",
        "пройдено эпох: {first:epoch} → {last:epoch}",
    ),
}
"""Reason sentences by template key (``code`` or ``code.variant``, see :func:`template_key`):
``(english, russian)``."""

FRAGMENTS: dict[str, tuple[str, str]] = {
    "where": (": step {step}{total:?of_total}", ": шаг {step}{total:?of_total}"),
    "bytes_read": (" in {bytes} bytes read", " в {bytes} прочитанных байтах"),
    "fragments": (
        "; {fragments} fragments looked like metrics but could not be read",
        "; {fragments} фрагментов похожи на метрики, но не читаются",
    ),
    "of_total": ("/{total} ({fraction:percent})", "/{total} ({fraction:percent})"),
    "runtime": (", train_runtime {runtime:dur}", ", train_runtime {runtime:dur}"),
    "usual": (" (usual interval {usual:dur})", " (обычно {usual:dur})"),
    "rate": (", {rate:rate}", ", {rate:rate}"),
    "eta": (", ETA {eta:dur}", ", осталось ~{eta:dur}"),
    "age": (", {age:dur} ago", ", {age:dur} назад"),
    "redo": (", ~{redo:dur}", ", ~{redo:dur}"),
    "best_metric": (" ({best_metric:num})", " ({best_metric:num})"),
    "gap": (
        "; eval − train gap {gap:num} (first {first_gap:num}, {gap_trend:word})",
        "; разрыв eval − train {gap:num} (в начале {first_gap:num}, {gap_trend:word})",
    ),
}
"""Optional parts of a sentence, used as ``{name:?fragment}``: shown only when ``name`` is not None."""


def template_key(code: str, variant: str = "") -> str:
    """The key of a reason's template in :data:`REASONS`: ``code``, or ``code.variant``."""
    return f"{code}.{variant}" if variant else code


def place_text(x: float | None, is_step: bool, lang: str = "en", epoch: float | None = None) -> str:
    """Where something happened: ``at step 110`` / ``на шаге 110``; when ``x`` is not a step (a
    record ordinal, which a person cannot map to anything), ``at epoch 1.56`` / ``на эпохе
    1.56`` from the point's ``epoch``; ``""`` when neither is known (``x`` None or not finite,
    or an ordinal without an epoch)."""
    if x is None or x != x or x in (float("inf"), float("-inf")):
        return ""
    if is_step:
        return label("at_step", lang).format(n=int(x))
    if epoch is None or epoch != epoch or epoch in (float("inf"), float("-inf")):
        return ""
    return label("at_epoch", lang).format(n=fmt_num(epoch, 3))


def _rate_text(steps_per_s: float, lang: str) -> str:
    """Steps per second, or seconds per step when slower than 0.1 steps/s (easier to read)."""
    if steps_per_s >= 0.1:
        return label("steps_per_s", lang).format(n=fmt_num(steps_per_s))
    return label("s_per_step", lang).format(n=fmt_num(1 / steps_per_s))


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "ru" else pair[0]


class _ReasonFormatter(string.Formatter):
    """``str.format`` with the specs of this module's docstring; one instance per rendering."""

    def __init__(self, lang: str, params: Mapping[str, Any]) -> None:
        super().__init__()
        self.lang = lang
        self.params = params

    def format_field(self, value: Any, format_spec: str) -> str:
        lang = self.lang
        if format_spec.startswith("?"):
            # An optional part: nothing when its value is absent, else the fragment, itself a template.
            if value is None:
                return ""
            return self.vformat(_pick(FRAGMENTS[format_spec[1:]], lang), (), self.params)
        if format_spec == "num":
            return fmt_num(value)
        if format_spec == "epoch":
            return fmt_num(value, 3)
        if format_spec == "change":
            return fmt_change(value)
        if format_spec == "percent":
            return fmt_percent(value)
        if format_spec == "dur":
            return fmt_duration(value)
        if format_spec == "place":
            if value is None:
                return ""
            where = place_text(value.x, value.is_step, lang, value.epoch)
            return " " + where if where else ""
        if format_spec == "sched":
            return "" if value in (None, "unknown") else f" ({word(value, lang)})"
        if format_spec == "bytes":
            return fmt_bytes(value)
        if format_spec == "word":
            return word(value, lang)
        if format_spec == "rate":
            return _rate_text(value, lang)
        return str(super().format_field(value, format_spec))


def reason_text(reason: ReasonLike, lang: str = "en") -> str:
    """Render a finding as the sentence a person reads.

    Args:
        reason: a finding with ``code``, ``variant`` and ``params`` (``analysis.verdict.Reason``).
        lang: ``"en"`` or ``"ru"`` (anything else reads as English).

    Returns:
        e.g. ``"loss fell 3.821 → 2.357 (−38 %)"`` / ``"loss снизился 3.821 → 2.357 (−38 %)"``.

    Raises:
        KeyError: the code/variant has no template, or the template names a parameter the
            finding does not carry (a bug: ``tests/test_text.py`` renders every finding).
    """
    template = _pick(REASONS[template_key(reason.code, reason.variant)], lang)
    return _ReasonFormatter(lang, reason.params).vformat(template, (), reason.params)
