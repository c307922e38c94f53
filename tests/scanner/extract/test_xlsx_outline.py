"""xlsx outline groups: which hidden grouped rows belong to a collapsed group the reader sees.

scanner.extract.xlsx._groups_shown finds every such row in one pass over the rows. These tests hold
it to the rule as written (a walk from each hidden row to its group's summary row, the reference
below) on random sheets, at the OUTLINE_SCAN limit, and on a hostile sheet of many grouped rows,
which the walk would take billions of steps over.
"""
from __future__ import annotations

import random

import pytest

from scanner.extract.xlsx import OUTLINE_SCAN, _groups_shown


def _walk(rows: dict[int, tuple[bool, int]], summary_below: bool) -> set[int]:
    """The rule, row by row: a hidden row of outline level L > 0 is shown as a collapsed group when
    the nearest row below it (above it with summaryBelow="0") whose level is under L, at most
    OUTLINE_SCAN rows away, is visible. A row absent from the XML is a visible row of level 0; there
    is no row above row 1."""
    step = 1 if summary_below else -1
    shown = set()
    for r, (hidden, level) in rows.items():
        if not hidden or not level:
            continue
        k = r + step
        for _ in range(OUTLINE_SCAN):
            if k < 1:
                break
            h, lv = rows.get(k, (False, 0))
            if lv < level:
                if not h:
                    shown.add(r)
                break
            k += step
    return shown


def _random_sheet(rng: random.Random) -> dict[int, tuple[bool, int]]:
    rows: dict[int, tuple[bool, int]] = {}
    r = rng.randint(1, 4)
    for _ in range(rng.randint(0, 40)):
        rows[r] = (rng.random() < 0.6, rng.choice((0, 0, 1, 1, 2, 3, 7)))
        r += 1 if rng.random() < 0.8 else rng.randint(2, 5)        # now and then rows absent from the XML
    return rows


@pytest.mark.parametrize("summary_below", [True, False])
def test_one_pass_marks_the_rows_the_walk_marks_on_random_sheets(summary_below):
    rng = random.Random(20261203 + summary_below)
    marked = 0
    for _ in range(3000):
        rows = _random_sheet(rng)
        expected = _walk(rows, summary_below)
        assert _groups_shown(rows, summary_below) == expected, (rows, summary_below)
        marked += len(expected)
    assert marked > 1000        # the sheets hold collapsed groups, not only rows left unmarked


def test_a_summary_row_beyond_the_scan_limit_is_not_found():
    """Rows 1..OUTLINE_SCAN+1 hidden at level 1, the summary row (visible) right after them: the rows
    within OUTLINE_SCAN of it are shown as a group, row 1 is not (fail closed: it stays hidden)."""
    n = OUTLINE_SCAN + 1
    rows = {r: (True, 1) for r in range(1, n + 1)}
    rows[n + 1] = (False, 0)
    shown = _groups_shown(rows, True)
    assert shown == set(range(2, n + 1)) == _walk(rows, True)
    # the summary row above (summaryBelow="0"): mirrored
    up = {1: (False, 0), **{r: (True, 1) for r in range(2, n + 2)}}
    assert _groups_shown(up, False) == set(range(2, n + 1)) == _walk(up, False)
    # a hidden summary row: the group is not one the reader can open
    rows[n + 1] = (True, 0)
    assert _groups_shown(rows, True) == set()


def test_a_sheet_of_many_grouped_rows_is_one_pass():
    """300,000 hidden grouped rows (level 1, every 7th a nested level-2 row) above one visible summary
    row: the walk looks through 5,000 rows for each row out of reach (~1.5e9 steps); the pass marks
    exactly the level-1 rows within OUTLINE_SCAN of the summary row (a level-2 row's nearest
    lower-level row is the hidden level-1 row below it: not a group the reader sees)."""
    n = 300_000
    rows = {r: (True, 2 if r % 7 == 0 else 1) for r in range(1, n + 1)}
    rows[n + 1] = (False, 0)
    rows[n + 3] = (True, 3)        # past a row absent from the XML (a visible level-0 row), then the last
    expected = {r for r in range(n + 1 - OUTLINE_SCAN, n + 1) if r % 7} | {n + 3}
    assert _groups_shown(rows, True) == expected
    # summaryBelow="0": the summary row above, the same rows counted from the top
    top = {1: (False, 0), **{r: (True, 2 if r % 7 == 0 else 1) for r in range(2, n + 2)}}
    assert _groups_shown(top, False) == {r for r in range(2, 2 + OUTLINE_SCAN) if r % 7}
