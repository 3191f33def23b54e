"""The portal's security, in one place:
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

import logging
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path

from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from pipeline.ingest.guards import MAX_FILE_BYTES

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
