"""The pages a signed-in unit sees: its years, template, uploads, versions and
its own published report (a mixin of app.Portal)."""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pipeline.home import Home
from pipeline.ingest.archive import read_blob
from pipeline.ingest.guards import MAX_FILE_BYTES
from pipeline.portal import status, views
from pipeline.portal.submit import Unconfirmed, receive

log = logging.getLogger("nianbao.portal")


class UnitPages:
    # --- unit pages ----------------------------------------------------------
    async def unit_home(self, request: Request) -> Response:
        session = self.require(request, "unit")
        rows = []
        now = self.clock()
        for year in self.years_for_unit(session.unit):
            rows.append(
                status.standings(
                    self.home, self.store, year, now, units=[session.unit], registry=self.registry()
                )[0]
            )
        return self.render(request, "unit_home.html", rows=rows)

    async def unit_year_page(self, request: Request) -> Response:
        session = self.require(request, "unit")
        year = request.path_params["year"]
        self.unit_year(session, year)
        return self.render(request, "unit_year.html", **self._year_context(session.unit, year))

    def _year_context(self, unit: str, year: int) -> dict:
        standing = status.standings(
            self.home, self.store, year, self.clock(), units=[unit], registry=self.registry()
        )[0]
        uploads = self.store.uploads(year=year, unit=unit, light=True)
        # Counted from the last build (a file put into the inbox, not uploaded here):
        # its messages are the reason for the state, shown on the page.
        from_build = standing.source == "build" and standing.state in ("rejected", "warnings")
        return dict(
            year=year,
            unit=unit,
            standing=standing,
            build_messages=status.build_messages(self.home, year, unit) if from_build else [],
            uploads=list(reversed(uploads)),
            has_template=_has_template(self.home, year),
            documents=self._documents(unit, year),
        )

    # The unit's own report as published (reports/<year>/publish/units/<unit>.docx|.pdf): made
    # on the first download after a build and kept while current (pipeline/render/on_demand.py).
    def _documents(self, unit: str, year: int) -> list:
        """The publication documents a unit may download (the writer registry's), once built."""
        from pipeline.render.on_demand import unit_in_report
        from pipeline.render.writers import documents

        return list(documents().values()) if unit_in_report(self.home, year, unit) else []

    async def unit_document(self, request: Request) -> Response:
        from pipeline.locks import LockTimeout
        from pipeline.render.on_demand import unit_document
        from pipeline.render.writers import documents

        session = self.require(request, "unit")
        year, kind = request.path_params["year"], request.path_params["kind"]
        self.unit_year(session, year)
        offered = documents()  # the registry's publication documents (pipeline/render/writers.py)
        if kind not in offered:
            kinds = "、".join(f"{w.label or w.name}（report{w.suffix}）" for w in offered.values())
            raise HTTPException(404, f"单位报告只有以下格式：{kinds}。")
        try:
            path = await run_in_threadpool(unit_document, self.home, year, session.unit, kind)
        except LockTimeout:
            raise HTTPException(503, f"{year} 年度报告正在编制，请稍后再下载。") from None
        if path is None:
            raise HTTPException(
                404, f"{year} 年度的报告还没有生成{kind.upper()}文件，请在政务公开办编制年度报告后再下载。"
            )
        name = f"{self.unit_name(session.unit)}{year}年政府信息公开工作年度报告{offered[kind].suffix}"
        return download(await run_in_threadpool(path.read_bytes), name, offered[kind].media_type)

    async def template(self, request: Request) -> Response:
        session = self.require(request, "unit")
        year = request.path_params["year"]
        self.unit_year(session, year)
        if not _has_template(self.home, year):
            raise HTTPException(404, f"{year} 年度的报表格式由政务公开办另行下发，本系统不提供 Excel 模板。")
        data = await run_in_threadpool(make_template, self.home, session.unit, year)
        return download(data, f"{session.unit}_{year}年度报送模板.xlsx", XLSX)

    async def upload(self, request: Request) -> Response:
        session = self.require(request, "unit")
        year = request.path_params["year"]
        self.unit_year(session, year)
        form = await self.checked_form(request, max_files=1, max_fields=4)
        try:
            file = form.get("file")
            if not isinstance(file, UploadFile) or not file.filename:
                context = self._year_context(session.unit, year)
                return self.render(request, "unit_year.html", 400, error="请先选择要上传的文件。", **context)
            data = await file.read(MAX_FILE_BYTES + 1)
            name = file.filename
            confirmed = form.get("confirm") == "1"
        finally:
            await form.close()
        upload = await run_in_threadpool(
            receive,
            self.home,
            self.store,
            session.unit,
            year,
            name,
            data,
            self.clock(),
            self.validator,
            self.rebuild_request,
            confirmed,
        )
        if isinstance(upload, Unconfirmed):
            log.info("上传：单位 %s %s 年度，表格大多为空，等待确认", session.unit, year)
            context = self._year_context(session.unit, year)
            return self.render(request, "unit_year.html", 409, unconfirmed=upload, **context)
        log.info("上传：单位 %s %s 年度第 %s 版，%s", session.unit, year, upload.version, upload.outcome)
        return RedirectResponse(f"/unit/{year}/versions/{upload.version}", 303)

    async def unit_version(self, request: Request) -> Response:
        session = self.require(request, "unit")
        year, version = request.path_params["year"], request.path_params["version"]
        self.unit_year(session, year)
        return self._version_page(request, session.unit, year, version, base=f"/unit/{year}")

    async def unit_version_file(self, request: Request) -> Response:
        session = self.require(request, "unit")
        year, version = request.path_params["year"], request.path_params["version"]
        self.unit_year(session, year)
        return self._version_file(session.unit, year, version)

    def _version_page(self, request: Request, unit: str, year: int, version: int, base: str) -> Response:
        upload = self.store.upload(unit, year, version)
        if upload is None:
            raise HTTPException(404, "没有这个版本。")
        from schemas import format_for_year

        standing = status.standings(
            self.home, self.store, year, self.clock(), units=[unit], registry=self.registry()
        )[0]
        form = views.form_view(format_for_year(year, self.home.root), upload.cells, upload.messages)
        in_report = (
            status.in_report_at(self.home, year, unit, upload.stored_name, self.report_time(year))
            if upload.outcome == "accepted"
            else ""
        )
        return self.render(
            request,
            "version.html",
            in_report=in_report,
            rebuilding=self.rebuilding(year),
            upload=upload,
            form=form,
            standing=standing,
            base=base,
            year=year,
            unit=unit,
        )

    def _version_file(self, unit: str, year: int, version: int) -> Response:
        upload = self.store.upload(unit, year, version)
        if upload is None:
            raise HTTPException(404, "没有这个版本。")
        data = read_blob(self.home.archive, upload.sha256)
        return download(data, _safe_download_name(upload.original_name, version), "application/octet-stream")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data: bytes, name: str, media_type: str) -> Response:
    ascii_name = (
        "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name) or "file"
    )
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, media_type=media_type, headers={"content-disposition": disposition})


def _safe_download_name(name: str, version: int) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>:|?*').strip(". ")
    return f"第{version}版_{base or '文件'}"


def _has_template(home: Home, year: int) -> bool:
    from schemas import format_for_year

    try:
        fmt = format_for_year(year, home.root)
    except Exception:  # noqa: BLE001 - a legacy year without an indicator catalogue
        return False
    return bool(fmt.tables)


def make_template(home: Home, unit: str, year: int) -> bytes:
    """The unit's workbook for `year` (the same as `nianbao template`)."""
    from pipeline.steps.template import template_for

    return template_for(home, unit, year)
