"""What report texts claim, as the phrases real reports write it: the one place the prose
rules (P1, P2, P3; schemas/rules/prose.py) take their phrase lists from.

Each format says which of its cells a claim means (`ReportFormat.claims`, in the format's
module); the phrases are the language, shared by the formats. A test per phrase
(tests/test_prose_phrases.py) keeps every entry honest.

How a figure is attributed: within one clause (text between ，：; and the previous figure),
the phrases before "N件" decide what it counts. A *part* (予以公开, 部分公开, 不予公开, 转下
一年度, 行政复议 …) wins over a *total* (收到…申请, 办结, 答复), because a breakdown sentence
names its total first ("所有办结的申请中同意公开答复9件"). Two different parts, or two
different totals, in one clause: the figure could mean either and is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Claim:
    """A kind of figure texts quote; `name` is what formats map to cells."""

    name: str
    label: str  # as a message names it
    tier: Literal["part", "total"]
    pattern: re.Pattern


def _claim(name: str, label: str, tier: Literal["part", "total"], pattern: str) -> Claim:
    return Claim(name, label, tier, re.compile(pattern))


CLAIMS: tuple[Claim, ...] = (
    _claim("carried_over", "上年结转申请", "part", r"上一?年度?结转|结转自上一?年"),
    _claim("carried_forward", "结转下年度继续办理", "part", r"(?:结转|转)(?:至|到|入)?下一?年度?"),
    _claim("partially_disclosed", "部分公开", "part", r"部分公开"),
    _claim("withheld", "不予公开", "part", r"不予(?:以)?公开"),
    _claim(
        "disclosed",
        "予以公开",
        "part",
        r"(?<![不部])(?:予以公开|同意公开|全部公开)|(?<!部分)(?<!不予)(?<!申请)公开答复",
    ),
    _claim("unavailable", "无法提供", "part", r"无法提供"),
    _claim("not_handled", "不予处理", "part", r"不予处理"),
    _claim("other_handling", "其他处理", "part", r"其他处理"),
    _claim("review", "行政复议", "part", r"行政复议"),
    _claim("litigation", "行政诉讼", "part", r"行政诉讼"),
    _claim(
        "received", "本年新收申请", "total", r"(?:新收|收到|受理|接收|接到)\D*申请|申请\D*(?:新收|收到|受理)"
    ),
    _claim("handled", "办理结果总计", "total", r"办结|答复|办理完毕"),
)

# Documents: a document word and one verb in the clause ("本年制发规范性文件3件",
# "现行有效规章2件"). The claim's name is "<row>.<verb>" (e.g. "normative_documents.issued").
DOCUMENTS = {"regulations": re.compile(r"规章"), "normative_documents": re.compile(r"规范性文件")}
DOCUMENT_VERBS = {
    "issued": re.compile(r"制发|印发|制定|出台|新制作"),
    "repealed": re.compile(r"废止"),
    "in_force": re.compile(r"现行有效"),
}
DOCUMENT_LABELS = {"regulations": "规章", "normative_documents": "规范性文件"}
VERB_LABELS = {"issued": "制发", "repealed": "废止", "in_force": "现行有效"}

# A count as written: 1234, 1,234, １２３４, １，２３４ (separators only in their places), then 件.
# Not 条: real reports count items of information in 条 with the same words ("共制发政府信息316条，
# 其中…不予公开67条" is documents not made public, not applications withheld).
FIGURE = re.compile(r"(?P<n>[0-9０-９]{1,3}(?:[,，][0-9０-９]{3})+|[0-9０-９]+)\s*件")
SENTENCE_END = "。；;！!？?\n"
CLAUSE_END = "，,：:、"


@dataclass(frozen=True)
class NoneClaim:
    """A sentence saying there was none of something; `claims` are what it says is zero."""

    name: str
    label: str
    pattern: re.Pattern
    claims: tuple[str, ...]


# "2022年未收到依申请公开事宜", "本年度没有收到政府信息公开申请", "未发生因政府信息公开引起的
# 行政复议、行政诉讼": a negation, then within the clause what there was none of.
_NONE = r"(?:未|没有|无)(?:收到|受理|接到|接收|新收|发生|出现|产生|被提起|被申请)"
NONE_CLAIMS: tuple[NoneClaim, ...] = (
    NoneClaim(
        "no_applications",
        "没有收到政府信息公开申请",
        re.compile(
            # 申请, not 申请人: "未收到该申请人提交的补正" is about a correction, not applications
            rf"(?:{_NONE}[^{SENTENCE_END}，,0-9０-９]{{0,12}}?(?:依申请公开|信息公开申请|申请(?!人))"
            r"|无(?:依申请公开|政府信息公开申请|信息公开申请))"
            # "未发生因政府信息公开申请引起的行政复议" is about 复议, not applications
            rf"(?![^{SENTENCE_END}，,]*(?:行政复议|行政诉讼))"
        ),
        ("received", "handled"),
    ),
    NoneClaim(
        "no_review",
        "没有行政复议",
        re.compile(_NONE + rf"[^{SENTENCE_END}，,0-9０-９]{{0,20}}?行政复议"),
        ("review",),
    ),
    NoneClaim(
        "no_litigation",
        "没有行政诉讼",
        re.compile(_NONE + rf"[^{SENTENCE_END}，,0-9０-９]{{0,24}}?行政诉讼"),
        ("litigation",),
    ),
)

# P2: section 六 reports the 信息处理费 (national format, reports on 2021 on). Any of these
# says what happened with the fee, including that there was none.
FEE_STATEMENTS: tuple[re.Pattern, ...] = tuple(
    re.compile(p)
    for p in (
        r"处理费",
        r"收费",
        r"收取[^。；;]{0,10}费",
        r"(?:未|不|没有|无)收取",
        r"免费",
    )
)

# P3: section 五 saying nothing ("无", "暂无" …), after punctuation and spaces are removed.
NOTHING = frozenset({"", "无", "暂无", "没有", "无问题", "不存在", "略"})
