"""Sign-in and sign-out, the session and CSRF cookies, the checked form every
post goes through, and the error pages (a mixin of app.Portal)."""

from __future__ import annotations

import hmac
import logging
import math

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from pipeline.ingest.archive import ArchiveError
from pipeline.portal import api
from pipeline.portal.security import (
    CJK,
    CSRF_COOKIE,
    CSRF_FIELD,
    DEFAULT_DETAIL,
    SERVER_ERROR,
    SESSION_COOKIE,
    body_limit,
)
from pipeline.portal.store import SESSION_HOURS, Session

log = logging.getLogger("nianbao.portal")


class SignIn:
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
