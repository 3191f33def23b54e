"""A year's validation: the format's rules over every unit's cells, the
accepted cells, and who is accepted, rejected or missing."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.home import Home
from pipeline.steps.intake import Intake
from pipeline.steps.rules import ACCEPTED_COLUMNS, check_isolated, home_settings, previous_year
from pipeline.warehouse import Warehouse
from schemas.base import ReportFormat
from schemas.catalogue import problem
from schemas.frames import zip_columns
from schemas.messages import Message, sort_messages
from schemas.units import Registry

STATUS_COLUMNS = ["unit", "status", "errors", "warnings"]
# How each status reads in reports, logs and the terminal.
STATUS_TEXT = {"accepted": "已采用", "rejected": "已退回", "missing": "未报送"}
PUBLISHED_NOTE = "据已公开年报导入"  # after the status word of a unit whose record is its published report


def status_text(status: str, origin: str = "") -> str:
    """“已采用”, or “已采用（据已公开年报导入）” for a record imported from the published report."""
    return STATUS_TEXT[status] + (
        f"（{PUBLISHED_NOTE}）" if origin == "published" and status != "missing" else ""
    )


@dataclass
class Validation:
    accepted: pd.DataFrame  # ACCEPTED_COLUMNS: cells of accepted units
    messages: list[Message]
    status: pd.DataFrame  # STATUS_COLUMNS + name, file, origin
    # Last year's cells as the rules read them (None: no last year), read once per build:
    # kept in the warehouse as `last_year` for the year-over-year table (pipeline/steps/yoy.py).
    previous: pd.DataFrame | None = None


def carry_over_note(
    home: Home, year: int, fmt: ReportFormat, previous: pd.DataFrame | None, previous_format
) -> list[Message]:
    """A note for validation.html when N7/N8 could not run at all, and why."""
    ids = [r.id for r in fmt.rules if r.kind in ("carry_over", "stock_flow")]
    if not ids or (previous is not None and "applications" in getattr(previous_format, "tables", {})):
        return []
    if Warehouse.of(home, year - 1).exists("accepted"):
        why = f"{year - 1} 年度是旧格式，没有可比的“结转下年度继续办理”和“现行有效件数”"
    elif home.inbox_dir(year - 1).is_dir():
        why = f"{year - 1} 年度的报送还没有编制（请先编制 {year - 1} 年度）"
    else:
        why = f"系统中没有 {year - 1} 年度的数据"
    rule = fmt.rule(ids[0])
    return [
        problem("carry_over_skipped", rule=rule.id, severity="WARNING", unit="", unit_label="跨年度核对",
                file="", rules="、".join(ids), why=why, previous_year=year - 1)
    ]  # fmt: skip


def validate_year(home: Home, year: int, fmt: ReportFormat, registry: Registry, intake: Intake) -> Validation:
    names = registry.names()
    expected = registry.active(year)
    previous, previous_format = previous_year(home, year)
    settings = home_settings(home)
    checked = check_isolated(intake.cells, fmt, names, previous, previous_format, settings)
    in_use = intake.files[intake.files["in_use"]]
    file_of = dict(zip_columns(in_use, "unit", "file"))
    origin_of = dict(zip_columns(in_use, "unit", "origin"))
    note = carry_over_note(home, year, fmt, previous, previous_format) if not intake.cells.empty else []
    messages = sort_messages(intake.messages + checked.messages + note)

    errors = pd.Series([m.unit for m in messages if m.severity == "ERROR"], dtype="string").value_counts()
    warnings = pd.Series([m.unit for m in messages if m.severity == "WARNING"], dtype="string").value_counts()
    status_rows = []
    for unit in expected:
        n_errors, n_warnings = int(errors.get(unit.code, 0)), int(warnings.get(unit.code, 0))
        if unit.code not in file_of:
            state = "missing"
        elif n_errors:
            state = "rejected"
        else:
            state = "accepted"
        status_rows.append(
            (unit.code, state, n_errors, n_warnings, unit.name, file_of.get(unit.code, ""),
             origin_of.get(unit.code, ""))
        )  # fmt: skip
    status = pd.DataFrame(status_rows, columns=STATUS_COLUMNS + ["name", "file", "origin"])

    accepted_units = set(status.loc[status["status"] == "accepted", "unit"])
    cells = checked.cells
    accepted = cells[cells["unit"].isin(accepted_units) & cells["ok"] & (cells["kind"] != "")]
    accepted = accepted.drop_duplicates(["unit", "table", "row", "column"])[ACCEPTED_COLUMNS]
    return Validation(accepted.reset_index(drop=True), messages, status, previous)
