"""The format's rules as every door runs them (a build's validation, `nianbao check`, the
portal, the audit): last year's cells, the office's thresholds, and the rules over
every unit at once, isolated unit by unit should one unit's cells break them."""

from __future__ import annotations

import pandas as pd

from pipeline.home import Home, HomeError
from pipeline.warehouse import read_previous_year
from schemas import format_for_year
from schemas.base import ReportFormat
from schemas.catalogue import FileOrigin, cap_messages
from schemas.frames import zip_columns
from schemas.messages import unit_label
from schemas.rules import Checked, Settings, check_cells, prepare
from schemas.rules.registry import LEVELS

ACCEPTED_COLUMNS = ["unit", "table", "row", "column", "value", "number", "kind"]


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
            report = dict(zip_columns(imported, "unit", "file"))
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


def check_isolated(cells, fmt, names, previous, previous_format, settings=None) -> Checked:
    """The rules over every unit at once; should that fail, unit by unit, so that a
    unit whose cells break a rule's code is rejected (F15) and the others still build."""
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
