"""The pages of the office (政务公开办): the years' standings, a unit's uploads,
the missing units, and importing a published report (a mixin of app.Portal)."""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from pipeline.ingest.guards import MAX_FILE_BYTES
from pipeline.portal import status
from pipeline.portal.unit_pages import download
from pipeline.tabular import rows_csv

log = logging.getLogger("nianbao.portal")


class OfficePages:
    # --- office pages ----------------------------------------------------------
    async def office(self, request: Request) -> Response:
        self.require(request, "office")
        return self.render(request, "office.html", **self._office_context())

    def _office_context(self) -> dict:
        now = self.clock()
        today = now.astimezone(status.BEIJING).date()
        years = status.report_years(self.home, self.store, today)
        by_year = {
            y: {s.unit: s for s in status.standings(self.home, self.store, y, now, registry=self.registry())}
            for y in years
        }
        units = [(u.code, u.name) for u in self.registry().units if any(u.code in by_year[y] for y in years)]
        counts = {
            y: {state: sum(s.state == state for s in by_year[y].values()) for state in status.STATE_TEXT}
            for y in years
        }
        late = {y: sum(s.late or s.overdue for s in by_year[y].values()) for y in years}
        return {
            "years": years, "units": units, "by_year": by_year, "counts": counts, "late": late,
            "all_units": [(u.code, u.name) for u in self.registry().units], "notice": "", "error": "",
        }  # fmt: skip

    async def office_import(self, request: Request) -> Response:
        """A published report recorded as a unit's (or the district's) record of a year
        (pipeline/steps/published.py); the page says what was done or why not."""
        from pipeline.steps.published import PublishedRecordRefused, record_published, who
        from schemas import FIRST_YEAR

        self.require(request, "office")
        form = await self.checked_form(request, max_files=1, max_fields=6)
        try:
            file = form.get("file")
            year_text, unit = str(form.get("year", "")).strip(), str(form.get("unit", "")).strip()
            replace = form.get("replace") == "1"
            data = (
                await file.read(MAX_FILE_BYTES + 1)
                if isinstance(file, UploadFile) and file.filename
                else None
            )
            name = file.filename if data is not None else ""
        finally:
            await form.close()
        this_year = self.clock().astimezone(status.BEIJING).year
        problem = ""
        if not (year_text.isascii() and year_text.isdigit() and FIRST_YEAR <= int(year_text) < this_year):
            problem = f"年度应为 {FIRST_YEAR} 至 {this_year - 1} 之间的四位数字。"
        elif data is None:
            problem = "请先选择已公开年报的文件（网页、Word 或 PDF）。"
        elif len(data) > MAX_FILE_BYTES:
            problem = f"文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB 的上限，未导入。"
        recorded = None
        if not problem:
            year = int(year_text)
            try:
                recorded = await run_in_threadpool(
                    record_published, self.home, year, unit or None, name, data, replace=replace
                )
            except PublishedRecordRefused as exc:
                problem = f"{name}（{year} 年度）：{exc}。".replace("。。", "。")
        context = self._office_context()
        if problem:
            return self.render(request, "office.html", 400, **{**context, "error": problem})
        log.info("导入已公开年报：%s %s 年度，%s", unit or "全区", recorded.year, recorded.sha256[:12])
        if self.rebuild_request is not None and unit:
            self.rebuild_request(recorded.year)
        notice = (
            f"已导入：{name} 作为{who(self.home, unit or None)} {recorded.year} 年度的记录（据已公开年报导入，"
            f"读取 {recorded.cells} 个数字）。"
            + (
                f"原有报送文件（{'、'.join(recorded.replaced)}）仍保留，本年度改以已公开年报为准。"
                if recorded.replaced
                else ""
            )
        )
        return self.render(request, "office.html", **{**context, "notice": notice})

    def office_year(self, year: int) -> None:
        today = self.clock().astimezone(status.BEIJING).date()
        if year not in status.report_years(self.home, self.store, today):
            raise HTTPException(404, f"没有 {year} 年度的报送任务。")

    def _office_unit(self, request: Request) -> tuple[str, int]:
        self.require(request, "office")
        unit, year = request.path_params["unit"], request.path_params["year"]
        self.office_year(year)
        if unit not in self.registry():
            raise HTTPException(404, "单位名册中没有这个单位。")
        return unit, year

    async def office_unit(self, request: Request) -> Response:
        unit, year = self._office_unit(request)
        context = self._year_context(unit, year)
        latest = context["standing"].latest
        full = self.store.upload(unit, year, latest.version) if latest else None
        return self.render(request, "office_unit.html", latest=full, **context)

    async def office_version(self, request: Request) -> Response:
        unit, year = self._office_unit(request)
        version = request.path_params["version"]
        return self._version_page(request, unit, year, version, base=f"/office/{year}/units/{quote(unit)}")

    async def office_version_file(self, request: Request) -> Response:
        unit, year = self._office_unit(request)
        return self._version_file(unit, year, request.path_params["version"])

    async def missing(self, request: Request) -> Response:
        self.require(request, "office")
        year = request.path_params["year"]
        self.office_year(year)
        rows = [
            [s.unit, s.name, "未报送（已逾期）" if s.overdue else "未报送"]
            for s in status.standings(self.home, self.store, year, self.clock(), registry=self.registry())
            if s.state == "missing"
        ]
        data = rows_csv(["单位代码", "单位名称", "状态"], rows)
        return download(data, f"{year}年度未报送单位.csv", "text/csv; charset=utf-8")
