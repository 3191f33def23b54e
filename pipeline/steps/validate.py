"""A year's validation: the format's rules over every unit's cells, the
accepted cells, and who is accepted, rejected or missing."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.home import Home, HomeError
from pipeline.steps.intake import Intake
from pipeline.warehouse import Warehouse, read_previous_year
from schemas import format_for_year
from schemas.base import ReportFormat
from schemas.catalogue import FileOrigin, cap_messages, problem
from schemas.messages import Message, sort_messages, unit_label
from schemas.rules import Checked, Settings, check_cells, prepare
from schemas.rules.registry import LEVELS
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


ACCEPTED_COLUMNS = ["unit", "table", "row", "column", "value", "number", "kind"]


@dataclass
class Validation:
    accepted: pd.DataFrame  # ACCEPTED_COLUMNS: cells of accepted units
    messages: list[Message]
    status: pd.DataFrame  # STATUS_COLUMNS + name, file, origin


def previous_year(home: Home, year: int) -> tuple[pd.DataFrame | None, ReportFormat | None]:
    """Last year's cells and format, where last year is on record: what "last year" means
    for every rule and for the year-over-year table (schemas.rules.registry.YearInputs).

    A unit whose last-year submission was rejected has no accepted cells; its latest
    submission's cells stand in, marked with the file in `rejected_file`, so that N7, N8,
    Y1, P6 and the year-over-year table compare with them and say so. Its cells that
    could not be read are kept with `unreadable` set: unknown, never 0. A unit whose record
    last year is its published report (pipeline/steps/published.py) is marked with that
    report in `published_file`, so that the same rules and table say where it came from."""
    last = read_previous_year(home, year)  # DamagedHome / PreviousYearNotBuilt: never "no last year"
    if last is None:
        return None, None
    try:
        fmt = format_for_year(year - 1, home.root)
    except HomeError:  # a legacy year whose catalogue is gone: nothing to compare with
        return None, None
    previous = last.accepted.assign(rejected_file="", unreadable=False, published_file="")
    try:
        if last.status is None:
            raise KeyError("status")
        status = last.status
        if "origin" in status.columns:
            imported = status[status["origin"] == "published"]
            report = dict(zip(imported["unit"], imported["file"]))
            previous["published_file"] = [str(report.get(u, "")) for u in previous["unit"]]
        rejected = set(status.loc[status["status"] == "rejected", "unit"])
        if rejected and last.cells is not None:
            cells = last.cells
            cells = cells[cells["unit"].isin(rejected)]
            frame = prepare(cells.drop(columns=["sha256"], errors="ignore"), fmt)
            frame = frame[frame["kind"] != ""].drop_duplicates(["unit", "table", "row", "column"])
            stand_in = frame[ACCEPTED_COLUMNS].assign(
                rejected_file=frame["file"].astype(str), unreadable=~frame["ok"], published_file=""
            )
            previous = pd.concat([previous, stand_in], ignore_index=True)
    except (OSError, ValueError, KeyError):  # an older warehouse without these tables
        pass
    return previous, fmt


def home_settings(home: Home) -> Settings:
    """The office's thresholds of `home`. Read on their own: a home.toml missing what only
    the reports need (district, government) fails at the reports, not here."""
    import tomllib

    try:
        with open(home.root / "home.toml", "rb") as f:
            return check_settings(tomllib.load(f))
    except tomllib.TOMLDecodeError as exc:
        raise HomeError(f"home.toml 格式错误：{exc}") from exc


def check_settings(config: dict) -> Settings:
    """The office's thresholds from home.toml (`level`, `[checks]`), defaults otherwise."""
    checks = config.get("checks", {}) if isinstance(config.get("checks", {}), dict) else {}
    level = str(config.get("level", "")).strip()
    if level and level not in LEVELS:
        raise HomeError(f"home.toml 中 level = “{level}”不正确，应为{'、'.join(LEVELS)}之一。")
    defaults = Settings()
    try:
        return Settings(
            level=level,
            anomaly_factor=float(checks.get("anomaly_factor", defaults.anomaly_factor)),
            anomaly_minimum=float(checks.get("anomaly_minimum", defaults.anomaly_minimum)),
            overview_limit=int(checks.get("overview_limit", defaults.overview_limit)),
        )
    except (TypeError, ValueError) as exc:
        raise HomeError(f"home.toml 的 [checks] 中有不是数字的设置：{exc}") from exc


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
    file_of = dict(zip(in_use["unit"], in_use["file"]))
    origin_of = dict(zip(in_use["unit"], in_use["origin"]))
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
    return Validation(accepted=accepted.reset_index(drop=True), messages=messages, status=status)


# From this many units the rules run over two halves at once (pipeline/forked.py): below
# it, each half's fixed cost (about 0.06 s) ate the gain (none measured at 80 units;
# 0.13 s of 0.6 s at 1,000).
SPLIT_CHECK_FROM = 200


def check_isolated(cells, fmt, names, previous, previous_format, settings=None) -> Checked:
    """The rules over every unit at once; should that fail, unit by unit, so that a
    unit whose cells break a rule's code is rejected (F15) and the others still build.

    Every rule is about one unit (tests/test_check_parity.py holds a build's messages
    to those of each file checked alone), so a large district is checked as two halves
    of its units, one in a forked child, and the results joined in the units' order."""
    units = list(dict.fromkeys(cells["unit"]))
    if len(units) >= SPLIT_CHECK_FROM:
        from pipeline.forked import both

        first = cells["unit"].isin(units[: len(units) // 2])
        halves = both(
            lambda: _check_isolated(cells[first], fmt, names, previous, previous_format, settings),
            lambda: _check_isolated(cells[~first], fmt, names, previous, previous_format, settings),
        )
        return Checked(
            pd.concat([half.cells for half in halves], ignore_index=True),
            [m for half in halves for m in half.messages],
        )
    return _check_isolated(cells, fmt, names, previous, previous_format, settings)


def _check_isolated(cells, fmt, names, previous, previous_format, settings) -> Checked:
    try:
        checked = check_cells(
            cells,
            fmt,
            unit_names=names,
            previous=previous,
            previous_format=previous_format,
            settings=settings,
        )
        return Checked(checked.cells, cap_messages(checked.messages))
    except Exception:  # noqa: BLE001 - find the unit it was, below
        pass
    frames, messages = [], []
    for unit, part in cells.groupby("unit", sort=False):
        try:
            checked = check_cells(
                part,
                fmt,
                unit_names=names,
                previous=previous,
                previous_format=previous_format,
                settings=settings,
            )
            frames.append(checked.cells)
            messages += cap_messages(checked.messages)
        except Exception as exc:  # noqa: BLE001 - this unit's file is the problem, not the year
            file = str(part["file"].iloc[0]) if len(part) else ""
            origin = FileOrigin(str(unit), unit_label(str(unit), names.get(str(unit))), file)
            messages.append(origin.problem("F15.unexpected", error=type(exc).__name__))
    frame = pd.concat(frames, ignore_index=True) if frames else prepare(cells.iloc[0:0], fmt)
    return Checked(frame, messages)
