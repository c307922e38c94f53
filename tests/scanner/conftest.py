"""Scanner fixtures shared by the scanner tests: one home for how the tests build their scanners.
Module scope, as each test file had them: a module gets its own instances (a test that changes a
scanner's state does not leak it into another file), built once for all its tests."""
from __future__ import annotations

import pytest

from scanner.engine import Scanner


@pytest.fixture(scope="module")
def full() -> Scanner:
    """The full scanner: models and OCR on."""
    return Scanner()


@pytest.fixture(scope="module")
def light() -> Scanner:
    """The light scanner: rules and lexicons only, no models, no OCR."""
    return Scanner(light=True)


@pytest.fixture(scope="module")
def inventory() -> Scanner:
    """names_report="all": every name the tagger finds, as a low finding (archive review)."""
    return Scanner(names_report="all")
