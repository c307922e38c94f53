"""Offsets always point into the original text, through every normalisation (property tests)."""
from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.normalize import FILLER, ZERO_WIDTH, _confusables, normalize

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


# ---- look-alikes and the evasion view (stripped) ---------------------------------------------------

EVASION_ALPHABET = st.sampled_from(list("不得外传请勿扩散内部机密") + list("@★＊·，。、 😀<>b/&;#x") +
                                   list("аорсеΑΟ") + list("passwordPW") + list(ZERO_WIDTH[:3]) +
                                   ["\u3000", "ｐ", "囗", "袐", "\n", "﹏"])


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=EVASION_ALPHABET, max_size=60))
def test_stripped_view_maps_back(text):
    """Every character of the stripped view maps to an original span whose characters normalise to it
    (a repeated character maps to its whole run); spans never overlap and keep their order."""
    v = normalize(text).stripped()
    last_end = 0
    for k, ch in enumerate(v.text):
        a, b = v.span(k, k + 1)
        assert 0 <= a < b <= len(text)
        assert a >= last_end, (text, k)
        last_end = b
        if ch == "\n":
            assert text[a:b] == "\n"
            continue
        assert ch.isalnum(), (text, ch)
        piece = normalize(text[a:b]).text
        folded = piece.translate(_confusables()[0]).translate(_confusables()[1])   # alone, out of its word
        assert piece and (set(piece) == {ch} or set(folded) == {ch}), (text, k, ch, text[a:b])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=EVASION_ALPHABET, max_size=30), st.text(alphabet=EVASION_ALPHABET, max_size=30),
       st.sampled_from(["@", "★", "＊", "·", "😀", "<b>", "</i>", "&nbsp;", "、"]))
def test_evasion_term_maps_to_exact_original_span(prefix, suffix, sep):
    """不<sep>得<sep>外<sep>传 planted in random text: the stripped view reads 不得外传 and the span maps to
    exactly the characters the author wrote, separators included."""
    planted = sep.join("不得外传")
    text = prefix + "\n" + planted + "\n" + suffix
    v = normalize(text).stripped()
    start = len(normalize(prefix).stripped().text) + 1
    i = v.text.find("不得外传", start)
    assert i == start, (text, v.text)
    a, b = v.span(i, i + 4)
    assert text[a:b] == planted


def test_repeated_characters_collapse_to_their_run():
    text = "不不不得得外外传"
    v = normalize(text).stripped()
    assert v.text == "不得外传"
    assert [text[slice(*v.span(k, k + 1))] for k in range(4)] == ["不不不", "得得", "外外", "传"]


def test_lookalike_letters_fold_inside_latin_words_only():
    n = normalize("pаssword（Cyrillic а）、Москва、囗令")
    assert n.identity                       # 1:1: offsets unchanged
    assert n.text.startswith("password(Cyrillic а)")    # a lone Cyrillic letter is left alone
    assert "Москва" in n.text               # a Russian word stays Russian
    assert n.text.endswith("口令")
