"""Shared test fixtures. ../shared (read-only, present in CI) holds the yardstick and public data."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert SHARED.is_dir(), "../shared must exist beside the project (it does in CI)"
    return SHARED


@pytest.fixture(scope="session")
def light_scanner():
    from scanner import get_scanner
    return get_scanner(light=True)
