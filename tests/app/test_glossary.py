"""The glossary: lookup by exact key and pattern, and both languages complete."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tui_monitor.core.text import glossary
from tui_monitor.core.text.glossary import ENTRIES, FALLBACK, LANGS, entry_for, explain


@pytest.mark.parametrize(
    ("key", "pattern"),
    [
        ("loss", "loss"),
        ("eval_loss", "eval_loss"),
        ("learning_rate", "learning_rate"),
        ("lr", "lr"),
        ("grad_norm", "grad_norm"),
        ("epoch", "epoch"),
        ("train_runtime", "*_runtime"),
        ("eval_runtime", "*_runtime"),
        ("eval_samples_per_second", "*_samples_per_second"),
        ("train_steps_per_second", "*_steps_per_second"),
        ("rewards/margins", "rewards/margins"),
        ("rewards/accuracies", "rewards/accuracies"),
        ("rewards/format_reward/mean", "rewards/*"),
        ("logps/chosen", "logps/*"),
        ("logits/rejected", "logits/*"),
        ("kl", "kl"),
        ("reward_std", "reward_std"),
        ("mean_token_accuracy", "mean_token_accuracy"),
        ("completions/mean_length", "completions/*length*"),
        ("memory(GiB)", "memory(GiB)"),
    ],
)
def test_lookup_by_key_and_pattern(key: str, pattern: str) -> None:
    """GIVEN a key a real log carries WHEN looked up THEN the most specific entry answers."""
    assert entry_for(key).pattern == pattern


def test_eval_twin_of_a_known_metric_is_reworded() -> None:
    """GIVEN eval_accuracy (no entry of its own) WHEN looked up THEN accuracy's text, for eval."""
    e = explain("eval_accuracy")
    assert e.title.startswith("Accuracy")
    assert "evaluation" in e.what
    assert "валидац" in explain("eval_accuracy", "ru").what


def test_unknown_eval_key_gets_generic_eval_and_unknown_key_the_fallback() -> None:
    """GIVEN keys with no entry WHEN looked up THEN generic eval or fallback, never an error."""
    assert entry_for("eval_bleu").pattern == "eval_*"
    assert entry_for("[bold red]x[/]") is FALLBACK


def test_every_entry_is_complete_in_both_languages() -> None:
    """GIVEN every entry WHEN read in en and ru THEN every field is non-empty, and ru is Cyrillic."""
    for entry in (*ENTRIES, FALLBACK):
        for lang in LANGS:
            e = entry.in_lang(lang)
            for field in ("title", "what", "healthy", "worry", "why"):
                assert getattr(e, field).strip(), (entry.pattern, lang, field)
        assert any("а" <= ch <= "я" for ch in entry.ru.what.lower()), entry.pattern
        assert entry.en.what != entry.ru.what


def test_core_four_say_what_the_issue_asks() -> None:
    """GIVEN loss, learning_rate, grad_norm, epoch WHEN explained THEN the key facts are there."""
    loss = explain("loss")
    assert "fall" in loss.healthy and "trend" in loss.healthy and "normal" in loss.healthy
    lr = explain("learning_rate")
    assert "warms up" in lr.healthy and "decays" in lr.healthy
    g = explain("grad_norm")
    assert "exploding" in g.worry and "vanishing" in g.worry
    assert "max_grad_norm" in g.why and "before clipping" in g.why
    assert "current pass" in explain("epoch").what
    assert "взрыв" in explain("grad_norm", "ru").worry


def test_glossary_never_imports_textual_or_rich() -> None:
    """GIVEN a fresh interpreter WHEN importing the glossary THEN neither textual nor rich loads."""
    code = (
        "import sys, tui_monitor.core.text.glossary, tui_monitor.ui.chart_model, tui_monitor.core.demo;"
        "print(any(m.split('.')[0] in ('textual','rich') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert glossary.LABELS["worry"]["ru"]


def test_ui_words_complete_in_both_languages() -> None:
    """GIVEN every UI word, label and key text WHEN read THEN both languages, same placeholders."""
    import string

    from tui_monitor.core.text import words

    for table in (words.WORDS, words.LABELS, words.KEYS, words.HELP_TEXTS, words.SHORT_KEYS, words.VERDICT_WORDS):
        for key, (en, ru) in table.items():
            assert en.strip() and ru.strip(), key
            fields = {f for _, f, _, _ in string.Formatter().parse(en) if f}
            assert fields == {f for _, f, _, _ in string.Formatter().parse(ru) if f}, key
    assert words.word("critical", "ru") == "критично" and words.word("no-such-word") == "no-such-word"
