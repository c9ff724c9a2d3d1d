"""The app's keys, described once: the bindings, the footer hints and the help screen all come
from :data:`COMMANDS` (their words come from the text catalogue, ``text.words.KEYS``)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

__all__ = ["BINDINGS", "COMMANDS", "Command", "footer_keys", "help_keys"]


@dataclass(frozen=True, slots=True)
class Command:
    """One thing a key does, with every binding that does it.

    Attributes:
        word: its description key in the catalogue (``text.words.KEYS`` / ``HELP_TEXTS``).
        footer: how the footer shows its keys (``""``: not in the footer).
        help: how the help screen shows its keys.
        bindings: the Textual bindings.
        tabs_only: only meaningful with several files (one tab each).
        drop: the footer leaves hints out from the highest ``drop`` down when even the short
            words do not fit (0: never left out).
    """

    word: str
    footer: str
    help: str
    bindings: tuple[Binding, ...]
    tabs_only: bool = False
    drop: int = 0


COMMANDS: tuple[Command, ...] = (
    Command(
        "quit",
        "q",
        "q  ctrl+c",
        (
            Binding("q", "quit", "quit", priority=True),
            # Ctrl-C arrives as a key in raw mode: quit at once with the shell's status for it
            # (Textual's default only shows a "press ctrl+q" toast).
            Binding("ctrl+c", "interrupt", "quit", show=False, priority=True, system=True),
        ),
    ),
    Command("help", "?", "?", (Binding("question_mark", "help", "help"),)),
    Command(
        "tabs",
        "[ ] 1-9",
        "[  ]",
        (
            Binding("left_square_bracket", "tab(-1)", "previous file", show=False),
            Binding("right_square_bracket", "tab(1)", "next file", show=False),
        ),
        tabs_only=True,
    ),
    Command(
        "tab_n",
        "",
        "1 … 9",
        tuple(Binding(str(n), f"goto_tab({n})", f"file {n}", show=False) for n in range(1, 10)),
        tabs_only=True,
    ),
    Command("glossary", "g", "g", (Binding("g", "glossary", "glossary"),), drop=3),
    Command(
        "glossary_scroll",
        "",
        "J  K",
        (
            Binding("J", "glossary_page(1)", "glossary page down", show=False),
            Binding("K", "glossary_page(-1)", "glossary page up", show=False),
        ),
    ),
    Command(
        "verdict",
        "v",
        "v  V",
        (
            Binding("v", "verdict_page(1)", "verdict page down", show=False),
            Binding("V", "verdict_page(-1)", "verdict page up", show=False),
        ),
        drop=4,
    ),
    Command(
        "metric",
        "↑↓",
        "↑ ↓  tab",
        (
            Binding("up", "move(-1)", "previous metric", show=False, priority=True),
            Binding("down", "move(1)", "next metric", show=False, priority=True),
        ),
        drop=1,
    ),
    Command(
        "event",
        "",
        "e  E",
        (
            Binding("e", "event(1)", "next event", show=False),
            Binding("E", "event(-1)", "previous event", show=False),
        ),
    ),
    Command("raw", "t", "t", (Binding("t", "raw_log", "raw log"),), drop=9),
    # Keys of the raw log screen (its own bindings): described here for the help.
    Command("raw_filter", "", "/  esc", ()),
    # Textual's own keys of the focused metrics list: described here, bound by Textual.
    Command("page", "", "pgup pgdn", ()),
    Command("log", "l", "l", (Binding("l", "log_scale", "log-y"),), drop=7),
    Command("smooth", "s", "s", (Binding("s", "smoothing", "smoothing"),), drop=5),
    Command("window", "w", "w", (Binding("w", "window", "whole/recent"),), drop=6),
    Command("pause", "p", "p", (Binding("p", "pause", "pause"),), drop=2),
    # Only a log with more than one run has anything to list, but the key is always there
    # (a reused log gains its second run while it is watched): the list says there is one.
    Command("runs", "r", "r", (Binding("r", "runs", "runs"),), drop=8),
)
"""Every command, in the order the footer and the help screen list them."""

BINDINGS: list[Binding] = [b for c in COMMANDS for b in c.bindings]
"""The app's bindings (``TrainmonApp.BINDINGS``)."""


def footer_keys(tabs: bool) -> list[Command]:
    """The commands the footer shows, in order (the tab keys only when ``tabs``)."""
    return [c for c in COMMANDS if c.footer and (tabs or not c.tabs_only)]


def help_keys(tabs: bool) -> list[Command]:
    """The commands the help screen lists: every one, in order (the tab keys too, which act
    only with several files; ``tabs`` is kept for the callers' symmetry with `footer_keys`)."""
    return list(COMMANDS)
