"""The portal's web application (Starlette, server-rendered, no front-end build):
the app state and helpers (Portal), its routes and middlewares (create_app).
The pages live in signin.py, unit_pages.py and office_pages.py (mixins of
Portal); the middlewares, limits and throttle in security.py, whose docstring
lists the portal's security measures."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from pipeline.home import Home, HomeError
from pipeline.ingest.archive import ArchiveError
from pipeline.portal import api, status, views
from pipeline.portal.office_pages import OfficePages
from pipeline.portal.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    MAX_BODY_BYTES,
    MAX_FORM_BODY,
    TEMPLATES,
    BodyLimit,
    CsrfCookie,
    HostCheck,
    LoginThrottle,
    SecurityHeaders,
    install_log_redaction,
)
from pipeline.portal.signin import SignIn
from pipeline.portal.store import Session, Store, now_utc
from pipeline.portal.submit import Validator, reconcile
from pipeline.portal.unit_pages import UnitPages
from schemas.units import Registry

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_FORM_BODY",
    "LoginThrottle",
    "Portal",
    "create_app",
]  # clients and tests import these

log = logging.getLogger("nianbao.portal")


class Portal(SignIn, UnitPages, OfficePages):
    def _reconcile(self) -> None:
        """Before serving: finish what a stopped portal left half done (submit.reconcile)."""
        try:
            for line in reconcile(self.home, self.store):
                log.warning("reconcile: %s", line)
        except (ArchiveError, HomeError) as exc:  # the pages say so where it matters
            log.error("reconcile: %s", exc)

    def __init__(
        self,
        home: Home,
        clock: Callable[[], datetime] = now_utc,
        workers: int = 0,
        *,
        secure_cookies: bool = False,
        login_throttle: LoginThrottle | None = None,
        rebuild: bool = False,
    ):
        from pipeline.ops.worker import RebuildWorker

        self.home = home
        # `nianbao serve`: accepted uploads are rebuilt at once by a resident worker.
        self.worker = RebuildWorker(home) if rebuild else None
        self._instance = None  # the home's Dagster instance, opened on first use
        self._instance_guard = threading.Lock()
        self.store = Store(home)
        self._reconcile()
        self.clock = clock
        self.secure_cookies = secure_cookies
        self.throttle = login_throttle if login_throttle is not None else LoginThrottle()
        self.validator = Validator(workers)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.globals.update(
            local_time=status.local_time,
            where_text=views.where_text,
            severity_text=views.SEVERITY_TEXT,
            outcome_text=status.OUTCOME_TEXT,
            state_text=status.STATE_TEXT,
            deadline_text=status.deadline_text,
        )

    # --- helpers --------------------------------------------------------------
    @property
    def rebuild_request(self):
        return self.worker.request if self.worker is not None else None

    def report_time(self, year: int) -> float | None:
        """When the district report of `year` was last materialized, from the home's instance."""
        try:
            from dagster import AssetKey, AssetRecordsFilter

            with self._instance_guard:
                if self._instance is None:
                    from pipeline.ops.instance import open_instance

                    self._instance = open_instance(self.home)
            found = self._instance.fetch_materializations(
                AssetRecordsFilter(asset_key=AssetKey("district_report"), asset_partitions=[str(year)]),
                limit=1,
                ascending=False,
            ).records
        except Exception:  # noqa: BLE001 - no instance yet, or it is busy: the page just omits the time
            log.warning("无法读取 Dagster 实例中的报告编制记录", exc_info=True)
            return None
        return found[0].timestamp if found else None

    def rebuilding(self, year: int) -> bool:
        if self.worker is None:
            return False
        entry = self.worker.snapshot()["years"].get(str(year))
        return bool(entry) and (entry["pending"] or entry["started_at"] > entry["finished_at"])

    def status_json(self, unit: str, year: int) -> dict:
        standing = status.standings(
            self.home, self.store, year, self.clock(), units=[unit], registry=self.registry()
        )[0]
        in_use = standing.in_use
        return {
            "unit": unit,
            "year": year,
            "state": standing.state,
            "state_text": standing.text,
            "late": standing.late,
            "overdue": standing.overdue,
            "deadline": status.deadline_text(year),
            "in_use_version": in_use.version if in_use else None,
            "in_report_at": (
                status.in_report_at(self.home, year, unit, in_use.stored_name, self.report_time(year))
                if in_use
                else ""
            ),
            "rebuilding": self.rebuilding(year),
        }

    async def health(self, request: Request) -> Response:
        """For `nianbao serve` and monitoring: the portal answers, its state and
        archive manifest open, and the rebuild worker's last runs (no unit data)."""
        checks = {"portal": "ok"}
        try:
            await run_in_threadpool(self.store.tokens)
            checks["store"] = "ok"
        except Exception:  # noqa: BLE001 - reported, not raised
            checks["store"] = "error"
        worker = self.worker.snapshot() if self.worker is not None else None
        if worker is not None:
            checks["worker"] = "ok" if worker["alive"] else "starting"
        healthy = all(v in ("ok", "starting") for v in checks.values())
        body = {"status": "ok" if healthy else "error", "checks": checks, "rebuilds": worker}
        return JSONResponse(body, status_code=200 if healthy else 503)

    def render(self, request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
        session = self.session(request)
        csrf = session.csrf if session else request.state.csrf_cookie
        html = self.env.get_template(name).render(
            session=session, csrf=csrf, csrf_field=CSRF_FIELD, unit_name=self.unit_name, **context
        )
        response = HTMLResponse(html, status_code=status_code)
        if session is None and request.state.new_csrf_cookie:
            self.set_cookie(response, CSRF_COOKIE, csrf)
        return response

    def registry(self) -> Registry:
        """The unit registry (read again only when the file changes)."""
        return self.home.registry()

    def units_for_year(self, year: int) -> set[str]:
        return {u.code for u in self.registry().active(year)}

    def unit_name(self, unit: str) -> str:
        return self.registry().name(unit) or unit

    def require(self, request: Request, role: str) -> Session:
        session = self.session(request)
        if session is None:
            raise HTTPException(401, "请先用访问令牌登录。")
        if session.role != role:
            raise HTTPException(403, "无权访问此页面。")
        return session

    def years_for_unit(self, unit: str) -> list[int]:
        today = self.clock().astimezone(status.BEIJING).date()
        return [
            y for y in status.report_years(self.home, self.store, today) if unit in self.units_for_year(y)
        ]

    def unit_year(self, session: Session, year: int) -> None:
        if year not in self.years_for_unit(session.unit):
            raise HTTPException(404, f"本单位没有 {year} 年度的报送任务。")

    async def stylesheet(self, request: Request) -> Response:
        return Response((TEMPLATES / "portal.css").read_bytes(), media_type="text/css; charset=utf-8")


def create_app(
    home: Home,
    *,
    clock: Callable[[], datetime] = now_utc,
    allowed_hosts: list[str] | None = None,
    workers: int = 0,
    secure_cookies: bool = False,
    login_throttle: LoginThrottle | None = None,
    rebuild: bool = False,
) -> Starlette:
    """The portal for `home`. `workers` > 0 checks uploads in that many worker
    processes (started and stopped with the server); 0 checks in threads.
    `secure_cookies` marks every cookie Secure (only sent over HTTPS): for a
    portal behind an HTTPS reverse proxy. `login_throttle` limits failed
    sign-ins per client (default: 10 in 10 minutes). `rebuild` starts the
    resident worker that rebuilds a year's reports after each accepted upload
    (`nianbao serve`)."""
    install_log_redaction()
    portal = Portal(
        home, clock, workers, secure_cookies=secure_cookies, login_throttle=login_throttle, rebuild=rebuild
    )

    @asynccontextmanager
    async def lifespan(app):
        await run_in_threadpool(portal.validator.start)
        if portal.worker is not None:
            portal.worker.start()
        try:
            yield
        finally:
            if portal.worker is not None:
                await run_in_threadpool(portal.worker.stop)
            await run_in_threadpool(portal.validator.stop)

    routes = [
        Route("/", portal.index),
        Route("/login", portal.login_page, methods=["GET"]),
        Route("/login", portal.login, methods=["POST"]),
        Route("/logout", portal.logout, methods=["POST"]),
        Route("/static/portal.css", portal.stylesheet),
        Route("/unit", portal.unit_home),
        Route("/unit/{year:portal_int}", portal.unit_year_page),
        Route("/unit/{year:portal_int}/template.xlsx", portal.template),
        Route("/unit/{year:portal_int}/report.{kind:str}", portal.unit_document),
        Route("/unit/{year:portal_int}/upload", portal.upload, methods=["POST"]),
        Route("/unit/{year:portal_int}/versions/{version:portal_int}", portal.unit_version),
        Route("/unit/{year:portal_int}/versions/{version:portal_int}/file", portal.unit_version_file),
        Route("/office", portal.office),
        Route("/office/import", portal.office_import, methods=["POST"]),
        Route("/office/{year:portal_int}/missing.csv", portal.missing),
        Route("/office/{year:portal_int}/units/{unit}", portal.office_unit),
        Route("/office/{year:portal_int}/units/{unit}/versions/{version:portal_int}", portal.office_version),
        Route(
            "/office/{year:portal_int}/units/{unit}/versions/{version:portal_int}/file",
            portal.office_version_file,
        ),
        Route("/health", portal.health, methods=["GET"]),
        *api.routes(portal),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(BodyLimit),
            Middleware(HostCheck, allowed_hosts=allowed_hosts or ["127.0.0.1", "localhost", "[::1]"]),
            Middleware(CsrfCookie),
        ],
        exception_handlers={
            HTTPException: portal.error,
            ClientDisconnect: portal.disconnected,
            ArchiveError: portal.error,
            Exception: portal.error,
        },
        lifespan=lifespan,
    )
    app.state.portal = portal
    return app
