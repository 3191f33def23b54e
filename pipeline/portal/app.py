"""The portal's web application (Starlette, server-rendered, no front-end build).

Security, in one place:
- sign-in with an access token typed into a form (POST body, never a URL); the
  browser then holds a random session id in an HttpOnly, SameSite=Strict
  cookie; tokens and session ids are stored only as hashes;
- every route is scoped by the signed-in role: a unit's URLs never name the
  unit (it comes from the session), so one unit cannot even address another's
  files; office routes refuse unit sessions;
- CSRF: every form carries a token bound to the session (before sign-in, a
  double-submit cookie), and a cross-site Origin is refused;
- request bodies are limited by the bytes actually read, per route, whatever
  the headers say (chunked included): 413 as soon as the limit is passed, and
  the connection is closed rather than drained; Content-Length is still
  required, and one above the limit is refused before anything is read;
- failed sign-ins are limited per client address (LoginThrottle);
- cookies carry Secure when the portal runs behind HTTPS (secure_cookies);
- path numbers are at most 9 digits, so nothing out of SQLite's range gets
  past the router: any unknown number is a plain 404;
- nothing secret is logged (the access log has paths only, and paths carry no
  secrets); strict Content-Security-Policy, no caching of pages.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.datastructures import Headers, MutableHeaders, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from pipeline.home import Home, HomeError
from pipeline.ingest.archive import ArchiveError, read_blob
from pipeline.ingest.guards import MAX_FILE_BYTES
from pipeline.portal import api, status, views
from pipeline.portal.store import SESSION_HOURS, Session, Store, now_utc
from pipeline.portal.submit import Unconfirmed, Validator, receive, reconcile
from pipeline.tabular import rows_csv
from schemas.units import Registry

log = logging.getLogger("nianbao.portal")

SESSION_COOKIE = "nianbao_session"
CSRF_COOKIE = "nianbao_csrf"
CSRF_FIELD = "csrf_token"
# A multipart body carries the file plus a few hundred bytes of form fields.
MAX_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024
MAX_FORM_BODY = 4096  # every other form: sign-in, sign-out
UPLOAD_PATH = re.compile(r"/unit/[0-9]+/upload|/api/v1/submissions|/office/import")
TOO_LARGE_FILE = f"上传的文件过大，上限为 {MAX_FILE_BYTES // 1024 // 1024} MB。年报文件通常只有几十 KB。"
TOO_LARGE_FORM = "提交的内容过长，已拒绝。请从本系统的页面提交。"
# Shown instead of Starlette's English texts ("Not Found", "Too many files. …").
DEFAULT_DETAIL = {
    400: "请求格式不正确，无法处理。请从本系统的页面提交。",
    404: "没有这个页面。请检查网址，或从首页进入。",
    405: "不支持这种请求方式。请从本系统的页面操作。",
    413: TOO_LARGE_FORM,
}
SERVER_ERROR = "系统内部错误，请稍后重试或联系政务公开办。"
WRONG_HOST = "网址中的主机名不在本系统允许的范围内，已拒绝。请用政务公开办告知的网址访问。"
CJK = re.compile(r"[\u4e00-\u9fff]")
TEMPLATES = Path(__file__).with_name("templates")
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",  # "no-referrer" would make browsers send Origin: null
    "cache-control": "no-store",
}


TOKEN_PATTERN = re.compile(r"nb_[A-Za-z0-9_-]{8,}")


class RedactSecrets(logging.Filter):
    """Keeps secrets out of the logs even when someone pastes a token into a URL:
    query strings are dropped from access-log lines and token-shaped text masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_redact(a) for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        return True


def _redact(value):
    if not isinstance(value, str):
        return value
    if value.startswith("/") and "?" in value:
        value = value.split("?", 1)[0] + "?…"
    return TOKEN_PATTERN.sub("nb_…", value)


def install_log_redaction() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn", "nianbao.portal"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response (pure ASGI, streams untouched)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    if key not in headers:
                        headers[key] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def body_limit(path: str) -> tuple[int, str]:
    """The most body bytes a route takes, and the refusal's text."""
    if UPLOAD_PATH.fullmatch(path):
        return MAX_BODY_BYTES, TOO_LARGE_FILE
    return MAX_FORM_BODY, TOO_LARGE_FORM


class BodyLimit:
    """Bounds every request body by the bytes actually read (headers can lie:
    Transfer-Encoding: chunked wins over a small Content-Length).

    Passing the route's limit raises a 413 inside the app, which the portal
    turns into its error page; the form parser stops there and drops what it
    spooled. A response sent before the body was read to the end says
    `Connection: close`, so the server closes the connection instead of
    reading (draining) the rest of the body to keep it alive."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit, detail = body_limit(scope["path"])
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        chunked = "transfer-encoding" in headers
        if not chunked and declared.isdigit() and int(declared) > limit:
            limit = -1  # refused at the first read, before anything is taken in
        read = 0
        done = not chunked and declared in ("", "0")  # no body at all

        async def limited_receive():
            nonlocal read, done
            if read > limit:
                raise HTTPException(413, detail)
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                done = not message.get("more_body", False)
                if read > limit:
                    raise HTTPException(413, detail)
            elif message["type"] == "http.disconnect":
                done = True
            return message

        async def closing_send(message):
            if message["type"] == "http.response.start" and not done:
                MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        await self.app(scope, limited_receive, closing_send)


class LoginThrottle:
    """At most `max_failures` failed sign-ins per client address in any
    `window` seconds; then sign-in is refused (429) until the oldest of them is
    `window` old. In memory, and bounded: at most `max_clients` addresses are
    remembered (those with the oldest last failure are forgotten first), and an
    address whose failures have all expired is dropped. `clock` is monotonic
    seconds (injectable for tests)."""

    def __init__(
        self,
        max_failures: int = 10,
        window: float = 600.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_failures = max_failures
        self.window = window
        self.max_clients = max_clients
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()  # oldest last failure first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._failures)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def retry_after(self, client: str) -> float:
        """Seconds until `client` may try again; 0 if it may now."""
        with self._lock:
            now = self.clock()
            times = self._recent(client, now)
            if times is None or len(times) < self.max_failures:
                return 0
            return times[0] + self.window - now

    def failed(self, client: str) -> float:
        """Counts a failure now; returns its time stamp (see `forget`)."""
        with self._lock:
            now = self.clock()
            times = self._recent(client, now)
            if times is None:
                while self._failures and (
                    len(self._failures) >= self.max_clients
                    or next(iter(self._failures.values()))[-1] <= now - self.window
                ):
                    self._failures.popitem(last=False)
                times = self._failures[client] = deque(maxlen=self.max_failures)
            times.append(now)
            self._failures.move_to_end(client)
            return now

    def forget(self, client: str, stamp: float) -> None:
        """Takes back one counted failure (the attempt succeeded after all)."""
        with self._lock:
            times = self._failures.get(client)
            if times is not None and stamp in times:
                times.remove(stamp)
                if not times:
                    del self._failures[client]


class PathNumber(IntegerConvertor):
    """Years and version numbers in portal paths: at most 9 digits, so a number
    SQLite cannot hold never reaches a query; the route does not match (404)."""

    regex = "[0-9]{1,9}"


register_url_convertor("portal_int", PathNumber())


class HostCheck:
    """Starlette's TrustedHostMiddleware, but refusing in Chinese: whoever reads
    the refusal is most likely an operator who forgot --allowed-host."""

    def __init__(self, app, allowed_hosts: list[str]):
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        passed = False

        async def inner(scope, receive, send):
            nonlocal passed
            passed = True
            await self.app(scope, receive, send)

        async def refusal(message):
            if passed:
                await send(message)

        await TrustedHostMiddleware(inner, allowed_hosts=self.allowed_hosts)(scope, receive, refusal)
        if not passed:
            response = PlainTextResponse(WRONG_HOST, status_code=400)
            await response(scope, receive, send)


class Portal:
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

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        """Every cookie the portal sets: HttpOnly, SameSite=Strict, Secure behind HTTPS."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookies,
            path="/",
        )

    def session(self, request: Request) -> Session | None:
        if not hasattr(request.state, "session"):
            request.state.session = self.store.session(request.cookies.get(SESSION_COOKIE))
        return request.state.session

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

    async def checked_form(self, request: Request, **limits):
        """The posted form, after the size limit, the Origin check and the CSRF token.
        (BodyLimit enforces the limit on the bytes read; this refuses early.)"""
        limit, detail = body_limit(request.url.path)
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            raise HTTPException(411, "请求缺少长度信息，请用浏览器页面上的表单提交。")
        if int(length) > limit:
            raise HTTPException(413, detail)
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
            raise HTTPException(403, "请求来源不正确（跨站提交），已拒绝。请从本系统的页面提交。")
        form = await request.form(**limits)
        session = self.session(request)
        expected = session.csrf if session else request.cookies.get(CSRF_COOKIE, "")
        sent = form.get(CSRF_FIELD)
        if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
            await form.close()
            raise HTTPException(403, "页面已过期或请求无效（CSRF 校验未通过）。请刷新页面后重试。")
        return form

    # --- sign-in ---------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return RedirectResponse("/login", 303)
        return RedirectResponse("/office" if session.role == "office" else "/unit", 303)

    async def login_page(self, request: Request) -> Response:
        if self.session(request) is not None:
            return RedirectResponse("/", 303)
        if request.query_params:
            # A token must never travel in a URL (it would land in history and logs).
            return self.render(
                request, "login.html", 400, error="请在下面的输入框中填写令牌，不要把令牌放在网址里。"
            )
        return self.render(request, "login.html", error="")

    async def login(self, request: Request) -> Response:
        form = await self.checked_form(request, max_files=0, max_fields=4)
        client = request.client.host if request.client else ""
        wait = self.throttle.retry_after(client)
        if wait > 0:
            log.warning("登录受限：%s 登录失败次数过多", client)
            minutes = max(1, math.ceil(wait / 60))
            response = self.render(
                request,
                "login.html",
                429,
                error=f"登录失败次数过多，请 {minutes} 分钟后再试。如令牌遗失，请向政务公开办索取新令牌。",
            )
            response.headers["retry-after"] = str(math.ceil(wait))
            return response
        # Counted as failed before the token is checked (no await since the limit
        # check), so parallel guesses cannot slip past it; taken back on success.
        attempt = self.throttle.failed(client)
        secret = form.get("token")
        token = await run_in_threadpool(self.store.authenticate, secret if isinstance(secret, str) else "")
        if token is None:
            log.info("登录失败：令牌无效或已停用")
            return self.render(
                request,
                "login.html",
                401,
                error="令牌无效或已停用。请核对后重新输入，或向政务公开办索取新令牌。",
            )
        self.throttle.forget(client, attempt)
        session_id = self.store.open_session(token)
        who = f"单位 {token.unit}" if token.role == "unit" else "政务公开办"
        log.info("登录：%s（令牌编号 %s）", who, token.id)
        response = RedirectResponse("/", 303)
        self.set_cookie(response, SESSION_COOKIE, session_id, max_age=SESSION_HOURS * 3600)
        return response

    async def logout(self, request: Request) -> Response:
        await self.checked_form(request, max_files=0, max_fields=2)
        self.store.close_session(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", 303)
        self.set_cookie(response, SESSION_COOKIE, "", max_age=0)
        return response

    async def stylesheet(self, request: Request) -> Response:
        return Response((TEMPLATES / "portal.css").read_bytes(), media_type="text/css; charset=utf-8")

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

    async def error(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, ArchiveError):
            log.error("archive: %s", exc)
            try:
                session = self.session(request)
                office = session is not None and session.role == "office"
            except Exception:  # noqa: BLE001 - the error page must not fail itself
                office = False
            # Server paths and repair steps only for the office; units get a plain notice.
            exc = HTTPException(
                503, str(exc) if office else "报送档案暂时无法读取，请稍后重试或联系政务公开办。"
            )
        code = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else SERVER_ERROR
        if not CJK.search(detail):  # Starlette's own English text
            detail = DEFAULT_DETAIL.get(
                code, "无法处理这个请求。请从本系统的页面操作。" if code < 500 else SERVER_ERROR
            )
        if request.url.path.startswith(api.PREFIX + "/"):
            headers = {"www-authenticate": "Bearer"} if code == 401 else None
            return api.error(code, detail, headers)
        if code == 401:
            return RedirectResponse("/login", 303) if request.method == "GET" else self._plain(code, detail)
        if not hasattr(request.state, "csrf_cookie"):
            return self._plain(code, detail)
        try:
            return self.render(request, "error.html", code, code=code, detail=detail)
        except Exception:  # noqa: BLE001 - the error page must not fail itself
            return self._plain(code, detail)

    async def disconnected(self, request: Request, exc: Exception) -> Response:
        # The browser went away mid-upload: nobody to answer, nothing to log as a failure.
        log.info("上传中断：浏览器在提交完成前断开了连接")
        return Response(status_code=400)

    @staticmethod
    def _plain(code: int, detail: str) -> Response:
        return PlainTextResponse(detail, status_code=code)


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


class CsrfCookie:
    """Gives every request a pre-sign-in CSRF value (double-submit cookie)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            request = Request(scope)
            value = request.cookies.get(CSRF_COOKIE, "")
            state = scope.setdefault("state", {})
            state["new_csrf_cookie"] = not (20 <= len(value) <= 100)
            state["csrf_cookie"] = secrets.token_urlsafe(32) if state["new_csrf_cookie"] else value
        await self.app(scope, receive, send)


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
