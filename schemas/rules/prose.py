"""Rules on the text sections against the tables and last year (P1–P5).

What a sentence claims is read by `quoted_figures` with the phrases of schemas/phrases.py
(figures: totals and their parts, documents; claims of none), and each claim is compared
with the cells its format says it means (`ReportFormat.claims`); the same function checks
the coordinating office's own text (pipeline/steps/prose.py). A figure whose meaning is
not clear from its clause is left alone rather than guessed. Counts written in Chinese
numerals (一千二百件) are not read: the forms and almost every report write figures in
digits, and reading numerals well needs a parser of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

import pandas as pd

from schemas import phrases
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, ReportFormat, Rule
from schemas.frames import zip_columns
from schemas.messages import Message
from schemas.numbers import format_number, parse_number
from schemas.phrases import NOTHING
from schemas.rules.context import RuleContext
from schemas.rules.registry import YearInputs, rule_kind

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Quote:
    """One claim a sentence makes: a figure ("收到申请35件") or none ("未收到申请")."""

    name: str  # the claim's name (schemas/phrases.py), e.g. "received", "normative_documents.issued"
    label: str
    sentence: str
    quoted: str  # as written, e.g. "1,234 件" or "未收到依申请公开"
    number: Decimal  # 0 for a claim of none
    cells: tuple[Key, ...]
    none: bool = False
    # A claim of none: every group of cells it says is zero, in order ("received", then "handled").
    groups: tuple[tuple[Key, ...], ...] = ()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(rf"(?<=[{phrases.SENTENCE_END}])", text) if s.strip()]


def _cells(fmt: ReportFormat, name: str) -> tuple[Key, ...]:
    known = fmt.cell_kinds()
    return tuple(k for k in fmt.claims.get(name, ()) if k in known)


def _claim_of(window: str) -> tuple[str, str] | None:
    """(name, label) of what the figure after `window` counts, or None when unclear."""
    for tier in ("part", "total"):
        found = {c.name: c.label for c in phrases.CLAIMS if c.tier == tier and c.pattern.search(window)}
        docs = [row for row, p in phrases.DOCUMENTS.items() if p.search(window)]
        verbs = [verb for verb, p in phrases.DOCUMENT_VERBS.items() if p.search(window)]
        if tier == "part" and len(docs) == 1 and len(verbs) == 1:
            label = phrases.VERB_LABELS[verbs[0]] + phrases.DOCUMENT_LABELS[docs[0]]
            found[f"{docs[0]}.{verbs[0]}"] = label
        if len(found) == 1:
            return next(iter(found.items()))
        if found:
            return None  # two different things in one clause: either could be meant
    return None


def _figures(sentence: str, fmt: ReportFormat) -> list[Quote]:
    found = []
    clause_start = 0
    for match in phrases.FIGURE.finditer(sentence):
        before = sentence[clause_start : match.start()]
        cut = max((before.rfind(ch) for ch in phrases.CLAUSE_END), default=-1)
        window = before[cut + 1 :]
        clause_start = match.end()
        claim = _claim_of(window)
        number = parse_number(match.group("n").replace("，", ","))
        if claim is None or number is None:
            continue
        cells = _cells(fmt, claim[0])
        if cells:
            found.append(
                Quote(claim[0], claim[1], sentence, sentence[match.start("n") : match.end()], number, cells)
            )
    return found


def _nones(sentence: str, fmt: ReportFormat) -> list[Quote]:
    found = []
    for claim in phrases.NONE_CLAIMS:
        match = claim.pattern.search(sentence)
        groups = tuple(g for g in (_cells(fmt, name) for name in claim.claims) if g) if match else ()
        if groups:
            quoted = match.group(0)
            found.append(
                Quote(claim.name, claim.label, sentence, quoted, Decimal(0), groups[0], True, groups)
            )
    return found


def quoted_figures(text: str, fmt: ReportFormat) -> list[Quote]:
    """Every claim `text` makes that a table of `fmt` holds, sentence by sentence."""
    found: list[Quote] = []
    for sentence in sentences(text):
        found += _figures(sentence, fmt) + _nones(sentence, fmt)
    return found


def short(sentence: str, limit: int = 80) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def mismatches(text: str, fmt: ReportFormat, value) -> list[tuple[Quote, float]]:
    """(quote, table figure) for each claim that differs from the table; `value(table, row,
    column)` gives a cell's number (0 when blank). A claim of none disagrees with a table
    whose figures it names are not all 0; it reports the first that is not."""
    out = []
    for quote in quoted_figures(text, fmt):
        if quote.none:
            totals = [(cells, sum(value(*k) for k in cells)) for cells in quote.groups]
            found = next(((cells, total) for cells, total in totals if total != 0), None)
            if found is not None:
                out.append((replace(quote, cells=found[0]), found[1]))
            continue
        table = sum(value(*k) for k in quote.cells)
        if float(quote.number) != float(table):
            out.append((quote, table))
    return out


def cell_names(fmt: ReportFormat, quote: Quote, ctx_label) -> str:
    return "“" + "”+“".join(ctx_label(*k) for k in quote.cells) + "”"


def message_key(quote: Quote) -> str:
    return "prose_none" if quote.none else "prose_figures"


def states_fee(text: str) -> bool:
    """Section 六 says something about the 信息处理费 (schemas/phrases.py FEE_STATEMENTS)."""
    return any(p.search(text) for p in phrases.FEE_STATEMENTS)


# --- registered kinds ---------------------------------------------------------------


def _texts(frame: pd.DataFrame) -> dict[tuple[str, str], str]:
    part = frame[frame["table"] == NARRATIVE_TABLE]
    return {(u, r): str(v) for u, r, v in zip_columns(part, "unit", "row", "value")}


def _numbers(frame: pd.DataFrame, fmt: ReportFormat) -> dict[tuple[str, str, str, str], float]:
    # Only the cells texts can quote (totals, their parts, the documents' rows), not all 200,000.
    wanted = {k for cells in fmt.claims.values() for k in cells}
    tables, columns = {k[0] for k in wanted}, {k[2] for k in wanted}
    part = frame[frame["table"].isin(tables) & frame["column"].isin(columns) & frame["number"].notna()]
    return {
        (u, t, r, c): float(n)
        for u, t, r, c, n in zip_columns(part, "unit", "table", "row", "column", "number")
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
    numbers = _numbers(frame[frame["unit"].isin({u for u, _ in texts})], fmt)
    messages: list[Message] = []
    for rule in rules:
        for (unit, section), text in texts.items():
            for quote, table in mismatches(text, fmt, lambda t, r, c, u=unit: numbers.get((u, t, r, c), 0.0)):
                messages.append(
                    ctx.message(rule, unit, message_key(quote), (NARRATIVE_TABLE, section, NARRATIVE_COLUMN),
                                sentence=short(quote.sentence), quoted=quote.quoted,
                                cell=cell_names(fmt, quote, ctx.cell_label), table=format_number(table))
                )  # fmt: skip
    return messages


@rule_kind("prose_fee")
def check_prose_fee(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    texts = _texts(frame)
    return [
        ctx.message(rule, unit, "prose_fee", (NARRATIVE_TABLE, rule.left[0], NARRATIVE_COLUMN))
        for rule in rules
        for unit in _units(frame, inputs)
        if not states_fee(texts.get((unit, rule.left[0]), ""))
    ]


def bare(text: str) -> str:
    return re.sub(r"[\s。，、；;：:.,!！]", "", text)


@rule_kind("prose_problems")
def check_prose_problems(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    texts = _texts(frame)
    messages = []
    for rule in rules:
        for unit in _units(frame, inputs):
            written = bare(texts.get((unit, rule.left[0]), ""))
            if written in NOTHING:
                what = "没有填写" if not written else f"只写了“{written}”"
                messages.append(
                    ctx.message(rule, unit, "prose_problems", (NARRATIVE_TABLE, rule.left[0], NARRATIVE_COLUMN),
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
            if section == rule.left[0] and length > limit:
                messages.append(
                    ctx.message(rule, unit, "prose_length", (NARRATIVE_TABLE, section, NARRATIVE_COLUMN),
                                length=length, limit=limit)
                )  # fmt: skip
    return messages


MIN_COPY_CHARS = 20  # "无。" twice is not copying
_YEAR = re.compile(r"(?:19|20)\d{2}|[0-9０-９]{4}")
_DATE = re.compile(r"[0-9０-９]{4}\s*年\s*[0-9０-９]{1,2}\s*月\s*[0-9０-９]{1,2}\s*日")


def substance(text: str) -> str:
    """What P5 compares: the text without what the form asks every year in the same words
    (the 信息处理费 statement) and without signature dates — a 六 that only says, like last
    year, that no fee was charged is not copying (real reports: 综合执法与应急管理局 2023/2024)."""
    kept = [s for s in sentences(text) if not states_fee(s)]
    return bare(_DATE.sub("", "".join(kept)))


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
            now = substance(text)
            if old is None or len(now) < MIN_COPY_CHARS:
                continue
            old = substance(old)
            if now == old:
                how = "完全相同"
            elif _YEAR.sub("", now) == _YEAR.sub("", old):
                how = "除年份外完全相同"
            else:
                continue
            messages.append(
                ctx.message(rule, unit, "copy_text", (NARRATIVE_TABLE, section, NARRATIVE_COLUMN),
                            section=fmt.section_heading(section), how=how,
                            previous_year=year - 1 if year else "上一")
            )  # fmt: skip
    return messages
