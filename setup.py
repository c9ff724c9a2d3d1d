"""The optional C extension (``tui_monitor.core.parse._scan``, the compiled columnar run reader).

Everything else about the package is in pyproject.toml. The extension is optional: where it cannot
be built (no C compiler, no Python headers) the build says so and goes on, and trainmon runs its
pure-Python path with the same results (``trainmon --version`` says which path runs).
Set ``TRAINMON_NO_EXTENSION=1`` to skip building it.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """``build_ext`` that never fails the install: any build error is reported and skipped
    (setuptools' own ``optional=True`` misses some, e.g. a missing compiler on some setups)."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any failure means: no extension, pure Python
            self._skipped(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._skipped(exc)

    @staticmethod
    def _skipped(exc: BaseException) -> None:
        print(f"trainmon: the C extension was not built ({exc}); the pure-Python path will run", file=sys.stderr)


ext_modules = []
if not os.environ.get("TRAINMON_NO_EXTENSION"):
    ext_modules.append(
        Extension(
            "tui_monitor.core.parse._scan",
            ["tui_monitor/core/parse/_scan.c"],
            optional=True,
            extra_compile_args=os.environ.get("TRAINMON_CFLAGS", "-O2").split(),
            extra_link_args=os.environ.get("TRAINMON_LDFLAGS", "").split(),
        )
    )

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})
