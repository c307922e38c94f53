"""Every rule's and every lexicon's own examples, checked (gitleaks-style)."""
from __future__ import annotations

import pytest

from scanner.detectors.base import ScanContext
from scanner.detectors.marking import MarkingDetector
from scanner.detectors.regex import RegexDetector
from scanner.detectors.terms import TermDetector
from scanner.model import Document
from scanner.rules import Ruleset, default_lexicon_dir

RULESET = Ruleset.load(default_lexicon_dir())
RULE_CASES = [(r, ex, True) for r in RULESET.rules for ex in r.examples_true] + \
             [(r, ex, False) for r in RULESET.rules for ex in r.examples_false]
LEX_CASES = [(lx, ex, True) for lx in RULESET.lexicons for ex in lx.examples_true] + \
            [(lx, ex, False) for lx in RULESET.lexicons for ex in lx.examples_false]


def _ctx(text: str) -> ScanContext:
    doc = Document(source="<example>", sha256="", media_type="text/plain")
    doc.add("body", text)
    return ScanContext.of(doc)


def test_every_rule_has_examples():
    for r in RULESET.rules:
        assert r.examples_true and r.examples_false, f"{r.id} needs positive and negative examples"
        assert r.explanation and r.suggestion, f"{r.id} needs a Chinese explanation and suggestion"
    for lx in RULESET.lexicons:
        assert lx.examples_true and lx.examples_false, f"{lx.name} needs examples"


@pytest.mark.parametrize("rule,example,positive", RULE_CASES, ids=lambda x: getattr(x, "id", None) or str(x)[:24])
def test_rule_example(rule, example, positive):
    found = RegexDetector([rule]).detect(_ctx(example))
    if positive:
        assert found, f"{rule.id} should match: {example!r}"
        for f in found:
            assert example[f.start:f.end] == f.text
    else:
        assert not found, f"{rule.id} should not match {example!r}: {[f.text for f in found]}"


@pytest.mark.parametrize("lexicon,example,positive", LEX_CASES, ids=lambda x: getattr(x, "name", None) or str(x)[:24])
def test_lexicon_example(lexicon, example, positive):
    found = TermDetector([lexicon]).detect(_ctx(example))
    assert bool(found) == positive, (example, [f.text for f in found])


MARKING = RULESET.marking


@pytest.mark.parametrize("draft", MARKING.examples.true)
def test_marking_examples_true(light_scanner, draft):
    report = light_scanner.scan_text(draft)
    marks = [f for f in report.findings if f.category.startswith("marking")]
    assert marks, draft
    assert report.decision == "block", (draft, [(f.category, f.severity) for f in marks])


@pytest.mark.parametrize("draft", MARKING.examples.review)
def test_marking_examples_review(light_scanner, draft):
    report = light_scanner.scan_text(draft)
    marks = [f for f in report.findings if f.category.startswith("marking") and f.severity not in ("low", "info")]
    assert marks, draft
    assert report.decision == "review", (draft, [(f.category, f.severity) for f in report.findings])


@pytest.mark.parametrize("draft", MARKING.examples.false)
def test_marking_examples_false(light_scanner, draft):
    report = light_scanner.scan_text(draft)
    # a mention may be shown to the reviewer (low severity) but never decides
    assert not [f for f in report.findings if f.category.startswith("marking") and f.severity not in ("low", "info")], draft
    assert report.decision == "pass"


def test_rule_ids_unique_and_categories_in_taxonomy():
    ids = [r.id for r in RULESET.rules]
    assert len(ids) == len(set(ids))
    for item in (*RULESET.rules, *RULESET.lexicons):
        assert RULESET.taxonomy.check_category(item.category) is None, item.category


def test_marking_detector_builds_from_data():
    det = MarkingDetector(MARKING)
    assert det.strong.search("秘密★5年")
