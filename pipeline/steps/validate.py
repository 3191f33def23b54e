"""A year's validation: the format's rules over every unit's cells, the
accepted cells, and who is accepted, rejected or missing."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.home import Home
from pipeline.steps.intake import Intake
from pipeline.warehouse import Warehouse
from schemas import format_for_year
from schemas.base import ReportFormat
from schemas.catalogue import FileOrigin, cap_messages
from schemas.messages import Message, sort_messages, unit_label
from schemas.rules import Checked, check_cells, prepare
from schemas.units import Registry

STATUS_COLUMNS = ["unit", "status", "errors", "warnings"]
# How each status reads in reports, logs and the terminal.
STATUS_TEXT = {"accepted": "已采用", "rejected": "已退回", "missing": "未报送"}
ACCEPTED_COLUMNS = ["unit", "table", "row", "column", "value", "number", "kind"]


@dataclass
class Validation:
    accepted: pd.DataFrame  # ACCEPTED_COLUMNS: cells of accepted units
    messages: list[Message]
    status: pd.DataFrame  # STATUS_COLUMNS + name, file


def previous_year(home: Home, year: int) -> tuple[pd.DataFrame | None, ReportFormat | None]:
    """Last year's accepted cells and format, where last year is on record."""
    last = Warehouse.of(home, year - 1)
    if not last.exists("accepted"):
        return None, None
    try:
        return last.read("accepted"), format_for_year(year - 1, home.root)
    except Exception:  # a legacy year without a catalogue: nothing to compare with
        return None, None


def validate_year(home: Home, year: int, fmt: ReportFormat, registry: Registry, intake: Intake) -> Validation:
    names = registry.names()
    expected = registry.active(year)
    previous, previous_format = previous_year(home, year)
    checked = _check_isolated(intake.cells, fmt, names, previous, previous_format)
    in_use = intake.files[intake.files["in_use"]]
    file_of = dict(zip(in_use["unit"], in_use["file"]))
    messages = sort_messages(intake.messages + checked.messages)

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
        status_rows.append((unit.code, state, n_errors, n_warnings, unit.name, file_of.get(unit.code, "")))
    status = pd.DataFrame(status_rows, columns=STATUS_COLUMNS + ["name", "file"])

    accepted_units = set(status.loc[status["status"] == "accepted", "unit"])
    cells = checked.cells
    accepted = cells[cells["unit"].isin(accepted_units) & cells["ok"] & (cells["kind"] != "")]
    accepted = accepted.drop_duplicates(["unit", "table", "row", "column"])[ACCEPTED_COLUMNS]
    return Validation(accepted=accepted.reset_index(drop=True), messages=messages, status=status)


def _check_isolated(cells, fmt, names, previous, previous_format) -> Checked:
    """The rules over every unit at once; should that fail, unit by unit, so that a
    unit whose cells break a rule's code is rejected (F15) and the others still build."""
    try:
        checked = check_cells(
            cells, fmt, unit_names=names, previous=previous, previous_format=previous_format
        )
        return Checked(checked.cells, _capped_per_file(checked.messages))
    except Exception:  # noqa: BLE001 - find the unit it was, below
        pass
    frames, messages = [], []
    for unit, part in cells.groupby("unit", sort=False):
        try:
            checked = check_cells(
                part, fmt, unit_names=names, previous=previous, previous_format=previous_format
            )
            frames.append(checked.cells)
            messages += _capped_per_file(checked.messages)
        except Exception as exc:  # noqa: BLE001 - this unit's file is the problem, not the year
            file = str(part["file"].iloc[0]) if len(part) else ""
            origin = FileOrigin(str(unit), unit_label(str(unit), names.get(str(unit))), file)
            messages.append(origin.problem("F15.unexpected", error=type(exc).__name__))
    frame = pd.concat(frames, ignore_index=True) if frames else prepare(cells.iloc[0:0], fmt)
    return Checked(frame, messages)


def _capped_per_file(messages: list[Message]) -> list[Message]:
    return cap_messages(messages)
