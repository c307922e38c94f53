"""Offsets always point into the original text, through every normalisation (property tests)."""
from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.normalize import FILLER, ZERO_WIDTH, normalize

ALPHABET = st.sampled_from(list("机密秘绝★☆年个月长期内部资料注意保存身份证号码") + list("機構資義體擴") +
                           list("0123456789０１２３４５６７８９ＡＢａｂ，。（）：") + list(ZERO_WIDTH) +
                           [" ", "\u3000", "·", "-", "㈠", "ﬁ", "Ⅻ", "a", "\n"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_every_normalised_character_maps_back(text):
    n = normalize(text)
    assert n.original == text
    last = 0
    for k, ch in enumerate(n.text):
        a, b = n.span(k, k + 1)
        assert 0 <= a < b <= len(text)
        assert a >= last or a == n.span(k - 1, k)[0]      # monotone
        last = a
        piece = unicodedata.normalize("NFKC", "".join(c for c in text[a:b] if c not in ZERO_WIDTH))
        assert ch in piece or ch in normalize(piece).text, (text, k, ch, text[a:b])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40), st.text(alphabet=ALPHABET, max_size=40))
def test_compact_match_maps_to_exact_original_characters(prefix, suffix):
    """A marking spelt with spaces, full-width digits and traditional characters, inside random text,
    is found in the compact view and maps back to exactly the characters it was written with."""
    planted = "機 密 ★ １ ０ 年"
    text = prefix + "\n" + planted + "\n" + suffix
    comp = normalize(text).compact()
    i = comp.text.find("机密★10年", len(normalize(prefix).compact().text))
    assert i >= 0
    a, b = comp.span(i, i + len("机密★10年"))
    assert text[a:b] == planted


def test_fast_path_keeps_identity():
    n = normalize("普通的简体文本，没有变化。")
    assert n.identity
    assert n.text == "普通的简体文本,没有变化。"


def test_filler_removed_only_in_compact():
    n = normalize("请 勿·扩-散")
    assert n.text == "请 勿·扩-散"
    assert n.compact().text == "请勿扩散"
    assert all(c not in n.compact().text for c in FILLER)
