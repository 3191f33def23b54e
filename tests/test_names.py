"""The one allow-list for names people choose (schemas/names.py), character by
character, and the doors that use it: `nianbao check` and the build's intake
(guards), the portal and the upload API (submit; their end-to-end runs are the
name cases of tests/hostile/corpus.py)."""

from __future__ import annotations

import unicodedata

import pytest
from conftest import valid_cells

from pipeline.ingest.guards import Refused, check_file_bytes
from pipeline.portal.submit import name_problem as portal_name_problem
from pipeline.synth import to_csv
from schemas.names import character_problem, name_problem

REFUSED = {
    # controls
    "\x00": "控制字符", "\x07": "控制字符", "\x1b": "控制字符", "\x7f": "控制字符", "\x85": "控制字符",
    "\t": "控制字符", "\n": "控制字符", "\r": "控制字符",
    # bidirectional marks, embeddings, overrides, isolates
    "\u061c": "改变文字方向", "\u200e": "改变文字方向", "\u200f": "改变文字方向", "\u202a": "改变文字方向",
    "\u202b": "改变文字方向", "\u202c": "改变文字方向", "\u202d": "改变文字方向", "\u202e": "改变文字方向",
    "\u2066": "改变文字方向", "\u2067": "改变文字方向", "\u2068": "改变文字方向", "\u2069": "改变文字方向",
    # zero-width and other format characters
    "\u200b": "看不见", "\u200c": "看不见", "\u200d": "看不见", "\u2060": "看不见", "\ufeff": "看不见",
    "\u00ad": "看不见", "\u180e": "看不见", "\U000e0001": "看不见",
    # blank-looking characters that are not format characters
    "\u3164": "看不见", "\ufe0f": "看不见", "\u034f": "看不见", "\u2800": "看不见", "\u115f": "看不见",
    # line breaks in disguise, and spaces other than U+0020 and U+3000
    "\u2028": "分隔符", "\u2029": "分隔符", "\u00a0": "特殊空格", "\u2003": "特殊空格", "\u202f": "特殊空格",
    "\u205f": "特殊空格",
    # what Windows does not allow in a file name
    ":": "Windows", "*": "Windows", "?": "Windows", '"': "Windows", "<": "Windows", ">": "Windows",
    "|": "Windows",
    # private use, unassigned, a lone surrogate
    "\ue000": "不允许", "\u0378": "不允许", "\ud800": "不允许",
}  # fmt: skip

ACCEPTED = [
    "2025年报.xlsx",
    "甲局 2025 年报（第2版）.csv",
    "①报表【定稿】・Ⅱ.xlsx",
    "Ｆｕｌｌ－ｗｉｄｔｈ　名称.csv",
    "=1+1.csv",  # a formula-like name is allowed: every output neutralises it (pipeline/tabular.py)
    "@SUM(1+1)-#&'!~$%^()[]{};,.csv",
    "café.csv",
    unicodedata.normalize("NFD", "café データ.csv"),  # as a Mac names it
    "Ελληνικά Русский العربية.csv",
]


@pytest.mark.parametrize("char", list(REFUSED), ids=lambda c: f"U+{ord(c):04X}")
def test_each_refused_character_has_its_reason(char):
    reason = name_problem(f"年报{char}2025.csv")
    assert reason and REFUSED[char] in reason
    if char not in ':*?"<>|':
        assert f"U+{ord(char):04X}" in reason  # the character is named, since it may not show


@pytest.mark.parametrize("name", ACCEPTED)
def test_ordinary_names_pass(name):
    assert name_problem(name) is None and all(character_problem(c) is None for c in name)


@pytest.mark.parametrize(
    "name,fragment", [("", "空"), ("..", ".."), ("a..b.csv", ".."), ("a/b.csv", "路径"), ("a\\b.csv", "路径")]
)
def test_paths_are_refused(name, fragment):
    assert fragment in name_problem(name)


def test_every_category_outside_the_allow_list_is_refused():
    """Across the whole Basic Multilingual Plane: a character is allowed only if it is a
    letter, number, mark, punctuation or symbol (or one of the two spaces)."""
    for code in range(0x10000):
        char = chr(code)
        category = unicodedata.category(char)
        allowed = character_problem(char) is None
        if category[0] in "CZ" and char not in (" ", "\u3000"):
            assert not allowed, f"U+{code:04X} {category}"
        if category[0] in "LN":
            assert allowed or code in (0x115F, 0x1160, 0x3164, 0xFFA0), f"U+{code:04X} {category}"


@pytest.mark.parametrize("char", ["\u061c", "\u2028", "\u200b", "\ufeff", "\u200f", "\u202e"])
def test_check_intake_and_portal_use_the_one_policy(char):
    """E34: the four characters that got through, and the two that did not, at each door."""
    name = f"年报{char}.csv"
    with pytest.raises(Refused) as refused:
        check_file_bytes(to_csv(valid_cells(2025)), name)
    assert refused.value.key == "F9.unsafe_name" and refused.value.facts["reason"] == name_problem(name)
    assert portal_name_problem(name) == "F9.unsafe_name"


def test_a_refused_name_is_shown_with_its_hidden_characters_spelled_out():
    from schemas.messages import Message

    message = Message(
        severity="ERROR",
        rule="F9",
        unit="B",
        unit_label="乙局",
        file="b\u2028\u202e.csv",
        text="文件名不合法",
    )
    line = message.render()
    assert line.splitlines() == [line] and "b⟨U+2028⟩⟨U+202E⟩.csv" in line
