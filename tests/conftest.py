"""Shared test helpers: fixture paths and a whole-file parse through the real pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    """The directory holding real/ and public/ fixture logs."""
    return FIXTURES
