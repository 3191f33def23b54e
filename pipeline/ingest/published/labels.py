"""Printed labels compared with the format's labels, whatever the typesetting.

Published forms differ from the official labels only in form: spaces and
non-breaking spaces, full-width punctuation, quotation marks, the numbering
("（一）", "(一)", "一、", "1.", "1、") and the explanatory notes in brackets
that some bodies leave out. None of these changes which row or column a label
names, so they are removed on both sides before comparing; anything else must
match exactly.
"""

from __future__ import annotations

import re
import unicodedata

# How a published report numbers the official tables it prints (表一 is the section
# heading of 一, not a table): named in messages about a printed table.
TABLE_NUMBERS = {"proactive": "表二", "applications": "表三", "review_litigation": "表四"}

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans("", "", "“”\"'‘’「」")
# A leading enumerator: （一） (1) 一、 1. 1、 1．
_NUMBERING = re.compile(r"^(?:\([一二三四五六七八九十\d]+\)|[一二三四五六七八九十]+[、.]|\d+[、.])")
# A bracketed note, e.g. （区分处理的，只计这一情形，不计其他情形）
_NOTE = re.compile(r"\([^()]*\)")
# What a value cell may hold besides digits: blank and the placeholders bodies print.
_VALUE = re.compile(r"^[\d,.\s]*$|^[/／—–\-－无]+$")


def squeeze(text: str) -> str:
    """NFKC (full-width to half-width), no whitespace at all."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or "").replace("\u3000", " "))


def label_key(text: str) -> str:
    """The part of a label that says what it is: no numbering, notes, quotes or spaces."""
    key = squeeze(text).translate(_QUOTES)
    key = _NUMBERING.sub("", key)
    return _NOTE.sub("", key).rstrip(":：")


def looks_like_value(text: str) -> bool:
    """A cell as bodies fill value cells: a number, blank, "/", "—", "无"."""
    return bool(_VALUE.match(squeeze(text)))


def printed(text: str) -> str:
    """A cell's text as printed, with its runs of whitespace made single spaces."""
    return _SPACE.sub(" ", (text or "").replace("\u00a0", " ").replace("\u3000", " ")).strip()
