"""A row's typed facts fitted into the room the row has (widgets/metric_row.py)."""

from __future__ import annotations

from tui_monitor.ui.model import Fact
from tui_monitor.ui.widgets.metric_row import fact_text, fit_facts

FACTS = (Fact("cosine"), Fact("peak", "1.97e-04", "at step 25"))


def test_fact_text_joins_the_parts_it_has() -> None:
    """GIVEN facts with and without value and place WHEN drawn THEN their parts, space-separated."""
    assert fact_text(FACTS[1]) == "peak 1.97e-04 at step 25"
    assert fact_text(FACTS[1], place=False) == "peak 1.97e-04"
    assert fact_text(FACTS[0]) == "cosine"


def test_fit_drops_the_place_first_then_the_last_facts() -> None:
    """GIVEN two facts WHEN the room shrinks THEN all of them, then the last without its
    place, then the first alone, then nothing; never a fact cut."""
    assert fit_facts(FACTS, 80) == "cosine   peak 1.97e-04 at step 25"
    assert fit_facts(FACTS, 30) == "cosine   peak 1.97e-04"
    assert fit_facts(FACTS, 10) == "cosine"
    assert fit_facts(FACTS, 3) == ""


def test_fit_needs_no_language() -> None:
    """GIVEN a Russian place WHEN short of room THEN it goes like an English one."""
    ru = (Fact("пик", "1.97e-04", "на шаге 25"), Fact("мин", "0.1", "на эпохе 1.56"))
    assert fit_facts(ru, 36) == "пик 1.97e-04 на шаге 25   мин 0.1"
    assert fit_facts(ru, 20) == "пик 1.97e-04"
