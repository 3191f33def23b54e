"""The region's leaders' outputs over its members (issue 18, item 4), for the region
assets: the indicator cards section of the region page, and one 整改通知 per member
and year under reports/<year>/region/notices/<code>.docx.

A member's findings are what its intake kept (errors, warnings, copy-paste) plus the
region's checks about it: R2 (its published report against its compiled figures) and
R3 (missing, unreadable, late).
"""

from __future__ import annotations

import os
from datetime import date
from html import escape
from pathlib import Path

from pipeline.region import Member, region_members
from pipeline.render.cards import cards_html
from pipeline.render.notices import FINDING_KEYS, notice_docx, rectify_deadline
from pipeline.render.outputs import write_if_changed
from pipeline.render.region import REGION_FOLDER, PageSection
from pipeline.steps.indicators import cards, indicator_thresholds
from pipeline.steps.region import ACCEPTED_STATES, read_checks, read_member, read_status
from schemas import format_for_year

NOTICES_FOLDER = "notices"
MEMBER_CHECKS = ("R2", "R3")  # the region's checks that name one member


def notices_dir(region, year: int) -> Path:
    return region.reports_dir(year) / REGION_FOLDER / NOTICES_FOLDER


def member_findings(status: dict, checks: dict[str, list[dict]], member: Member) -> list[dict]:
    """{rule, severity, table, row, column, message} of everything the member must act on."""
    found = [{k: str(f.get(k, "")) for k in FINDING_KEYS} for f in status.get("findings", [])]
    for name in MEMBER_CHECKS:
        for m in checks.get(name, []):
            if m.get("unit") == member.code:
                found.append({"rule": m["rule"], "severity": m["severity"], "table": "", "row": "",
                              "column": "", "message": m.get("line") or m.get("text", "")})  # fmt: skip
    return found


def cards_section(region, year: int) -> PageSection:
    """Each member's cards for `year` (from its accepted figures), by the home's thresholds."""
    fmt = format_for_year(year, region.root)
    thresholds = indicator_thresholds(region.config())
    parts = []
    for member in region_members(region):
        figures, status = read_member(region, year, member)
        if status["state"] in ACCEPTED_STATES:
            parts.append(cards_html(member.code, member.name, year, cards(fmt, figures, thresholds)))
        else:
            note = f"本年度没有已采用的数字（{status['state']}），不出卡片。"
            parts.append(cards_html(member.code, member.name, year, [], note=note))
    return PageSection("indicator-cards", f"{year}年度指标卡片", "\n".join(parts))


def write_region_notices(region, year: int, issued: date) -> list[Path]:
    """reports/<year>/region/notices/<code>.docx for every member, issued on `issued` (the
    build date) with the deadline `[region] rectify_days` after it; unchanged files stay."""
    config = region.config()
    fmt = format_for_year(year, region.root)
    due = rectify_deadline(config, issued)
    checks = read_checks(region, year)
    written = []
    for member in region_members(region):
        status = read_status(region, year, member)
        data = notice_docx(
            fmt,
            district=member.name,
            year=year,
            findings=member_findings(status, checks, member),
            issued=issued,
            deadline=due,
            issuer=config["government"],
            home_root=region.root,
        )
        written.append(write_if_changed(notices_dir(region, year) / f"{member.code}.docx", data))
    return written


def notices_section(region, year: int) -> PageSection:
    """Links from the region page to the members' notices written so far."""
    page = region.reports_dir(year) / REGION_FOLDER / "index.html"
    items = []
    for member in region_members(region):
        path = notices_dir(region, year) / f"{member.code}.docx"
        if path.is_file():
            link = os.path.relpath(path, page.parent)
            items.append(
                f'<li><a href="{escape(link)}">{escape(member.name)}（{escape(member.code)}）</a></li>'
            )
    html = f"<ul>{''.join(items)}</ul>" if items else '<p class="summary">还没有生成整改通知。</p>'
    return PageSection("notices", f"{year}年度整改通知（问题清单）", html)
