"""The passage taxonomy and cues are data (lexicons/passage.toml): every cue's true/false examples,
and every category has a Chinese label, description, suggestion and examples."""
from __future__ import annotations

import re

import pytest

from scanner.detectors.passage import Cues, cue_signature, load_lexicon

LEX = load_lexicon()


@pytest.mark.parametrize("name", list(LEX["cue"]))
def test_cue_examples(name):
    spec = LEX["cue"][name]
    rx = re.compile(spec["pattern"])
    assert spec["zh"] and spec["true"] and spec["false"]
    for t in spec["true"]:
        assert rx.search(t), (name, t)
    for t in spec["false"]:
        assert not rx.search(t), (name, t)


def test_categories_are_documented():
    assert len(LEX["category"]) >= 10
    for name, c in LEX["category"].items():
        assert re.fullmatch(r"[a-z]+", name)
        assert c["zh"] and c["description"] and c["suggestion"] and c["examples"], name


def test_cue_matrix_marks_units():
    cues = Cues(LEX)
    text = "方案暂不对外。已于昨日公布。"
    M = cues.matrix(text, [0, 7], [7, len(text)])
    k_restrict, k_pub = cues.names.index("restrict"), cues.names.index("published")
    assert M[0, k_restrict] == 1 and M[1, k_restrict] == 0
    assert M[1, k_pub] == 1 and M[0, k_pub] == 0


def test_signature_changes_with_a_pattern():
    other = {k: dict(v) for k, v in LEX["cue"].items()}
    first = next(iter(other))
    other[first]["pattern"] += "|额外"
    assert cue_signature(other) != cue_signature(LEX["cue"])
