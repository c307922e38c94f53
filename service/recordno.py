"""The 一事一审 number of a submission: one record per item, numbered per year, e.g. 保审〔2026〕17号.

The number is given when the submission is made, in the same transaction, from a counter row per
year (`record_counters`): on SQLite the writer lock orders the transactions, on PostgreSQL the
counter row is locked FOR UPDATE (the first number of a year inserts the row in a savepoint and
re-reads it when another transaction inserted it first). Numbers are never reused or changed: the
prefix (`BAOMI_RECORD_PREFIX`) applies to numbers given out after it is set.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .clock import beijing
from .models import RecordCounter, Submission

MAX_PREFIX = 16


def format_number(prefix: str, year: int, seq: int) -> str:
    return f"{clean_prefix(prefix)}〔{year}〕{seq}号"


def clean_prefix(prefix: str) -> str:
    """The prefix as printed: printable characters only, at most MAX_PREFIX of them."""
    return "".join(ch for ch in prefix if ch.isprintable() and not ch.isspace())[:MAX_PREFIX]


def next_seq(s: Session, year: int) -> int:
    """Take the next sequence number of `year` (inside the caller's write transaction)."""
    row = s.execute(select(RecordCounter).where(RecordCounter.year == year).with_for_update()).scalar_one_or_none()
    if row is None:
        try:
            with s.begin_nested():
                s.add(RecordCounter(year=year, last=0))
        except IntegrityError:      # another transaction made the year's row first
            pass
        row = s.execute(select(RecordCounter).where(RecordCounter.year == year)
                        .with_for_update()).scalar_one()
    row.last += 1
    s.flush()
    return row.last


def assign(s: Session, sub: Submission, prefix: str) -> str:
    """Give `sub` its number (the year of its creation in Beijing time)."""
    year = beijing(sub.created_at).year
    sub.record_no = format_number(prefix, year, next_seq(s, year))
    return sub.record_no


def record_number(sub: Submission) -> str:
    """The number printed on the record; a submission made before numbering shows its id."""
    return sub.record_no or sub.id
