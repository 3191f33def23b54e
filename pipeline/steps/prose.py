"""The coordinating office's own text (texts/<year>/*.md, rendered) against the
district's tables: the same figure extraction as the units' P1, plus P2-P4."""

from __future__ import annotations

import re

from schemas.base import ReportFormat
from schemas.catalogue import problem
from schemas.messages import Message
from schemas.numbers import format_number
from schemas.phrases import NOTHING
from schemas.rules.prose import bare, cell_names, message_key, mismatches, short, states_fee
from schemas.rules.registry import Settings

OFFICE = "district"


def office_messages(
    fmt: ReportFormat, year: int, texts: dict[str, str], value, district: str, settings: Settings
) -> list[Message]:
    """Messages about the office's text; `value(table, row, column)` is the district figure."""
    if fmt.report_kind != "tables":
        return []
    rules = {r.id: r for r in fmt.rules}
    out: list[Message] = []

    def say(rule_id: str, key: str, section: str, **facts) -> None:
        rule = rules[rule_id]
        out.append(
            problem(key, rule=rule.id, severity=rule.severity, unit=OFFICE, unit_label=f"{district}（政务公开办）",
                    file=f"texts/{year}/{section}.md", description=rule.description, **facts)
        )  # fmt: skip

    def label(table: str, row: str, column: str) -> str:
        t = fmt.tables[table]
        return f"{t.row(row).label}·{t.column(column).label}"

    for section, text in texts.items():
        for quote, table in mismatches(text, fmt, value):
            say("P1", message_key(quote), section, sentence=short(quote.sentence), quoted=quote.quoted,
                cell=cell_names(fmt, quote, label), table=format_number(table))  # fmt: skip
    if "P2" in rules and not states_fee(texts.get("other_matters", "")):
        say("P2", "prose_fee", "other_matters")
    problems = bare(texts.get("problems", ""))
    if problems in NOTHING:
        say("P3", "prose_problems", "problems", what="没有填写" if not problems else f"只写了“{problems}”")
    length = len(re.sub(r"\s", "", texts.get("overview", "")))
    if length > settings.overview_limit:
        say("P4", "prose_length", "overview", length=length, limit=settings.overview_limit)
    return out
