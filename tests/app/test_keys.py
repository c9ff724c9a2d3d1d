"""The keys are described once (ui/keys.py): the app's bindings, the footer and the help screen agree."""

from __future__ import annotations

from tui_monitor.ui.app import TrainmonApp
from tui_monitor.ui.keys import COMMANDS, footer_keys
from tui_monitor.ui.widgets.help_screen import help_content
from tui_monitor.ui.widgets.key_bar import footer_content


def test_every_binding_of_the_app_is_a_listed_command() -> None:
    # GIVEN the app's bindings WHEN compared with the commands THEN each one is described
    described = {b.key for c in COMMANDS for b in c.bindings}
    bound = {b.key if hasattr(b, "key") else b[0] for b in TrainmonApp.BINDINGS}  # type: ignore[union-attr]
    assert bound == described
    assert "ctrl+c" in bound and "left_square_bracket" in bound and "9" in bound


def test_help_lists_every_command_and_the_footer_its_short_form() -> None:
    # GIVEN several files (tabs) WHEN the help is drawn THEN every command's keys and words are there
    text = help_content("en", tabs=True).plain
    for c in COMMANDS:
        assert c.help in text
    assert "1 … 9" in text and "previous / next file" in text and "q  ctrl+c" in text
    # AND with one file too, every key is listed ([ ] and 1-9 say they need several files),
    # g is called the glossary, and the keys that scroll the verdict, glossary and metrics
    one = help_content("en", tabs=False).plain
    for c in COMMANDS:
        assert c.help in one
    assert "[  ]  previous / next file (tab; with several files)" in one
    assert "1 … 9  go to file N" in one
    assert "g  glossary: " in one
    assert "v  V  verdict: page down" in one and "J  K  glossary: page down / up" in one
    assert "pgup pgdn  metrics list" in one
    assert "t  raw log: " in one and "/  esc  raw log: filter by a regular expression" in one
    # WHEN the footer has room THEN it shows each footer command in order, in words
    wide = footer_content("en", 200, tabs=True).plain
    assert [c.footer for c in footer_keys(True)] == ["q", "?", "[ ] 1-9", "g", "v", "↑↓", "t", "l", "s", "w", "p", "r"]
    assert wide.index(" q quit") < wide.index(" ? help") < wide.index(" g glossary") < wide.index(" p pause")
    # WHEN it is narrow THEN q and ? stay and the lowest-priority hints go first
    narrow = footer_content("en", 30).plain
    assert " q " in narrow and " ? " in narrow and " l " not in narrow


def test_footer_at_80_columns_keeps_the_verdict_key() -> None:
    # GIVEN an 80-column terminal WHEN the footer is fitted THEN the verdict's scroll key stays
    # (at 80x24 the verdict has hidden lines) and everything fits
    text = footer_content("en", 80).plain
    assert " v verd.↓ " in text and " g gloss. " in text and " q quit " in text
    assert len(text) <= 80
