"""Rules on the text sections against the tables and last year (P1–P5).

The figures a text quotes (本年新收/收到/受理…申请 N 件, 上年结转, 办结/答复,
结转下年度, 行政复议, 行政诉讼, 规章/规范性文件 制发/废止/现行有效) are found by
`quoted_figures` and compared with the table cells that mean the same; the same
function checks the coordinating office's own text (pipeline/steps/prose.py).
Counts written in Chinese numerals (一千二百件) are not read: the forms and almost
every report write figures in digits, and reading numerals well needs a parser of
its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, ReportFormat, Rule
from schemas.messages import Message
from schemas.numbers import format_number, parse_number
from schemas.rules.context import RuleContext
from schemas.rules.registry import YearInputs, rule_kind

Key = tuple[str, str, str]

# A count as written: 1234, 1,234, １２３４, １，２３４ (thousands separators only in
# their places), then 件 with or without a space.
_NUMBER = r"(?P<n>[0-9０-９]{1,3}(?:[,，][0-9０-９]{3})+|[0-9０-９]+)\s*件"
_STOP = r"。；;！!？?\n"


def _gap(n: int) -> str:
    """Up to n characters within one clause, no digits (so a gap never skips a figure)."""
    return rf"[^{_STOP}0-9０-９]{{0,{n}}}?"


_DOC = r"(?P<doc>规章|(?:行政)?规范性文件)"


@dataclass(frozen=True)
class Figure:
    """A kind of figure texts quote, and the cells (summed) it means in a format."""

    name: str
    label: str
    patterns: tuple[re.Pattern, ...]
    # format code -> cells; "*" for every national-style format
    cells: dict[str, tuple[Key, ...]]

    def cells_in(self, fmt: ReportFormat, doc: str | None) -> tuple[Key, ...]:
        cells = self.cells.get(fmt.code, self.cells.get("*", ()))
        if doc is not None:
            row = "regulations" if doc == "规章" else "normative_documents"
            cells = tuple((t, row, c) for t, _, c in cells)
        known = fmt.cell_kinds()
        return tuple(k for k in cells if k in known)


def _doc_patterns(verbs: str) -> tuple[re.Pattern, ...]:
    return (
        re.compile(rf"(?:{verbs}){_gap(6)}{_DOC}{_gap(6)}{_NUMBER}"),
        re.compile(rf"{_DOC}{_gap(4)}(?:{verbs}){_gap(4)}{_NUMBER}"),
    )


FIGURES = (
    Figure(
        "carried_over",
        "上年结转申请",
        (re.compile(rf"上一?年度?结转{_gap(20)}{_NUMBER}"),),
        {"*": (("applications", "carried_over", "total"),)},
    ),
    Figure(
        "carried_forward",
        "结转下年度继续办理",
        (re.compile(rf"结转(?:至|到)?下一?年度?{_gap(10)}{_NUMBER}"),),
        {"*": (("applications", "carried_forward", "total"),)},
    ),
    Figure(
        "received",
        "本年新收申请",
        (re.compile(rf"(?:新收|收到|受理|接收|接到){_gap(20)}申请{_gap(8)}{_NUMBER}"),),
        {"*": (("applications", "received", "total"),)},
    ),
    Figure(
        "handled",
        "办理结果总计",
        (re.compile(rf"(?:办结|答复|办理完毕){_gap(10)}{_NUMBER}"),),
        {"*": (("applications", "handled_total", "total"),)},
    ),
    Figure(
        "review",
        "行政复议",
        (re.compile(rf"行政复议{_gap(10)}{_NUMBER}"),),
        {"*": (("review_litigation", "review", "total"),)},
    ),
    Figure(
        "litigation",
        "行政诉讼",
        (re.compile(rf"行政诉讼{_gap(10)}{_NUMBER}"),),
        {
            "*": (
                ("review_litigation", "litigation_direct", "total"),
                ("review_litigation", "litigation_after_review", "total"),
            )
        },
    ),
    Figure(
        "issued",
        "本年制发",
        _doc_patterns("制发|印发|制定|出台|新制作"),
        {"national-2021": (("proactive", "?", "issued"),), "trial-2019": (("proactive", "?", "made"),)},
    ),
    Figure(
        "repealed",
        "本年废止",
        _doc_patterns("废止"),
        {"national-2021": (("proactive", "?", "repealed"),)},
    ),
    Figure(
        "in_force",
        "现行有效",
        _doc_patterns("现行有效"),
        {"national-2021": (("proactive", "?", "in_force"),)},
    ),
)


@dataclass(frozen=True)
class Quote:
    figure: Figure
    sentence: str
    quoted: str  # as written, e.g. "1,234 件"
    number: Decimal
    cells: tuple[Key, ...]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(rf"(?<=[{_STOP}])", text) if s.strip()]


def quoted_figures(text: str, fmt: ReportFormat) -> list[Quote]:
    """Every figure `text` quotes that a table of `fmt` holds, sentence by sentence."""
    found: list[Quote] = []
    for sentence in sentences(text):
        taken: list[tuple[int, int]] = []
        for figure in FIGURES:
            for pattern in figure.patterns:
                for match in pattern.finditer(sentence):
                    start, end = match.span()
                    if any(s < end and start < e for s, e in taken):
                        continue  # "上年结转…件" is not also "结转…件" of another figure
                    number = parse_number(match.group("n").replace("，", ","))
                    groups = match.groupdict()
                    cells = figure.cells_in(fmt, groups.get("doc"))
                    if number is None or not cells:
                        continue
                    taken.append((start, end))
                    quoted = sentence[match.start("n") : end]
                    found.append(Quote(figure, sentence, quoted, number, cells))
    return found


def short(sentence: str, limit: int = 80) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def mismatches(text: str, fmt: ReportFormat, value) -> list[tuple[Quote, float]]:
    """(quote, table figure) for each quoted figure that differs from the table;
    `value(table, row, column)` gives a cell's number (0 when blank)."""
    out = []
    for quote in quoted_figures(text, fmt):
        table = sum(value(*k) for k in quote.cells)
        if float(quote.number) != float(table):
            out.append((quote, table))
    return out


def cell_names(fmt: ReportFormat, quote: Quote, ctx_label) -> str:
    return "“" + "”+“".join(ctx_label(*k) for k in quote.cells) + "”"


# --- registered kinds ---------------------------------------------------------------


def _texts(frame: pd.DataFrame) -> dict[tuple[str, str], str]:
    part = frame[frame["table"] == NARRATIVE_TABLE]
    return {(u, r): str(v) for u, r, v in zip(part["unit"], part["row"], part["value"])}


def _numbers(frame: pd.DataFrame) -> dict[tuple[str, str, str, str], float]:
    # Only the cells texts can quote (totals and the documents' rows), not all 200,000.
    wanted = {k for f in FIGURES for cells in f.cells.values() for k in cells}
    tables, columns = {k[0] for k in wanted}, {k[2] for k in wanted}
    part = frame[frame["table"].isin(tables) & frame["column"].isin(columns) & frame["number"].notna()]
    return {
        (u, t, r, c): float(n)
        for u, t, r, c, n in zip(part["unit"], part["table"], part["row"], part["column"], part["number"])
    }


def _units(frame: pd.DataFrame, inputs: YearInputs) -> list[str]:
    """Units that handed in any text section: a file of tables only (a partial CSV
    export) is not judged on text it does not carry."""
    writers = set(frame.loc[frame["table"] == NARRATIVE_TABLE, "unit"])
    return [u for u in inputs.units if u in writers]


@rule_kind("prose_figures")
def check_prose_figures(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    texts = _texts(frame)
    if not texts:
        return []
    numbers = _numbers(frame[frame["unit"].isin({u for u, _ in texts})])
    messages: list[Message] = []
    for rule in rules:
        for (unit, section), text in texts.items():
            for quote, table in mismatches(text, fmt, lambda t, r, c, u=unit: numbers.get((u, t, r, c), 0.0)):
                messages.append(
                    ctx.message(rule, unit, "prose_figures", (NARRATIVE_TABLE, section, NARRATIVE_COLUMN),
                                sentence=short(quote.sentence), quoted=quote.quoted,
                                cell=cell_names(fmt, quote, ctx.cell_label), table=format_number(table))
                )  # fmt: skip
    return messages


_FEE_WORDS = ("处理费", "收费")


@rule_kind("prose_fee")
def check_prose_fee(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    texts = _texts(frame)
    return [
        ctx.message(rule, unit, "prose_fee", (NARRATIVE_TABLE, "other_matters", NARRATIVE_COLUMN))
        for rule in rules
        for unit in _units(frame, inputs)
        if "处理费" not in texts.get((unit, "other_matters"), "")
    ]


NOTHING = {"", "无", "暂无", "没有", "无问题", "不存在", "略"}


def bare(text: str) -> str:
    return re.sub(r"[\s。，、；;：:.,!！]", "", text)


@rule_kind("prose_problems")
def check_prose_problems(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    texts = _texts(frame)
    messages = []
    for rule in rules:
        for unit in _units(frame, inputs):
            written = bare(texts.get((unit, "problems"), ""))
            if written in NOTHING:
                what = "没有填写" if not written else f"只写了“{written}”"
                messages.append(
                    ctx.message(rule, unit, "prose_problems", (NARRATIVE_TABLE, "problems", NARRATIVE_COLUMN),
                                what=what)
                )  # fmt: skip
    return messages


@rule_kind("prose_length")
def check_prose_length(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    limit = inputs.settings.overview_limit
    messages = []
    for rule in rules:
        for (unit, section), text in _texts(frame).items():
            length = len(re.sub(r"\s", "", text))
            if section == "overview" and length > limit:
                messages.append(
                    ctx.message(rule, unit, "prose_length", (NARRATIVE_TABLE, section, NARRATIVE_COLUMN),
                                length=length, limit=limit)
                )  # fmt: skip
    return messages


MIN_COPY_CHARS = 20  # "无。" twice is not copying
_YEAR = re.compile(r"(?:19|20)\d{2}|[0-9０-９]{4}")


@rule_kind("copy_text")
def check_copy_text(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    previous = inputs.previous
    if previous is None or previous.empty:
        return []
    before = _texts(previous)
    year = int(frame["year"].iloc[0]) if "year" in frame.columns and len(frame) else None
    messages = []
    for rule in rules:
        for (unit, section), text in _texts(frame).items():
            old = before.get((unit, section))
            now = bare(text)
            if old is None or len(now) < MIN_COPY_CHARS:
                continue
            if now == bare(old):
                how = "完全相同"
            elif _YEAR.sub("", now) == _YEAR.sub("", bare(old)):
                how = "除年份外完全相同"
            else:
                continue
            messages.append(
                ctx.message(rule, unit, "copy_text", (NARRATIVE_TABLE, section, NARRATIVE_COLUMN),
                            section=fmt.section_heading(section), how=how,
                            previous_year=year - 1 if year else "上一")
            )  # fmt: skip
    return messages
