"""Plain-words explanations of training metrics, in English and Russian.

Data only: per metric key (``loss``, ``grad_norm``...) or key pattern (``eval_*``,
``rewards/*``), a title, what the metric is, what healthy looks like, what to worry
about, and why it matters. The app's glossary pane (``g``) shows the entry of the focused
metric; ``trainmon report`` may quote it. Patterns use :mod:`fnmatch` syntax and are
tried in table order after exact keys, so specific patterns come before general ones.

This module never imports textual or rich.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

Lang = Literal["en", "ru"]
"""A language the glossary is written in."""

LANGS: tuple[Lang, ...] = ("en", "ru")
"""Every language each entry must carry."""


@dataclass(frozen=True, slots=True)
class Explanation:
    """One metric explained in one language.

    Attributes:
        title: a short human name (``"Training loss"``).
        what: what the number is, in one or two sentences.
        healthy: what a healthy run shows.
        worry: what should make you look closer.
        why: why it behaves so, or a note that prevents a wrong reading.
    """

    title: str
    what: str
    healthy: str
    worry: str
    why: str


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    """A metric (or a family of metrics) explained in every language.

    Attributes:
        pattern: the exact key (``loss``) or an fnmatch pattern (``rewards/*``).
        en: the English explanation.
        ru: the Russian explanation.
    """

    pattern: str
    en: Explanation
    ru: Explanation

    def in_lang(self, lang: str) -> Explanation:
        """Return the explanation in ``lang`` (``"en"`` or ``"ru"``); unknown → English."""
        return self.ru if lang == "ru" else self.en


def _e(pattern: str, en: tuple[str, str, str, str, str], ru: tuple[str, str, str, str, str]) -> GlossaryEntry:
    return GlossaryEntry(pattern, Explanation(*en), Explanation(*ru))


ENTRIES: tuple[GlossaryEntry, ...] = (
    _e(
        "loss",
        (
            "Training loss",
            "How wrong the model is on the training batches, averaged since the previous log line "
            "(for language models: the cross-entropy of the next token). Lower is better.",
            "It falls over time: fast at first, then more and more slowly. Fluctuations from one "
            "log line to the next are normal, because every batch is different; the trend matters, "
            "not a single value.",
            "It stops falling for a long time early in training (a plateau), climbs steadily "
            "(learning rate too high, bad data), jumps up by a large factor (a spike), or becomes "
            "NaN/inf (divergence). A loss of exactly 0 usually means a bug or a degenerate batch.",
            "The Trainer hides NaN losses by default (logging_nan_inf_filter) and logs the previous "
            "average instead, so a finite loss does not prove the run is healthy: look at grad_norm "
            "too. A loss that falls while eval_loss rises means overfitting.",
        ),
        (
            "Лосс на обучении",
            "Насколько модель ошибается на обучающих батчах, в среднем с предыдущей строки лога "
            "(для языковых моделей — кросс-энтропия следующего токена). Чем меньше, тем лучше.",
            "Со временем падает: сначала быстро, потом всё медленнее. Колебания от строки к строке "
            "нормальны — каждый батч свой; важен тренд, а не отдельное значение.",
            "Долго не падает в начале обучения (плато), стабильно растёт (слишком большой learning "
            "rate, проблемы с данными), резко подскакивает в разы (спайк) или становится NaN/inf "
            "(расхождение). Лосс ровно 0 обычно означает баг или вырожденный батч.",
            "По умолчанию Trainer скрывает NaN в лоссе (logging_nan_inf_filter) и пишет вместо него "
            "прошлое среднее, поэтому конечный лосс ещё не значит, что всё хорошо: смотрите и на "
            "grad_norm. Если лосс на обучении падает, а eval_loss растёт — это переобучение.",
        ),
    ),
    _e(
        "eval_loss",
        (
            "Evaluation loss",
            "The same loss measured on the held-out evaluation set, which the model never trains "
            "on. It is logged every eval_steps (or every epoch).",
            "It falls together with the training loss, usually a little above it. The best value "
            "so far is the checkpoint worth keeping.",
            "It starts rising while the training loss keeps falling: the model memorises the "
            "training data instead of generalising (overfitting). Stop, or keep the best "
            "checkpoint (load_best_model_at_end).",
            "Evaluation is rarer than training logs, so this curve has few points; one worse value "
            "is noise, several in a row are a trend.",
        ),
        (
            "Лосс на валидации",
            "Тот же лосс, посчитанный на отложенной валидационной выборке, на которой модель не "
            "обучается. Пишется раз в eval_steps (или раз в эпоху).",
            "Падает вместе с лоссом на обучении, обычно чуть выше него. Лучшее значение на данный "
            "момент — тот чекпойнт, который стоит сохранить.",
            "Начинает расти, хотя лосс на обучении продолжает падать: модель запоминает обучающие "
            "данные вместо того, чтобы обобщать (переобучение). Останавливайте обучение или "
            "берите лучший чекпойнт (load_best_model_at_end).",
            "Валидация бывает реже, чем логирование обучения, поэтому точек на кривой мало: одно "
            "ухудшение — шум, несколько подряд — уже тренд.",
        ),
    ),
    _e(
        "learning_rate",
        (
            "Learning rate (LR)",
            "How large a step the optimizer takes along the gradient at each update. The scheduler "
            "changes it during training; the log shows the value used for that step.",
            "It often warms up (grows from near zero to its peak over the first warmup steps), "
            "then decays (linearly, along a cosine, or stays constant) towards zero by the end.",
            "An LR that is too high makes the loss spike or diverge; one that is too low makes the "
            "loss fall very slowly. An LR of 0 means nothing is learned any more.",
            "Warmup protects the freshly initialised optimizer state from huge early updates; the "
            "decay lets the model settle into a minimum. A loss spike right after warmup ends "
            "often means the peak LR is too high.",
        ),
        (
            "Скорость обучения (learning rate, LR)",
            "Размер шага оптимизатора вдоль градиента при каждом обновлении весов. Планировщик "
            "(scheduler) меняет её по ходу обучения; в логе — значение, с которым сделан этот шаг.",
            "Часто сначала идёт прогрев (warmup: рост от почти нуля до пика за первые шаги), потом "
            "затухание (линейное, по косинусу) к нулю к концу обучения, или она постоянна.",
            "Слишком большой LR вызывает спайки или расхождение лосса, слишком маленький — очень "
            "медленное падение. LR, равный 0, означает, что модель больше не учится.",
            "Прогрев защищает ещё не накопленное состояние оптимизатора от огромных первых шагов, "
            "затухание помогает модели осесть в минимуме. Спайк лосса сразу после конца прогрева "
            "часто значит, что пиковый LR слишком велик.",
        ),
    ),
    _e(
        "lr",
        (
            "Learning rate (LR)",
            "The LLaMA-Factory name of learning_rate: how large a step the optimizer takes at each update.",
            "It often warms up first, then decays towards zero, or stays constant.",
            "Loss spikes or divergence (too high), a loss that hardly moves (too low), or 0.",
            "The scheduler sets it for each step; warmup protects the early updates.",
        ),
        (
            "Скорость обучения (learning rate, LR)",
            "Имя learning_rate в LLaMA-Factory: размер шага оптимизатора при каждом обновлении.",
            "Часто сначала прогрев, потом затухание к нулю, или она постоянна.",
            "Спайки или расхождение лосса (слишком большой), почти неподвижный лосс (слишком маленький) или 0.",
            "Её задаёт планировщик на каждый шаг; прогрев защищает первые обновления.",
        ),
    ),
    _e(
        "grad_norm",
        (
            "Gradient norm",
            "The length (L2 norm) of the gradient over all weights: how big the update to the "
            "weights wants to be at this step.",
            "Steady, or slowly changing, within an order of magnitude: neither huge nor near zero. "
            "It is often higher at the very start and settles down.",
            "A huge grad_norm, or one that jumps by orders of magnitude, means exploding gradients "
            "(the next loss values often spike or become NaN). A grad_norm near zero means "
            "vanishing gradients: learning has stopped. NaN or inf means the run has diverged, "
            "even when the logged loss still looks finite.",
            "Values above max_grad_norm (1.0 by default) are clipped before the update, so the "
            "step itself stays bounded; the log shows the norm before clipping. Being clipped "
            "now and then is normal; being far above the limit all the time is not.",
        ),
        (
            "Норма градиента",
            "Длина (L2-норма) градиента по всем весам: насколько большим хочет быть обновление весов на этом шаге.",
            "Стабильна или меняется медленно, в пределах порядка: не огромная и не близкая к нулю. "
            "В самом начале часто выше, потом успокаивается.",
            "Огромная grad_norm или скачки на порядки означают взрыв градиентов (следом лосс "
            "часто подскакивает или становится NaN). grad_norm около нуля — затухание градиентов: "
            "обучение остановилось. NaN или inf — обучение разошлось, даже если лосс в логе ещё "
            "выглядит конечным.",
            "Значения выше max_grad_norm (по умолчанию 1.0) обрезаются перед обновлением "
            "(gradient clipping), так что сам шаг остаётся ограниченным; в логе — норма до "
            "обрезки. Изредка упираться в порог нормально, постоянно быть намного выше — нет.",
        ),
    ),
    _e(
        "epoch",
        (
            "Epoch",
            "How many passes over the training data have been made. The whole part counts "
            "finished passes; the fraction is progress through the current pass (2.34 = a third "
            "of the way through the third pass).",
            "It grows steadily from 0 to num_train_epochs (or to where max_steps stops it).",
            "It goes backwards: the run was resumed from a checkpoint and is logging the same "
            "steps again. Several epochs with a falling training loss but a rising eval_loss "
            "mean overfitting.",
            "More epochs show the model the same examples again: useful up to a point, then the "
            "model starts memorising them.",
        ),
        (
            "Эпоха",
            "Сколько проходов по обучающим данным уже сделано. Целая часть — число завершённых "
            "проходов, дробная — прогресс внутри текущего прохода (2.34 — треть третьего прохода).",
            "Равномерно растёт от 0 до num_train_epochs (или до места, где обучение остановит max_steps).",
            "Уменьшается: обучение продолжили с чекпойнта, и те же шаги логируются заново. Если "
            "за несколько эпох лосс на обучении падает, а eval_loss растёт — это переобучение.",
            "Каждая новая эпоха снова показывает модели те же примеры: до поры это полезно, потом "
            "модель начинает их запоминать.",
        ),
    ),
    _e(
        "train_loss",
        (
            "Average training loss (summary)",
            "Printed once when training ends: the training loss averaged over the whole run.",
            "Lower than the first logged losses.",
            "Close to the first losses: the model barely learned. NaN: the run diverged.",
            "It averages the whole run, so it is higher than the last logged loss.",
        ),
        (
            "Средний лосс на обучении (итог)",
            "Печатается один раз в конце обучения: лосс на обучении, усреднённый по всему запуску.",
            "Ниже первых записанных значений лосса.",
            "Близок к первым значениям — модель почти ничему не научилась. NaN — обучение разошлось.",
            "Это среднее по всему запуску, поэтому оно выше последнего записанного лосса.",
        ),
    ),
    _e(
        "*_runtime",
        (
            "Run time",
            "Wall-clock seconds spent in training (train_runtime, printed at the end) or in one "
            "evaluation (eval_runtime).",
            "Roughly constant from one evaluation to the next.",
            "An evaluation that gets much slower over time: a slower disk, a busy GPU, or memory pressure.",
            "It is a time, not a quality metric: it says nothing about how well the model learns.",
        ),
        (
            "Время работы",
            "Секунды реального времени, потраченные на обучение (train_runtime, в конце) или на "
            "одну валидацию (eval_runtime).",
            "От валидации к валидации примерно одинаково.",
            "Валидация со временем заметно замедляется: медленный диск, занятая GPU или нехватка памяти.",
            "Это время, а не метрика качества: о том, насколько хорошо учится модель, оно ничего не говорит.",
        ),
    ),
    _e(
        "*_samples_per_second",
        (
            "Throughput (samples/s)",
            "How many examples per second were processed, in training (train_*) or in one evaluation (eval_*).",
            "Stable through the run.",
            "A steady fall: data loading became the bottleneck, memory is swapping, or another job shares the GPU.",
            "A speed, not a quality metric.",
        ),
        (
            "Пропускная способность (примеров/с)",
            "Сколько примеров в секунду обработано при обучении (train_*) или при валидации (eval_*).",
            "Стабильна на протяжении запуска.",
            "Постепенно падает: узким местом стала загрузка данных, память уходит в своп или GPU делит другой процесс.",
            "Это скорость, а не метрика качества.",
        ),
    ),
    _e(
        "*_steps_per_second",
        (
            "Throughput (steps/s)",
            "How many optimizer steps (training) or evaluation batches (eval) per second.",
            "Stable through the run.",
            "A steady fall: a data-loading bottleneck, swapping, or a shared GPU.",
            "A speed, not a quality metric.",
        ),
        (
            "Пропускная способность (шагов/с)",
            "Сколько шагов оптимизатора (обучение) или батчей валидации (eval) в секунду.",
            "Стабильна на протяжении запуска.",
            "Постепенно падает: узкое место в загрузке данных, своп или занятая другими GPU.",
            "Это скорость, а не метрика качества.",
        ),
    ),
    _e(
        "total_flos",
        (
            "Total floating-point operations",
            "An estimate of the compute spent on training, printed in the final state.",
            "Grows with the number of steps.",
            "Nothing to worry about; it is bookkeeping.",
            "Useful to compare the cost of runs, not their quality.",
        ),
        (
            "Всего операций с плавающей точкой",
            "Оценка вычислений, потраченных на обучение, из итогового состояния.",
            "Растёт с числом шагов.",
            "Поводов для беспокойства нет, это учётная величина.",
            "Полезно для сравнения стоимости запусков, а не их качества.",
        ),
    ),
    _e(
        "rewards/margins",
        (
            "Reward margin (DPO)",
            "The implicit reward of the chosen answer minus that of the rejected answer, averaged over the batch.",
            "It grows above zero: the model prefers the chosen answers more and more.",
            "It stays at zero (nothing is learned; check the data and beta), turns negative, or "
            "grows without bound while the loss reaches 0 (the policy drifts far from the "
            "reference model).",
            "DPO's loss is a function of this margin: a growing margin is what lowers the loss.",
        ),
        (
            "Отрыв награды (DPO)",
            "Неявная награда выбранного (chosen) ответа минус награда отвергнутого (rejected), в среднем по батчу.",
            "Растёт выше нуля: модель всё сильнее предпочитает выбранные ответы.",
            "Остаётся на нуле (обучения нет; проверьте данные и beta), уходит в минус или растёт "
            "без ограничений, пока лосс падает до 0 (политика уходит далеко от референсной модели).",
            "Лосс DPO — функция этого отрыва: именно его рост и снижает лосс.",
        ),
    ),
    _e(
        "rewards/accuracies",
        (
            "Preference accuracy (DPO)",
            "The share of pairs (0 to 1) in which the chosen answer gets a higher implicit reward "
            "than the rejected one.",
            "It rises from about 0.5 towards 1.",
            "It stays near 0.5 (chance level), or sits at exactly 1.0 very early (the task is "
            "too easy or the data leaks).",
            "Per-batch values jump between a few levels when batches are small; read the trend.",
        ),
        (
            "Точность предпочтений (DPO)",
            "Доля пар (от 0 до 1), в которых выбранный ответ получает большую неявную награду, чем отвергнутый.",
            "Растёт от примерно 0.5 к 1.",
            "Держится около 0.5 (уровень случайного угадывания) или очень рано становится ровно "
            "1.0 (задача слишком простая или утечка данных).",
            "При маленьких батчах значения прыгают между несколькими уровнями; смотрите на тренд.",
        ),
    ),
    _e(
        "rewards/chosen",
        (
            "Reward of chosen answers (DPO)",
            "The implicit reward (beta × log-probability ratio to the reference model) of the preferred answers.",
            "Rises, or falls more slowly than rewards/rejected.",
            "Both chosen and rejected rewards falling fast: the model unlearns both answers.",
            "What matters is the gap to rewards/rejected (rewards/margins).",
        ),
        (
            "Награда выбранных ответов (DPO)",
            "Неявная награда (beta × логарифм отношения вероятностей к референсной модели) предпочтительных ответов.",
            "Растёт или падает медленнее, чем rewards/rejected.",
            "Награды и выбранных, и отвергнутых ответов быстро падают: модель разучивается генерировать оба.",
            "Главное — разрыв с rewards/rejected (rewards/margins).",
        ),
    ),
    _e(
        "rewards/rejected",
        (
            "Reward of rejected answers (DPO)",
            "The implicit reward of the answers that should be avoided.",
            "Falls below rewards/chosen.",
            "Rises above rewards/chosen for a long time.",
            "What matters is the gap to rewards/chosen (rewards/margins).",
        ),
        (
            "Награда отвергнутых ответов (DPO)",
            "Неявная награда ответов, которых следует избегать.",
            "Опускается ниже rewards/chosen.",
            "Долго держится выше rewards/chosen.",
            "Главное — разрыв с rewards/chosen (rewards/margins).",
        ),
    ),
    _e(
        "rewards/*",
        (
            "Reward",
            "A reward term logged by TRL: per reward function in GRPO (its mean or std over the "
            "sampled completions), or an implicit reward in DPO-style trainers.",
            "The mean rises over training.",
            "It stays flat (the policy does not improve), or jumps to the maximum suddenly "
            "(reward hacking: the model found a shortcut in the reward function).",
            "A reward is only as good as its function: read a few completions before trusting a rising curve.",
        ),
        (
            "Награда",
            "Слагаемое награды из TRL: для каждой функции награды в GRPO (её среднее или "
            "стандартное отклонение по сгенерированным ответам) или неявная награда в DPO.",
            "Среднее растёт по ходу обучения.",
            "Не меняется (политика не улучшается) или резко прыгает к максимуму (reward hacking: "
            "модель нашла лазейку в функции награды).",
            "Награда хороша ровно настолько, насколько хороша её функция: прежде чем радоваться "
            "росту, прочитайте несколько ответов.",
        ),
    ),
    _e(
        "logps/*",
        (
            "Log-probabilities",
            "The mean log-probability the model gives to the chosen or rejected answers (sum over tokens); always ≤ 0.",
            "logps/rejected falls faster than logps/chosen.",
            "logps/chosen falls a lot as well: the model becomes less likely to produce even "
            "the good answers (a known DPO failure).",
            "Closer to 0 means more likely; long answers have more negative values.",
        ),
        (
            "Логарифмы вероятностей",
            "Средний логарифм вероятности, который модель даёт выбранным или отвергнутым ответам "
            "(сумма по токенам); всегда ≤ 0.",
            "logps/rejected падает быстрее, чем logps/chosen.",
            "logps/chosen тоже сильно падает: модель реже генерирует даже хорошие ответы (известная проблема DPO).",
            "Ближе к 0 — вероятнее; у длинных ответов значения сильнее отрицательные.",
        ),
    ),
    _e(
        "logits/*",
        (
            "Logits",
            "The mean raw output score (before softmax) over the chosen or rejected answers.",
            "Moves slowly.",
            "Drifts to large absolute values: the policy is moving far from where it started.",
            "Logits are not probabilities; their level matters less than sudden changes.",
        ),
        (
            "Логиты",
            "Среднее значение «сырых» выходов модели (до softmax) на выбранных или отвергнутых ответах.",
            "Меняются медленно.",
            "Уходят к большим по модулю значениям: политика сильно отдаляется от исходной.",
            "Логиты — не вероятности; важен не уровень, а резкие изменения.",
        ),
    ),
    _e(
        "kl",
        (
            "KL divergence",
            "How far the trained policy has moved from the reference model (the KL divergence "
            "between their token distributions), as logged by TRL's GRPO/PPO trainers.",
            "Starts at 0 and grows slowly, staying small.",
            "Grows fast or without bound: the model drifts far from the reference and often "
            "starts producing gibberish that games the reward.",
            "The KL penalty (beta) keeps the policy close to the reference; a run-away KL means "
            "the penalty is too weak or the LR too high.",
        ),
        (
            "KL-дивергенция",
            "Насколько обучаемая политика отошла от референсной модели (KL-дивергенция между их "
            "распределениями токенов), как её пишут GRPO/PPO-тренеры TRL.",
            "Начинается с 0 и растёт медленно, оставаясь небольшой.",
            "Быстро или неограниченно растёт: модель уходит далеко от референсной и часто "
            "начинает выдавать бессмыслицу, обманывающую награду.",
            "Штраф за KL (beta) удерживает политику рядом с референсной; неудержимый рост KL "
            "значит, что штраф слишком слаб или LR слишком велик.",
        ),
    ),
    _e(
        "reward",
        (
            "Reward",
            "The mean total reward of the sampled completions in this batch (GRPO/PPO).",
            "Rises over training, with noise.",
            "Flat (no learning), or a sudden jump to the maximum (reward hacking).",
            "Read some completions: a rising reward is only as good as the reward function.",
        ),
        (
            "Награда",
            "Средняя суммарная награда сгенерированных ответов в этом батче (GRPO/PPO).",
            "Растёт по ходу обучения, с шумом.",
            "Не меняется (обучения нет) или резко прыгает к максимуму (reward hacking).",
            "Прочитайте несколько ответов: растущая награда хороша, только если хороша её функция.",
        ),
    ),
    _e(
        "reward_std",
        (
            "Reward spread",
            "The standard deviation of the rewards within a group of completions for the same prompt (GRPO).",
            "Above zero: completions differ, so there is something to learn from.",
            "Zero for many steps: every completion of a prompt gets the same reward, the "
            "advantages are zero and the loss gives no signal.",
            "GRPO learns from differences between completions of one prompt; no spread, no gradient.",
        ),
        (
            "Разброс награды",
            "Стандартное отклонение наград внутри группы ответов на один промпт (GRPO).",
            "Больше нуля: ответы различаются, значит, есть чему учиться.",
            "Много шагов подряд равен нулю: все ответы на промпт получают одинаковую награду, "
            "преимущества (advantages) нулевые, и лосс не даёт сигнала.",
            "GRPO учится на различиях между ответами на один промпт: нет разброса — нет градиента.",
        ),
    ),
    _e(
        "entropy",
        (
            "Entropy",
            "How spread out the model's next-token predictions are (mean entropy over the tokens), as TRL logs it.",
            "Falls slowly as the model becomes more confident.",
            "Collapses to near zero (the model always says the same thing; in RL, no more "
            "exploration) or rises sharply (the output becomes random).",
            "Low entropy is confidence, not correctness.",
        ),
        (
            "Энтропия",
            "Насколько «размыты» предсказания следующего токена (средняя энтропия по токенам), как её пишет TRL.",
            "Медленно падает по мере того, как модель становится увереннее.",
            "Падает почти до нуля (модель всё время говорит одно и то же; в RL — исследование "
            "прекратилось) или резко растёт (ответы становятся случайными).",
            "Низкая энтропия — это уверенность, а не правильность.",
        ),
    ),
    _e(
        "mean_token_accuracy",
        (
            "Token accuracy",
            "The share of tokens (0 to 1) where the model's most likely next token is the right "
            "one, on the training batch (TRL SFT).",
            "Rises over training, mirroring the falling loss.",
            "Stuck at a low level, or at 1.0 very early (memorising, or a data problem).",
            "It is measured on training batches, so it says nothing about overfitting by itself.",
        ),
        (
            "Точность по токенам",
            "Доля токенов (от 0 до 1), для которых самый вероятный следующий токен модели "
            "правильный, на обучающем батче (SFT в TRL).",
            "Растёт по ходу обучения, зеркально падающему лоссу.",
            "Застряла на низком уровне или очень рано достигла 1.0 (запоминание или проблема с данными).",
            "Считается на обучающих батчах, поэтому сама по себе о переобучении ничего не говорит.",
        ),
    ),
    _e(
        "token_acc",
        (
            "Token accuracy",
            "The share of correctly predicted tokens (0 to 1), as some frameworks log it.",
            "Rises over training.",
            "Stuck low, or at 1.0 suspiciously early.",
            "A training-batch number; compare with the evaluation metrics.",
        ),
        (
            "Точность по токенам",
            "Доля правильно предсказанных токенов (от 0 до 1), как её пишут некоторые фреймворки.",
            "Растёт по ходу обучения.",
            "Застряла на низком уровне или подозрительно рано стала 1.0.",
            "Это число по обучающим батчам; сравнивайте с метриками валидации.",
        ),
    ),
    _e(
        "accuracy",
        (
            "Accuracy",
            "The share of correct predictions (0 to 1).",
            "Rises over training.",
            "Stuck near chance level, or falling on evaluation while training keeps improving (overfitting).",
            "On imbalanced data a high accuracy can hide a model that always predicts the majority class.",
        ),
        (
            "Точность (accuracy)",
            "Доля правильных предсказаний (от 0 до 1).",
            "Растёт по ходу обучения.",
            "Застряла около уровня случайного угадывания или падает на валидации, пока на "
            "обучении всё улучшается (переобучение).",
            "На несбалансированных данных высокая точность может скрывать модель, которая всегда "
            "предсказывает самый частый класс.",
        ),
    ),
    _e(
        "num_tokens",
        (
            "Tokens seen",
            "The running total of tokens the model has trained on so far (TRL).",
            "Grows steadily, at a roughly constant rate per step.",
            "It stops growing while steps continue (empty batches), or grows much more slowly "
            "than expected (heavy padding or truncation).",
            "A counter, not a quality metric: useful to compare runs by data seen.",
        ),
        (
            "Токенов просмотрено",
            "Накопленное число токенов, на которых модель уже обучилась (TRL).",
            "Равномерно растёт, примерно с постоянной скоростью на шаг.",
            "Перестаёт расти, хотя шаги идут (пустые батчи), или растёт заметно медленнее "
            "ожидаемого (много паддинга или обрезки).",
            "Это счётчик, а не метрика качества: удобно сравнивать запуски по объёму данных.",
        ),
    ),
    _e(
        "completion_length",
        (
            "Completion length",
            "The mean length in tokens of the sampled completions (GRPO/PPO).",
            "Changes slowly, in a range that fits the task.",
            "It collapses towards zero or hits the maximum length every time: often a sign "
            "that the model is gaming the reward.",
            "Length and reward are often linked: check whether the reward favours long or short answers.",
        ),
        (
            "Длина ответа",
            "Средняя длина сгенерированных ответов в токенах (GRPO/PPO).",
            "Меняется медленно, в разумных для задачи пределах.",
            "Схлопывается к нулю или каждый раз упирается в максимальную длину: часто признак "
            "того, что модель обманывает функцию награды.",
            "Длина и награда часто связаны: проверьте, не поощряет ли награда длинные или короткие ответы.",
        ),
    ),
    _e(
        "completions/*length*",
        (
            "Completion length",
            "Statistics of the sampled completions' lengths in tokens (TRL GRPO).",
            "Changes slowly, in a range that fits the task.",
            "Collapses to zero, or every completion hits the maximum length (clipped).",
            "Length and reward are often linked.",
        ),
        (
            "Длина ответа",
            "Статистика длины сгенерированных ответов в токенах (GRPO в TRL).",
            "Меняется медленно, в разумных для задачи пределах.",
            "Схлопывается к нулю или все ответы упираются в максимальную длину (обрезаются).",
            "Длина и награда часто связаны.",
        ),
    ),
    _e(
        "memory(GiB)",
        (
            "GPU memory (GiB)",
            "Accelerator memory in use, as some trainers log it.",
            "Flat after the first steps.",
            "It creeps up step after step (a memory leak: tensors kept alive, e.g. a loss "
            "accumulated without .item()), ending in CUDA out of memory.",
            "Peaks come from the longest batches; pack or cap the sequence length to flatten them.",
        ),
        (
            "Память GPU (ГиБ)",
            "Занятая память ускорителя, как её пишут некоторые тренеры.",
            "Не меняется после первых шагов.",
            "Растёт от шага к шагу (утечка памяти: например, тензоры, накопленные без .item()), "
            "и всё заканчивается CUDA out of memory.",
            "Пики дают самые длинные батчи; упаковка или ограничение длины последовательности их сглаживает.",
        ),
    ),
)
"""Every entry, exact keys and patterns, in lookup order after exact matches."""

_EVAL_PREFIX = "eval_"

_GENERIC_EVAL = _e(
    "eval_*",
    (
        "Evaluation metric",
        "A metric computed on the held-out evaluation set every eval_steps (or every epoch). "
        "The model never trains on that data, so it shows how well the model generalises.",
        "It improves (a loss falls, an accuracy or score rises) together with training.",
        "It gets worse while the training metrics keep improving: overfitting. Keep the best checkpoint.",
        "Evaluation points are few; one worse value is noise, several in a row are a trend.",
    ),
    (
        "Метрика на валидации",
        "Метрика, посчитанная на отложенной валидационной выборке раз в eval_steps (или раз в "
        "эпоху). На этих данных модель не обучается, поэтому метрика показывает, насколько "
        "модель обобщает.",
        "Улучшается (лосс падает, точность или другой скор растёт) вместе с обучением.",
        "Ухудшается, хотя метрики обучения продолжают улучшаться: переобучение. Сохраняйте лучший чекпойнт.",
        "Точек валидации мало: одно ухудшение — шум, несколько подряд — тренд.",
    ),
)
"""The entry for any ``eval_*`` key with no entry of its own."""

FALLBACK = _e(
    "*",
    (
        "Metric",
        "A number the training script logs. trainmon has no notes on this one yet.",
        "Usually a steady value or a smooth trend. A loss-like metric should fall, an "
        "accuracy- or reward-like one should rise.",
        "NaN or inf values, sudden jumps by orders of magnitude, or a value stuck for a long time when it should move.",
        "Look up its name in the documentation of the trainer that logs it (transformers, TRL, LLaMA-Factory...).",
    ),
    (
        "Метрика",
        "Число, которое пишет скрипт обучения. Пояснений к нему у trainmon пока нет.",
        "Обычно это стабильное значение или плавный тренд. Метрики вроде лосса должны падать, "
        "вроде точности или награды — расти.",
        "Значения NaN или inf, внезапные скачки на порядки или значение, которое застыло, хотя должно меняться.",
        "Поищите это имя в документации тренера, который его пишет (transformers, TRL, LLaMA-Factory...).",
    ),
)
"""The entry for a key nothing else matches."""

_EXACT: dict[str, GlossaryEntry] = {e.pattern: e for e in ENTRIES if not any(c in e.pattern for c in "*?[")}
_PATTERNS: tuple[GlossaryEntry, ...] = tuple(e for e in ENTRIES if e not in _EXACT.values())


def _match(key: str) -> GlossaryEntry | None:
    exact = _EXACT.get(key)
    if exact is not None:
        return exact
    for entry in _PATTERNS:
        if fnmatchcase(key, entry.pattern):
            return entry
    return None


def entry_for(key: str) -> GlossaryEntry:
    """Return the glossary entry for a metric key.

    Order: the exact key; then the patterns of :data:`ENTRIES` in order; then, for
    ``eval_X``, the entry of ``X`` reworded as measured on the evaluation set (so
    ``eval_accuracy`` explains accuracy); then the generic ``eval_*`` entry; else
    :data:`FALLBACK`. Never raises.

    Args:
        key: the metric key as the log wrote it (``"eval_loss"``, ``"rewards/margins"``).

    Returns:
        The matching :class:`GlossaryEntry`.
    """
    found = _match(key)
    if found is not None:
        return found
    if key.startswith(_EVAL_PREFIX):
        base = _match(key[len(_EVAL_PREFIX) :])
        if base is not None and base.pattern not in ("*_runtime",):
            return _as_eval(key, base)
        return _GENERIC_EVAL
    return FALLBACK


def _as_eval(key: str, base: GlossaryEntry) -> GlossaryEntry:
    """Reword ``base`` for its ``eval_`` twin: the same metric on the evaluation set."""
    en = base.en
    ru = base.ru
    return GlossaryEntry(
        key,
        Explanation(
            f"{en.title} (evaluation)",
            f"{en.what} Here measured on the held-out evaluation set, which the model never trains on.",
            en.healthy,
            f"{en.worry} On evaluation, getting worse while training improves means overfitting.",
            en.why,
        ),
        Explanation(
            f"{ru.title} (валидация)",
            f"{ru.what} Здесь — на отложенной валидационной выборке, на которой модель не обучается.",
            ru.healthy,
            f"{ru.worry} Если на валидации становится хуже, а на обучении лучше — это переобучение.",
            ru.why,
        ),
    )


def explain(key: str, lang: str = "en") -> Explanation:
    """Return the explanation of metric ``key`` in ``lang`` (``"en"`` or ``"ru"``).

    Args:
        key: the metric key as logged.
        lang: ``"en"`` or ``"ru"``; anything else gives English.

    Returns:
        The :class:`Explanation` (never raises; unknown keys get the generic one).
    """
    return entry_for(key).in_lang(lang)


LABELS: dict[str, dict[str, str]] = {
    "what": {"en": "What it is", "ru": "Что это"},
    "healthy": {"en": "Healthy", "ru": "Норма"},
    "worry": {"en": "Worry when", "ru": "Тревожно, если"},
    "why": {"en": "Why", "ru": "Почему"},
}
"""Section headings of an explanation, by field and language."""
