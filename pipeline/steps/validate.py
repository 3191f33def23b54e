"""A year's validation: the format's rules over every unit's cells, the
accepted cells, and who is accepted, rejected or missing."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pandas as pd

from pipeline.home import Home, read_parquet
from pipeline.steps.intake import Intake
from schemas import format_for_year
from schemas.base import ReportFormat
from schemas.messages import Message
from schemas.rules import check_cells

STATUS_COLUMNS = ["unit", "status", "errors", "warnings"]
# How each status reads in reports, logs and the terminal.
STATUS_TEXT = {"accepted": "已采用", "rejected": "已退回", "missing": "未报送"}
ACCEPTED_COLUMNS = ["unit", "table", "row", "column", "value", "number", "kind"]


def natural(text: str) -> list:
    """Sort key that puts 第 2 行 before 第 10 行, C9 before C10 and N2 before N10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


@dataclass
class Validation:
    accepted: pd.DataFrame  # ACCEPTED_COLUMNS: cells of accepted units
    messages: list[Message]
    status: pd.DataFrame  # STATUS_COLUMNS + name, file


def previous_year(home: Home, year: int) -> tuple[pd.DataFrame | None, ReportFormat | None]:
    """Last year's accepted cells and format, where last year is on record."""
    path = home.warehouse_dir(year - 1) / "accepted.parquet"
    if not path.exists():
        return None, None
    try:
        return read_parquet(path), format_for_year(year - 1, home.root)
    except Exception:  # a legacy year without a catalogue: nothing to compare with
        return None, None


def validate_year(
    home: Home, year: int, fmt: ReportFormat, units: pd.DataFrame, intake: Intake
) -> Validation:
    names = dict(zip(units["code"], units["name"]))
    previous, previous_format = previous_year(home, year)
    checked = check_cells(
        intake.cells, fmt, unit_names=names, previous=previous, previous_format=previous_format
    )
    in_use = intake.files[intake.files["in_use"]]
    file_of = dict(zip(in_use["unit"], in_use["file"]))
    # File problems carry the unit's label; attach its code for counting.
    label_to_code = {f"{name}（{code}）": code for code, name in names.items()}
    messages = [m if m.code else replace(m, code=label_to_code.get(m.unit, "")) for m in intake.messages]
    messages += checked.messages
    messages.sort(
        key=lambda m: (m.code, m.severity != "ERROR", natural(m.rule), m.file, m.sheet, natural(m.location))
    )

    errors = pd.Series([m.code for m in messages if m.severity == "ERROR"], dtype="string").value_counts()
    warnings = pd.Series([m.code for m in messages if m.severity == "WARNING"], dtype="string").value_counts()
    status_rows = []
    for code in units["code"]:
        n_errors, n_warnings = int(errors.get(code, 0)), int(warnings.get(code, 0))
        if code not in file_of:
            state = "missing"
        elif n_errors:
            state = "rejected"
        else:
            state = "accepted"
        status_rows.append((code, state, n_errors, n_warnings, names[code], file_of.get(code, "")))
    status = pd.DataFrame(status_rows, columns=STATUS_COLUMNS + ["name", "file"])

    accepted_units = set(status.loc[status["status"] == "accepted", "unit"])
    cells = checked.cells
    accepted = cells[cells["unit"].isin(accepted_units) & cells["ok"] & (cells["kind"] != "")]
    accepted = accepted.drop_duplicates(["unit", "table", "row", "column"])[ACCEPTED_COLUMNS]
    return Validation(accepted=accepted.reset_index(drop=True), messages=messages, status=status)
