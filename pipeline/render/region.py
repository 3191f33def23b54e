"""A region's outputs under reports/<year>/: the whole-area report (region/report.*, the
district writers with members as units), the region page (region/index.html: members ×
years) and the open data (open-data/figures.csv: each member as a unit, `region` totals).

The region page takes `extra_sections` (id, title, HTML) so that other region outputs
(the leaders' indicator cards, the 整改通知 list) plug in without changing this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from pipeline.region import REGION_UNIT, SOURCES, Member, deadline, region_members
from pipeline.render.outputs import write_district, write_if_changed
from pipeline.render.reports import build_views, environment
from pipeline.render.writers import WRITERS, RenderContext
from pipeline.steps.region import ACCEPTED_STATES, RegionYear, member_paths, read_checks, read_status

REGION_FOLDER = "region"
CHECK_TITLES = {
    "R1": "R1 全域合计与下级地区之和",
    "R2": "R2 已公开的年报与编制的数字",
    "R3": "R3 缺报、迟报与无法采用的数据",
    "prose": "全域报告文字与表格（P1–P4）",
}


@dataclass(frozen=True)
class PageSection:
    """A section another region output adds to the region page (cards, notices)."""

    id: str
    title: str
    html: str  # trusted HTML made by nianbao's own renderer


def member_status_frame(data: RegionYear) -> pd.DataFrame:
    """The district report's status frame with members as units (accepted, rejected, missing)."""
    rows = []
    for member in data.members:
        s = data.statuses[member.code]
        status = (
            "accepted" if s["state"] in ACCEPTED_STATES else "missing" if s["state"] == "缺报" else "rejected"
        )
        rows.append(
            (
                member.code,
                status,
                s.get("errors", 0),
                s.get("warnings", 0),
                member.name,
                s.get("file", ""),
                "",
            )
        )
    return pd.DataFrame(rows, columns=["unit", "status", "errors", "warnings", "name", "file", "origin"])


def write_region_report(region, data: RegionYear, year: int, formats=None) -> list[Path]:
    """reports/<year>/region/report.<suffix>: the whole-area report, by every writer of
    `formats` (None: every registered writer), documents included."""
    out = region.reports_dir(year) / REGION_FOLDER
    view, _members = build_views(
        data.fmt, year, region.config(), data.sections, member_status_frame(data), region
    )
    written = list(write_district(out, data.fmt, view, formats).values())
    documents = [w for w in WRITERS.values() if w.document and (formats is None or w.name in formats)]
    if any(w.name == "pdf" for w in documents):
        from pipeline.render.fonts import require as require_fonts

        require_fonts(region.root)
    ctx = RenderContext(data.fmt, region.root)
    for writer in documents:
        written.append(write_if_changed(out / f"report{writer.suffix}", writer.render(view, ctx)))
    return written


def write_region_open_data(region, data: RegionYear, year: int) -> list[Path]:
    """open-data/ as a district's, each member a unit and the totals under unit code `region`."""
    from pipeline.steps.opendata import write_open_data
    from pipeline.steps.revisions import LOG_COLUMNS

    tables = {code: frame for code, frame in data.sections.items() if code in data.fmt.tables}
    config = region.config()
    names = {m.code: m.name for m in data.members}
    revisions = pd.DataFrame(columns=LOG_COLUMNS)
    return write_open_data(
        region.reports_dir(year), data.fmt, year, config, tables, names, revisions, total=REGION_UNIT
    )


def _cell(region, member: Member, year: int, checks: dict, page: Path) -> dict:
    """One member's cell of the page's matrix for `year` (whose region `checks` are given)."""
    s = read_status(region, year, member)
    differences = sum(
        1 for m in checks.get("R2", []) if m["unit"] == member.code and m["severity"] == "ERROR"
    )
    timing = {True: "按期", False: "逾期", None: ""}[s.get("on_time")]
    css = {"缺报": "missing", "读取失败": "bad"}.get(
        s["state"], "late" if s.get("on_time") is False else "ok"
    )
    link = ""
    if member.source == "home" and s["state"] in ACCEPTED_STATES:
        report = region.root / "members" / member.code / "reports" / str(year) / "report.html"
        link = os.path.relpath(report, page.parent)
    return {"state": s["state"], "timing": timing, "css": css, "link": link, "errors": s.get("errors", 0),
            "warnings": s.get("warnings", 0), "copy_paste": s.get("copy_paste", 0), "differences": differences}  # fmt: skip


def _read(region, member: Member, year: int, this_year: int) -> bool:
    """Whether the page shows `member` in `year`: this year always (缺报 when not read),
    an earlier year only where its intake ran."""
    return year == this_year or member_paths(region, year, member.code)[1].is_file()


def write_region_page(region, year: int, extra_sections: list[PageSection] = ()) -> Path:
    """reports/<year>/region/index.html: members × the years the region has read, this
    year's checks, then `extra_sections` (the hook for the indicator cards and notices)."""
    page = region.reports_dir(year) / REGION_FOLDER / "index.html"
    members = region_members(region)
    years = sorted(
        int(p.name)
        for p in region.warehouse.iterdir()
        if p.name.isdigit() and int(p.name) <= year and (p / "region" / "members").is_dir()
    )
    if year not in years:
        years.append(year)
    checks_by_year = {y: read_checks(region, y) for y in years}
    matrix = [
        {"code": m.code, "name": m.name, "source": SOURCES[m.source],
         "cells": [_cell(region, m, y, checks_by_year[y], page) if _read(region, m, y, year) else None
                   for y in years]}
        for m in members
    ]  # fmt: skip
    checks = checks_by_year[year]
    config = region.config()
    html = (
        environment()
        .get_template("region/index.html.j2")
        .render(
            region=config["district"],
            year=year,
            years=years,
            matrix=matrix,
            deadline=deadline(region, year).strftime("%m-%d"),
            reports=[(f"report{suffix}", f"report{suffix}") for suffix in (".html", ".docx", ".pdf", ".md")
                     if (page.parent / f"report{suffix}").is_file()],
            checks=[(CHECK_TITLES[name], [m["line"] for m in checks.get(name, [])]) for name in CHECK_TITLES],
            extra_sections=[{"id": s.id, "title": s.title, "html": Markup(s.html)} for s in extra_sections],
        )
    )  # fmt: skip
    return write_if_changed(page, html)
