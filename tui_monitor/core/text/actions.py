"""What to try next: one suggested action per warning and critical finding, in English and Russian.

Each action names the ``TrainingArguments`` field (or the TRL config field) a person would
change, and stays conservative: it is what the Trainer's documentation and common practice
suggest first, never a promise that it fixes the run. Why each one helps is in the glossary
(:mod:`~tui_monitor.core.text.glossary`: ``grad_norm`` on clipping and warmup, ``loss`` on
masked labels, ``eval_*`` on keeping the best checkpoint). Sources:

- ``max_grad_norm`` (clipping, default 1.0), ``warmup_steps``/``warmup_ratio``,
  ``lr_scheduler_type``, ``fp16``/``bf16``, ``load_best_model_at_end`` with
  ``EarlyStoppingCallback``, ``weight_decay``, ``gradient_checkpointing``,
  ``per_device_train_batch_size``/``gradient_accumulation_steps``,
  ``resume_from_checkpoint``: the ``transformers`` Trainer documentation
  (TrainingArguments, "Callbacks", "Methods and tools for efficient training on a single GPU").
- bf16 instead of fp16 against overflow (fp16's range ends at 65504): the mixed-precision
  section of the same documentation and PyTorch's AMP notes.
- ``beta`` of ``DPOConfig`` and the reference model: TRL's DPO Trainer documentation.

Actions are data keyed like :data:`~tui_monitor.core.text.reasons.REASONS`: ``code.variant``,
``code.<why>`` for a crash (the crash evidence's kind: ``oom``, ``nccl_timeout``...), or
``code``. ``{step}`` is the finding's step; a template with ``{step}`` has a twin under
``<key>.nostep``, used when the step is unknown.

Stdlib only, like the rest of the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["ACTIONS", "ActionReason", "action_key", "action_text"]


class ActionReason(Protocol):
    """What :func:`action_text` reads of a finding (``analysis.findings.Reason`` has it)."""

    @property
    def code(self) -> str: ...

    @property
    def variant(self) -> str: ...

    @property
    def severity(self) -> str: ...

    @property
    def step(self) -> int | None: ...

    @property
    def params(self) -> Mapping[str, Any]: ...


_CLIP_LR_WARMUP = (
    "set `max_grad_norm=1.0` (clipping), lower `learning_rate`, or add `warmup_steps`",
    "задайте `max_grad_norm=1.0` (обрезка градиента), уменьшите `learning_rate` или добавьте `warmup_steps`",
)
_BF16 = (
    "if you train with `fp16=True`, try `bf16=True` instead; or lower `learning_rate` and keep `max_grad_norm=1.0`",
    "если обучаете с `fp16=True`, попробуйте `bf16=True`; или уменьшите `learning_rate` и оставьте `max_grad_norm=1.0`",
)
_RESUME = (
    "fix the cause, then `trainer.train(resume_from_checkpoint=True)` goes on from the last checkpoint",
    "устраните причину, затем `trainer.train(resume_from_checkpoint=True)` продолжит с последнего чекпоинта",
)

ACTIONS: dict[str, tuple[str, str]] = {
    # -- loss ------------------------------------------------------------------------------------
    "loss_nonfinite.now": _BF16,
    "loss_nonfinite.earlier": (
        "a few non-finite steps are survivable; if they come back: " + _BF16[0],
        "несколько пропущенных шагов не страшны; если повторятся — " + _BF16[1],
    ),
    "loss_diverged": (
        "restart from a checkpoint before the blow-up with a lower `learning_rate`, `max_grad_norm=1.0` "
        "and more `warmup_steps`",
        "перезапустите с чекпоинта до взрыва с меньшим `learning_rate`, `max_grad_norm=1.0` и большим `warmup_steps`",
    ),
    "loss_diverging": (
        "lower `learning_rate`, set `max_grad_norm=1.0` (clipping), or add `warmup_steps`; a checkpoint from "
        "before the rise is worth keeping",
        "уменьшите `learning_rate`, задайте `max_grad_norm=1.0` (обрезка градиента) или добавьте `warmup_steps`; "
        "сохраните чекпоинт до роста",
    ),
    "loss_rising": (
        "lower `learning_rate`; check that the data are shuffled and that `lr_scheduler_type` decays",
        "уменьшите `learning_rate`; проверьте, что данные перемешаны и что `lr_scheduler_type` снижает LR",
    ),
    "loss_plateau": (
        "raise `learning_rate` or check that labels are not masked out (all -100) and that parameters are trainable",
        "увеличьте `learning_rate` или проверьте, что метки не замаскированы (все -100) и параметры обучаемы",
    ),
    "loss_spike": (
        "one spike is often a bad batch; if they repeat, lower `learning_rate` or set `max_grad_norm=1.0`",
        "один всплеск — часто плохой батч; если повторяются, уменьшите `learning_rate` или задайте `max_grad_norm=1.0`",
    ),
    "loss_collapse": (
        "check the labels (all -100?) and the data collator; with fp16 try `bf16=True` or a lower `learning_rate`",
        "проверьте метки (все -100?) и data collator; с fp16 попробуйте `bf16=True` или меньший `learning_rate`",
    ),
    "loss_collapse.skipped": (
        "fp16 overflow skips the steps: try `bf16=True`, or a lower `learning_rate` (DeepSpeed: a smaller "
        "`initial_scale_power`)",
        "переполнение fp16 пропускает шаги: попробуйте `bf16=True` или меньший `learning_rate` (DeepSpeed: "
        "меньший `initial_scale_power`)",
    ),
    "dpo_degenerate": (
        "in `DPOConfig` raise `beta`; check that chosen and rejected differ and that the reference model is "
        "not the policy",
        "в `DPOConfig` увеличьте `beta`; проверьте, что chosen и rejected различаются и референсная модель — "
        "не сама политика",
    ),
    # -- gradient --------------------------------------------------------------------------------
    "grad_nonfinite.now": _BF16,
    "grad_nonfinite.now_loss_finite": _BF16,
    "grad_nonfinite.earlier": (
        "fp16 loss scaling skips such steps; if they repeat, try `bf16=True` or a lower `learning_rate`",
        "масштабирование loss в fp16 пропускает такие шаги; если повторяются, попробуйте `bf16=True` или "
        "меньший `learning_rate`",
    ),
    "grad_exploding": _CLIP_LR_WARMUP,
    "grad_vanishing": (
        "check that `learning_rate` has not decayed to ~0 (`lr_scheduler_type`, `max_steps`) and that layers "
        "are not frozen",
        "проверьте, что `learning_rate` не упал почти до 0 (`lr_scheduler_type`, `max_steps`) и слои не заморожены",
    ),
    "grad_zero": (
        "check that parameters have `requires_grad=True` (a PEFT adapter attached?), the loss comes from the "
        "model's outputs, and `learning_rate` > 0",
        "проверьте `requires_grad=True` у параметров (подключён ли PEFT-адаптер?), что loss считается из "
        "выходов модели и `learning_rate` > 0",
    ),
    # -- learning rate ---------------------------------------------------------------------------
    "lr_stuck_zero": (
        "check `lr_scheduler_type` and `warmup_steps` against `max_steps` (a schedule shorter than the run ends at 0)",
        "сверьте `lr_scheduler_type` и `warmup_steps` с `max_steps` (расписание короче обучения заканчивается на 0)",
    ),
    # -- evaluation ------------------------------------------------------------------------------
    "eval_overfitting": (
        "`load_best_model_at_end=True` with `EarlyStoppingCallback`, more data or `weight_decay`",
        "`load_best_model_at_end=True` с `EarlyStoppingCallback`, больше данных или `weight_decay`",
    ),
    # -- run state -------------------------------------------------------------------------------
    "run_crashed": (
        "read the traceback above the last record; " + _RESUME[0],
        "прочитайте traceback после последней записи; " + _RESUME[1],
    ),
    "run_crashed.oom": (
        "lower `per_device_train_batch_size` (raise `gradient_accumulation_steps` to keep the batch) or set "
        "`gradient_checkpointing=True`; then `resume_from_checkpoint=True`",
        "уменьшите `per_device_train_batch_size` (увеличьте `gradient_accumulation_steps`, чтобы сохранить батч) "
        "или задайте `gradient_checkpointing=True`; затем `resume_from_checkpoint=True`",
    ),
    "run_crashed.nccl_timeout": (
        "one rank stopped answering: look at the other ranks' logs; a long step may need a larger `ddp_timeout`",
        "один из процессов перестал отвечать: посмотрите логи других рангов; для долгих шагов — больший `ddp_timeout`",
    ),
    "run_crashed.killed": (
        "killed from outside (host memory, the scheduler's time limit): check `dmesg` or the job's limits; "
        + _RESUME[0],
        "процесс убит извне (память хоста, лимит времени планировщика): проверьте `dmesg` или лимиты задачи; "
        + _RESUME[1],
    ),
    "run_stalled": (
        "is the process alive (`ps`, `nvidia-smi`)? The last record is at step {step}; a checkpoint resumes with "
        "`resume_from_checkpoint=True`",
        "жив ли процесс (`ps`, `nvidia-smi`)? Последняя запись на шаге {step}; с чекпоинта продолжит "
        "`resume_from_checkpoint=True`",
    ),
    "run_stalled.bar_ahead": (
        "is the process alive (`ps`, `nvidia-smi`)? The last record is at step {step} (the bar reached step "
        "{bar_step}); a checkpoint resumes with `resume_from_checkpoint=True`",
        "жив ли процесс (`ps`, `nvidia-smi`)? Последняя запись на шаге {step} (индикатор дошёл до шага "
        "{bar_step}); с чекпоинта продолжит `resume_from_checkpoint=True`",
    ),
    "run_stalled.nostep": (
        "is the process alive (`ps`, `nvidia-smi`)? A checkpoint resumes with `resume_from_checkpoint=True`",
        "жив ли процесс (`ps`, `nvidia-smi`)? С чекпоинта продолжит `resume_from_checkpoint=True`",
    ),
    "run_ended": (
        "the process exited without a summary (killed? host memory: `dmesg`); the last record is at step {step}; "
        "`resume_from_checkpoint=True` goes on from the last checkpoint",
        "процесс вышел без итоговой записи (убит? память хоста: `dmesg`); последняя запись на шаге {step}; "
        "`resume_from_checkpoint=True` продолжит с последнего чекпоинта",
    ),
    "run_ended.bar_ahead": (
        "the process exited without a summary (killed? host memory: `dmesg`); the last record is at step {step} "
        "(the bar reached step {bar_step}); `resume_from_checkpoint=True` goes on from the last checkpoint",
        "процесс вышел без итоговой записи (убит? память хоста: `dmesg`); последняя запись на шаге {step} "
        "(индикатор дошёл до шага {bar_step}); `resume_from_checkpoint=True` продолжит с последнего чекпоинта",
    ),
    "run_ended.nostep": (
        "the process exited without a summary (killed? host memory: `dmesg`); `resume_from_checkpoint=True` goes "
        "on from the last checkpoint",
        "процесс вышел без итоговой записи (убит? память хоста: `dmesg`); `resume_from_checkpoint=True` продолжит "
        "с последнего чекпоинта",
    ),
    "throughput_slowdown": (
        "data loading: raise `dataloader_num_workers`; the GPU's clocks and temperature: "
        "`nvidia-smi -q -d PERFORMANCE`; swapping: `free -h`; another job on the GPU: `nvidia-smi`",
        "загрузка данных: увеличьте `dataloader_num_workers`; частоты и температура GPU: "
        "`nvidia-smi -q -d PERFORMANCE`; подкачка: `free -h`; чужая задача на GPU: `nvidia-smi`",
    ),
    "checkpoint_redo": (
        "`resume_from_checkpoint=True` goes on from the last checkpoint; a smaller `save_steps` loses less next time",
        "`resume_from_checkpoint=True` продолжит с последнего чекпойнта; меньший `save_steps` потеряет меньше",
    ),
    "checkpoint_space": (
        "free space there, or set `save_total_limit` (old checkpoints are deleted) or another `output_dir`",
        "освободите место или задайте `save_total_limit` (старые чекпойнты удаляются) либо другой `output_dir`",
    ),
}
"""Suggested actions by key (see :func:`action_key`): ``(english, russian)``."""


def action_key(reason: ActionReason) -> str | None:
    """The key of ``reason``'s action in :data:`ACTIONS`, or None for an ``ok``/``info`` finding.

    Tried in order: ``code.variant``, ``code.<why>`` (a crash's evidence kind, from
    ``params["why"]``), ``code``; a template that needs ``{step}`` when the finding has none
    gives way to its ``.nostep`` twin.
    """
    if reason.severity not in ("warning", "critical"):
        return None
    why = reason.params.get("why")
    for key in (f"{reason.code}.{reason.variant}", f"{reason.code}.{why}", reason.code):
        if key in ACTIONS:
            if reason.step is None and "{step}" in ACTIONS[key][0]:
                return f"{key}.nostep" if f"{key}.nostep" in ACTIONS else None
            return key
    return None


def action_text(reason: ActionReason, lang: str = "en") -> str | None:
    """What to try for a warning or critical finding, in ``lang`` (``"ru"``, else English).

    Returns:
        e.g. ``"set `max_grad_norm=1.0` (clipping), lower `learning_rate`, or add `warmup_steps`"``;
        None for an ``ok``/``info`` finding or a code without an action.
    """
    key = action_key(reason)
    if key is None:
        return None
    en, ru = ACTIONS[key]
    return (ru if lang == "ru" else en).format(**{**reason.params, "step": reason.step})
