"""``trainmon serve``: the same Textual app in a browser, through textual-serve (the ``serve`` extra).

textual-serve runs one ``trainmon tail`` process per browser tab, driven by Textual's web
driver, and relays its screen over a websocket on one port. Nothing is computed here: the app is
the terminal's.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tui_monitor.core.follow.remote import parse_remote

__all__ = ["ServeExtraMissing", "is_loopback", "run_serve", "tail_command"]


class ServeExtraMissing(Exception):
    """textual-serve is not installed (``pip install 'trainmon[serve]'``)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any address


def tail_command(paths: Sequence[str | Path], *, lang: str = "en", poll: float | None = None) -> str:
    """The shell command textual-serve starts for each browser tab: ``trainmon tail`` on the
    same logs (local paths made absolute: the process does not share the server's working
    directory; the ssh command reaches it through ``$TRAINMON_SSH_COMMAND``)."""
    argv = [sys.executable, "-m", "tui_monitor", "tail", *(_for_child(p) for p in paths), "--lang", lang]
    if poll is not None:
        argv += ["--poll", str(poll)]
    return shlex.join(argv)


def _for_child(path: str | Path) -> str:
    """A local path made absolute; a remote ``user@host:/path`` as it is."""
    text = str(path)
    if not os.path.lexists(text) and parse_remote(text) is not None:
        return text
    return str(Path(text).absolute())


def run_serve(
    paths: Sequence[str | Path],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    public_url: str | None = None,
    lang: str = "en",
    poll: float | None = None,
) -> int:
    """Serve the app on ``http://host:port`` until Ctrl-C; return the exit status.

    Args:
        paths: the logs, as for ``trainmon tail``.
        host: the address to listen on (127.0.0.1 by default: only this machine, e.g. through
            an SSH port forward).
        port: the TCP port.
        public_url: the URL browsers reach the server by, when it is behind a proxy; by
            default each page talks back to the address it was loaded from (a forwarded port
            on a laptop works as it is).
        lang: ``"en"`` or ``"ru"``.
        poll: ``--poll`` for the served app, or ``None``.

    Raises:
        ServeExtraMissing: textual-serve is not installed.
        OSError: the port cannot be bound.
    """
    try:
        from aiohttp import web
        from textual_serve.server import Server
    except ImportError:
        raise ServeExtraMissing("trainmon serve needs the serve extra: pip install 'trainmon[serve]'") from None

    class _Server(Server):  # type: ignore[misc]  # textual-serve's Server is untyped
        """textual-serve's server; without a public URL, each page's websocket goes back to
        the host and port the page was loaded from (the page is the same through a tunnel)."""

        async def handle_index(self, request: web.Request) -> Any:
            if public_url is None:
                # Set and read without an await in between: no other request sees it.
                self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

    command = tail_command(paths, lang=lang, poll=poll)
    server = _Server(command, host=host, port=port, title="trainmon", public_url=public_url)
    server.serve()
    return 0
