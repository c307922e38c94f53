"""Exception types of the scanner. Stable error *records* in reports are `model.ScanError` (with the
codes catalogued in `extract/errors.py`); these are exceptions raised to callers.

BaomiError                 root: `except BaomiError` catches every fault the scanner raises on purpose
 +- ConfigError            a rule, term, marking, policy, vocabulary or settings file (or value) is wrong;
 |                         names the file, the rule id and the field, so an admin can fix it
 +- ModelIntegrityError    a model file does not match its recorded hash or cannot be loaded
 +- ExtractionFailed       an extractor gave up; carries the ScanError the report will show
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # pragma: no cover
    from .model import ScanError


class BaomiError(Exception):
    """Root of every exception the scanner raises on purpose."""


class ConfigError(BaomiError, ValueError):
    """A configuration file or value is invalid. `str(exc)` reads "file: rule id: field: problem"."""

    def __init__(self, message: str, *, file: str = "", rule_id: str = "", field: str = ""):
        self.file, self.rule_id, self.field, self.problem = file, rule_id, field, message
        where = ": ".join(p for p in (file, rule_id and f"rule {rule_id}", field and f"field {field}") if p)
        super().__init__(f"{where}: {message}" if where else message)


def from_validation(exc: Any, *, file: str = "", rule_id: str = "", base: tuple = (),
                    known_keys: Iterable[str] = ()) -> ConfigError:
    """A pydantic ValidationError as a ConfigError naming the first bad field (a misspelt key gets a
    "did you mean" from known_keys)."""
    # a misspelt key gives "unknown key" and "missing": name the misspelling first
    errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
    e = errors[0]
    loc = tuple(base) + tuple(e.get("loc", ()))
    msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
    kind = e.get("type")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        hint = difflib.get_close_matches(key, sorted(set(known_keys)), n=1, cutoff=0.7)
        msg = f"unknown key {key!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
    elif kind == "missing":
        msg = "required key is missing"
    elif kind == "literal_error":
        msg = f"{e.get('input')!r} is not allowed: {msg}"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return ConfigError(msg + more, file=file, rule_id=rule_id, field=".".join(str(p) for p in loc))


class ModelIntegrityError(BaomiError, RuntimeError):
    """A model file is missing, corrupt or not the one its card records."""


class ExtractionFailed(BaomiError):
    """Raised inside an extractor; `extract._run` turns it into the report's ScanError."""

    def __init__(self, error: ScanError):
        super().__init__(error.code)
        self.error = error
