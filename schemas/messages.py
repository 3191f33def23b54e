"""Validation messages: one shape for file problems and rule failures alike.

Every message names the unit, the file, the sheet and cell (or CSV line), says
in Chinese what is wrong and what to do, and carries the rule id for engineers.
Messages are made by `schemas.catalogue.problem` from a catalogue entry and the
facts of the case; nothing else writes their sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from schemas.names import shown

Severity = Literal["ERROR", "WARNING"]

MESSAGE_FIELDS = ("severity", "rule", "unit", "unit_label", "file", "sheet", "location", "text")


def unit_label(code: str, name: str | None) -> str:
    """“示范区教育局（JYJ）”: how every output names a unit."""
    return f"{name}（{code}）" if name else code


@dataclass(frozen=True, kw_only=True)
class Message:
    severity: Severity  # "ERROR" rejects the unit's submission; "WARNING" does not
    rule: str  # rule id from the catalogue (F1, N1, L2, …) or a legacy catalogue's relation id
    unit: str  # the unit's code ("" when the file sits in no unit's folder)
    unit_label: str  # how the unit is named to people: “示范区教育局（JYJ）”
    file: str
    sheet: str = ""
    location: str = ""  # cell address such as "C8", or "第 12 行" for CSV
    text: str

    def where(self) -> str:
        parts = [
            p for p in (shown(self.file), self.sheet and f"工作表「{shown(self.sheet)}」", self.location) if p
        ]
        return "，".join(parts)

    def render(self) -> str:
        """One line for a terminal or a log: 【N1】错误 单位｜文件，位置：说明"""
        level = "错误" if self.severity == "ERROR" else "提醒"
        where = self.where()
        who = self.unit_label or self.unit
        return (
            f"【{self.rule}】{level} {who}｜{where}：{self.text}"
            if where
            else f"【{self.rule}】{level} {who}：{self.text}"
        )

    def as_dict(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in MESSAGE_FIELDS}

    @classmethod
    def from_dict(cls, stored: dict) -> Message:
        """A message stored earlier (warehouse, portal database). Portal records made
        before `unit` held the code carry the label in `unit` and the code in `code`."""
        if "code" in stored and "unit_label" not in stored:
            stored = {**stored, "unit": stored["code"], "unit_label": stored.get("unit", "")}
        return cls(**{f: str(stored.get(f, "")) for f in MESSAGE_FIELDS})


def natural(text: str) -> list:
    """Sort key that puts 第 2 行 before 第 10 行, C9 before C10 and N2 before N10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def sort_messages(messages: list[Message]) -> list[Message]:
    """Unit, errors before warnings, rule, file, sheet, location: the order every output shows."""
    return sorted(
        messages,
        key=lambda m: (m.unit, m.severity != "ERROR", natural(m.rule), m.file, m.sheet, natural(m.location)),
    )
