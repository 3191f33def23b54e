"""A region's members and its whole-area figures (issue 18), as plain functions.

Per member and year (`intake_member`): the member's accepted district figures, read
from where its source keeps them, written to warehouse/<year>/region/members/<code>.parquet
(long form: member, table, row, column, value) and <code>.json (its state, receipt time,
counts and findings). A broken member never raises: its state says why, naming the file.

Per year (`compile_region`): the region's totals, the sum of its members (Decimal-exact,
the district sums' own code with members as units), written to region/figures.parquet,
and the checks R1-R3 and the prose check, written to region/checks.json.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from pipeline.home import Home, HomeError, read_parquet, write_atomic, write_parquet
from pipeline.region import Member, deadline, region_members
from pipeline.steps.sections import DISTRICT, all_sections
from schemas import format_for_year
from schemas.base import ReportFormat
from schemas.catalogue import problem
from schemas.frames import zip_columns
from schemas.messages import Message

FIGURE_COLUMNS = ["member", "table", "row", "column", "value"]
STATES = ("编制完成", "已报送", "缺报", "读取失败")
ACCEPTED_STATES = ("编制完成", "已报送")
PACKAGE_FILE = "figures.csv"
PACKAGE_META = "datapackage.json"
PACKAGE_MAX_BYTES = 50 * 1024 * 1024  # a district's figures are ~1 MB; more is not a package
REPORT_SUFFIXES = (".html", ".htm", ".docx", ".pdf")
COPY_PASTE_RULES = ("P5", "P6", "A1")
MAX_FINDINGS = 500  # findings kept per member: the counts say how many there were

# Runs a member district's own yearly build; returns the failure lines (none: built).
BuildHome = Callable[[Home, int], list[str]]


def region_dir(region: Home, year: int) -> Path:
    return region.warehouse_dir(year) / "region"


def member_paths(region: Home, year: int, code: str) -> tuple[Path, Path]:
    folder = region_dir(region, year) / "members"
    return folder / f"{code}.parquet", folder / f"{code}.json"


@dataclass
class Intake:
    """What one member's intake found (the JSON's fields, and the figures)."""

    member: Member
    state: str
    figures: pd.DataFrame
    file: str = ""  # what was read, relative to the region home
    received_at: str = ""
    on_time: bool | None = None
    reason: str = ""  # why 缺报 or 读取失败, in Chinese
    messages: list[Message] | None = None

    def status(self, year: int) -> dict:
        messages = self.messages or []
        findings = [
            {"rule": m.rule, "severity": m.severity, "table": "", "row": "", "column": "",
             "location": m.where(), "message": m.render()}
            for m in messages[:MAX_FINDINGS]
        ]  # fmt: skip
        return {
            "member": self.member.code,
            "name": self.member.name,
            "year": year,
            "source": self.member.source,
            "state": self.state,
            "reason": self.reason,
            "file": self.file,
            "received_at": self.received_at,
            "on_time": self.on_time,
            "errors": sum(m.severity == "ERROR" for m in messages),
            "warnings": sum(m.severity == "WARNING" for m in messages),
            "copy_paste": sum(m.rule in COPY_PASTE_RULES for m in messages),
            "figures": len(self.figures),
            "findings": findings,
        }


class MemberRefused(Exception):
    """The member's data cannot be used; the message (Chinese) names the file and why."""


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in FIGURE_COLUMNS})


def _on_time(received_at: str, due: date) -> bool | None:
    if not received_at:
        return None
    from pipeline.render.times import BEIJING

    return datetime.fromisoformat(received_at).astimezone(BEIJING).date() <= due


def _mtime(path: Path) -> str:
    from pipeline.render.times import BEIJING

    return datetime.fromtimestamp(path.stat().st_mtime, BEIJING).isoformat(timespec="seconds")


def _shown(region: Home, path: Path) -> str:
    return str(path.relative_to(region.root)) if path.is_relative_to(region.root) else str(path)


# --- the three sources ------------------------------------------------------------


def _from_home(region: Home, member: Member, year: int, fmt: ReportFormat, build: BuildHome) -> Intake:
    """Run the member's own yearly build, then read its accepted district figures."""
    from pipeline.warehouse import Warehouse, has_inputs

    home = member.home(region)
    shown = _shown(region, home.root)
    if not has_inputs(home, year):
        return Intake(
            member, "缺报", _empty(), shown, reason=f"{shown}/inbox/{year}/ 中没有任何单位的报送文件"
        )
    failures = build(home, year)
    if failures:
        raise MemberRefused(f"该区 {year} 年度编制失败（{shown}）：" + "；".join(failures))
    warehouse = Warehouse.of(home, year)
    rows = []
    for code in fmt.tables:
        section = warehouse.read_section(code) if warehouse.section_path(code).exists() else None
        if section is None:
            continue
        district = section[(section["scope"] == DISTRICT) & (section["table"] == code)]
        rows += [(member.code, code, r, c, v) for r, c, v in zip_columns(district, "row", "column", "value")]
    files = warehouse.read("files")
    in_use = files[files["in_use"]]
    received = max(in_use["received_at"], default="")
    messages = warehouse.read_messages("messages")
    figures = pd.DataFrame(rows, columns=FIGURE_COLUMNS).astype("string")
    return Intake(member, "编制完成", figures, shown, received_at=received, messages=messages)


def _checked_cells(member: Member, year: int, fmt: ReportFormat, rows: list[tuple], file: str):
    """Rows (table, row, column, raw, location) through the format's rules, as a unit's are:
    unknown cells (N6), values not numbers (N5), totals (N1-N4). ERRORs refuse the member."""
    from schemas.rules import check_cells

    cells = pd.DataFrame(
        [(member.code, year, t, r, c, raw, file, "", where) for t, r, c, raw, where in rows],
        columns=["unit", "year", "table", "row", "column", "raw", "file", "sheet", "location"],
    )
    checked = check_cells(cells, fmt, unit_names={member.code: member.name})
    errors = [m for m in checked.messages if m.severity == "ERROR"]
    if errors:
        first = "；".join(f"【{m.rule}】{m.location or m.file}：{m.text}" for m in errors[:3])
        more = f"（共 {len(errors)} 处错误）" if len(errors) > 3 else ""
        raise MemberRefused(f"{file} 未通过校验：{first}{more}")
    good = checked.cells[checked.cells["ok"] & (checked.cells["kind"] != "")]
    figures = pd.DataFrame(
        {"member": member.code, "table": good["table"], "row": good["row"], "column": good["column"],
         "value": good["value"]}
    ).astype("string")  # fmt: skip
    return figures.reset_index(drop=True), checked.messages


def _from_package(region: Home, member: Member, year: int, fmt: ReportFormat) -> Intake:
    """members/<code>/<year>/figures.csv as nianbao writes it: the rows of unit `district`."""
    folder = member.year_dir(region, year)
    path = folder / PACKAGE_FILE
    file = _shown(region, path)
    if not path.is_file():
        return Intake(member, "缺报", _empty(), file, reason=f"没有找到开放数据包 {file}")
    region.contained(path)
    meta = folder / PACKAGE_META
    if meta.is_file():
        try:
            declared = json.loads(meta.read_text(encoding="utf-8")).get("year")
        except (ValueError, UnicodeDecodeError, AttributeError):
            raise MemberRefused(f"{_shown(region, meta)} 不是有效的 JSON 文件") from None
        if declared is not None and str(declared) != str(year):
            raise MemberRefused(f"{_shown(region, meta)} 写的是 {declared} 年度，不是 {year} 年度")
    if path.stat().st_size > PACKAGE_MAX_BYTES:
        raise MemberRefused(f"{file} 超过 {PACKAGE_MAX_BYTES // 1024 // 1024} MB 的上限，不读取")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MemberRefused(f"{file} 不是 UTF-8 编码的 CSV 文件") from None
    reader = csv.DictReader(io.StringIO(text))
    needed = {"unit", "table", "row", "column", "value"}
    missing = sorted(needed - set(reader.fieldnames or []))
    if missing:
        raise MemberRefused(f"{file} 缺少列 {','.join(missing)}（应为 nianbao 开放数据的 figures.csv）")
    rows = [
        (r["table"], r["row"], r["column"], r["value"], f"第 {n} 行")
        for n, r in enumerate(reader, start=2)
        if r["unit"] == DISTRICT
    ]
    if not rows:
        raise MemberRefused(f"{file} 中没有全区合计行（unit 为 {DISTRICT} 的行）")
    figures, messages = _checked_cells(member, year, fmt, rows, file)
    received = _mtime(path)
    return Intake(member, "已报送", figures, file, received_at=received, messages=messages)


def published_file(folder: Path, stem: str | None = None) -> Path | None:
    """The one report in `folder` (named `stem`.<suffix> when given); None when there is none."""
    if not folder.is_dir():
        return None
    found = sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES and (stem is None or p.stem == stem)
    )  # fmt: skip
    return found[0] if found else None


def _from_published(region: Home, member: Member, year: int, fmt: ReportFormat) -> Intake:
    """members/<code>/<year>/report.{html,pdf,docx}: the district's published report, read."""
    from pipeline.ingest.published.core import PublishedRefused
    from pipeline.ingest.published.files import read_report

    path = published_file(member.year_dir(region, year), "report")
    if path is None:
        where = _shown(region, member.year_dir(region, year))
        return Intake(
            member, "缺报", _empty(), where, reason=f"{where}/ 中没有 report.html、report.docx 或 report.pdf"
        )
    file = _shown(region, path)
    region.contained(path)
    try:
        report = read_report(path, year)
    except PublishedRefused as exc:
        raise MemberRefused(f"{file}：{exc}") from None
    rows = [(c.table, c.row, c.column, c.value, c.source.where() if c.source else "") for c in report.cells]
    if not rows:
        raise MemberRefused(f"{file} 中没有读出统计表的任何数字")
    figures, messages = _checked_cells(member, year, fmt, rows, file)
    return Intake(member, "已报送", figures, file, received_at=_mtime(path), messages=messages)


def intake_member(region: Home, member: Member, year: int, build: BuildHome) -> dict:
    """Read one member's figures for `year` and write its two files; the status written.
    Whatever is wrong with the member is its state (缺报, 读取失败), never an exception."""
    try:
        region.contained(member.folder(region))  # members/<code> may not link outside the region home
        fmt = format_for_year(year, region.root)
        if member.source == "home":
            intake = _from_home(region, member, year, fmt, build)
        elif member.source == "package":
            intake = _from_package(region, member, year, fmt)
        else:
            intake = _from_published(region, member, year, fmt)
    except (MemberRefused, HomeError) as exc:
        intake = Intake(member, "读取失败", _empty(), reason=" ".join(str(exc).split()))
    except Exception as exc:  # noqa: BLE001 - the member's boundary: one broken district stops no other
        intake = Intake(
            member, "读取失败", _empty(), reason=f"读取时出现意外错误（{type(exc).__name__}：{exc}）"
        )
    if intake.received_at:
        intake.on_time = _on_time(intake.received_at, deadline(region, year))
    status = intake.status(year)
    figures_path, status_path = member_paths(region, year, member.code)
    write_parquet(intake.figures, figures_path)
    write_atomic(status_path, json.dumps(status, ensure_ascii=False, indent=1) + "\n")
    return status


# --- the region's year ------------------------------------------------------------


def read_status(region: Home, year: int, member: Member) -> dict:
    """A member's status as its intake wrote it; 缺报 when it has not run."""
    _figures_path, status_path = member_paths(region, year, member.code)
    if not status_path.is_file():
        return Intake(member, "缺报", _empty(), reason="本年度还没有读取该地区的数据").status(year)
    return json.loads(status_path.read_text(encoding="utf-8"))


def read_member(region: Home, year: int, member: Member) -> tuple[pd.DataFrame, dict]:
    """A member's figures and status as its intake wrote them; 缺报 when it has not run."""
    figures_path, _status_path = member_paths(region, year, member.code)
    figures = read_parquet(figures_path).astype("string") if figures_path.is_file() else _empty()
    return figures, read_status(region, year, member)


def accepted_frame(figures: pd.DataFrame, fmt: ReportFormat) -> pd.DataFrame:
    """Members' figures shaped as a district's accepted cells (members as units)."""
    kinds = fmt.cell_kinds()
    frame = figures.rename(columns={"member": "unit"}).copy()
    frame["kind"] = [
        kinds.get((t, r, c), "count") for t, r, c in zip_columns(frame, "table", "row", "column")
    ]
    frame["number"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    return frame


def member_sums(figures: pd.DataFrame) -> dict[tuple[str, str, str], Decimal]:
    """(table, row, column) -> the exact sum over members, recomputed independently (R1)."""
    sums: dict[tuple[str, str, str], Decimal] = {}
    for t, r, c, v in zip_columns(figures, "table", "row", "column", "value"):
        sums[(t, r, c)] = sums.get((t, r, c), Decimal(0)) + Decimal(v)
    return sums


@dataclass
class RegionYear:
    fmt: ReportFormat
    members: list[Member]
    statuses: dict[str, dict]
    figures: pd.DataFrame  # every accepted member's figures
    sections: dict[str, pd.DataFrame]  # district sections, members as units, scope "district" the total
    totals: pd.DataFrame  # table, row, column, value


def region_year(region: Home, year: int) -> RegionYear:
    fmt = format_for_year(year, region.root)
    members = region_members(region)
    parts, statuses = [], {}
    for member in members:
        figures, status = read_member(region, year, member)
        statuses[member.code] = status
        if status["state"] in ACCEPTED_STATES:
            parts.append(figures)
    figures = pd.concat([_empty(), *parts], ignore_index=True).astype("string")
    sections = all_sections(accepted_frame(figures, fmt), fmt)
    totals = pd.concat(
        [s[s["scope"] == DISTRICT].assign(table=code) for code, s in sections.items() if code in fmt.tables],
        ignore_index=True,
    )[["table", "row", "column", "value"]].astype("string")
    return RegionYear(fmt, members, statuses, figures, sections, totals)


def write_region_figures(region: Home, data: RegionYear, year: int) -> Path:
    return write_parquet(data.totals, region_dir(region, year) / "figures.parquet")


def _label(fmt: ReportFormat, table: str, row: str, column: str) -> tuple[str, str, str]:
    from pipeline.ingest.published.labels import TABLE_NUMBERS

    t = fmt.tables[table]
    try:
        row_label = " ".join(t.row(row).path)
    except KeyError:
        row_label = row
    try:
        column_label = t.column(column).label
    except KeyError:
        column_label = column
    return TABLE_NUMBERS.get(table, t.title), row_label, column_label


def _member_label(member: Member) -> str:
    return f"{member.name}（{member.code}）"


def check_sum(region: Home, data: RegionYear, year: int) -> list[Message]:
    """R1: the totals as written (region/figures.parquet) equal the members' figures summed."""
    written = read_parquet(region_dir(region, year) / "figures.parquet").astype("string")
    totals = {(t, r, c): Decimal(v) for t, r, c, v in zip_columns(written, "table", "row", "column", "value")}
    sums = member_sums(data.figures)
    config = region.config()
    out = []
    for key in sorted(set(totals) | set(sums)):
        a, b = totals.get(key, Decimal(0)), sums.get(key, Decimal(0))
        if a != b:
            table, row, column = _label(data.fmt, *key)
            out.append(problem("R1.sum", unit="region", unit_label=config["district"],
                               file=_shown(region, region_dir(region, year) / "figures.parquet"),
                               table=table, row=row, column=column, region=str(a), members=str(b)))  # fmt: skip
    return out


def check_published(region: Home, data: RegionYear, year: int) -> list[Message]:
    """R2: each district's published report (published/<year>/<code>.*) against its compiled figures."""
    from pipeline.ingest.published.core import PublishedRefused
    from pipeline.ingest.published.files import read_report

    out = []
    for member in data.members:
        status = data.statuses[member.code]
        if member.source == "published" or status["state"] not in ACCEPTED_STATES:
            continue
        path = published_file(region.published_dir(year), member.code)
        if path is None:
            continue
        file = _shown(region, path)
        who = {"unit": member.code, "unit_label": _member_label(member), "file": file, "member": member.name}
        try:
            report = read_report(region.contained(path), year)
        except PublishedRefused as exc:
            out.append(problem("R2.unreadable", why=str(exc), **who))
            continue
        compiled = data.figures[data.figures["member"] == member.code]
        mine = {(t, r, c): v for t, r, c, v in zip_columns(compiled, "table", "row", "column", "value")}
        for cell in report.cells:
            key = (cell.table, cell.row, cell.column)
            if key[0] not in data.fmt.tables:
                continue
            try:
                printed = Decimal(cell.value)
            except InvalidOperation:
                continue
            ours = mine.get(key, "0")
            if printed != Decimal(ours):
                table, row, column = _label(data.fmt, *key)
                out.append(problem("R2.differs", location=cell.source.where() if cell.source else "", table=table, row=row,
                                   column=column, published=cell.value, compiled=ours, **who))  # fmt: skip
    return out


def check_members(region: Home, data: RegionYear, year: int) -> list[Message]:
    """R3: every member present, readable and on time."""
    out = []
    due = deadline(region, year)
    for member in data.members:
        s = data.statuses[member.code]
        who = {"unit": member.code, "unit_label": _member_label(member), "file": s.get("file", ""),
               "member": member.name}  # fmt: skip
        if s["state"] == "缺报":
            out.append(problem("R3.missing", year=year, why=s.get("reason", ""), **who))
        elif s["state"] == "读取失败":
            out.append(problem("R3.unreadable", why=s.get("reason", ""), **who))
        elif s.get("on_time") is False:
            from pipeline.render.times import beijing_time

            out.append(problem("R3.late", year=year, received=beijing_time(s["received_at"]),
                               deadline=due.isoformat(), **who))  # fmt: skip
    return out


def check_prose(region: Home, data: RegionYear, year: int) -> list[Message]:
    """The region office's texts (texts/<year>/) against the region's tables, as a district's."""
    from pipeline.steps.office_texts import office_texts
    from pipeline.steps.prose import office_messages
    from pipeline.steps.rules import check_settings

    config = region.config()
    totals = {(t, r, c): v for t, r, c, v in zip_columns(data.totals, *data.totals.columns)}
    texts = office_texts(region, year)
    if not texts:
        return []
    return office_messages(data.fmt, year, texts, lambda t, r, c: float(totals.get((t, r, c), "0")),
                           config["district"], check_settings(config))  # fmt: skip


CHECKS = {"R1": check_sum, "R2": check_published, "R3": check_members, "prose": check_prose}


def run_checks(region: Home, data: RegionYear, year: int) -> dict[str, list[Message]]:
    """Every region check, written to region/checks.json; returns them by check."""
    found = {name: check(region, data, year) for name, check in CHECKS.items()}
    document = {
        name: [m.as_dict() | {"line": m.render()} for m in messages] for name, messages in found.items()
    }
    write_atomic(
        region_dir(region, year) / "checks.json", json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    )
    return found


def read_checks(region: Home, year: int) -> dict[str, list[dict]]:
    path = region_dir(region, year) / "checks.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def compile_region(region: Home, year: int) -> tuple[RegionYear, dict[str, list[Message]]]:
    """The region's totals written and checked: what the region assets (and tests) call."""
    data = region_year(region, year)
    write_region_figures(region, data, year)
    return data, run_checks(region, data, year)
