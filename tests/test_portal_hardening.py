"""Portal hardening (issue 11): request bodies bounded by the bytes actually read
(chunked included), out-of-range path numbers, Secure cookies, a sign-in rate
limit, and Chinese error pages instead of tracebacks."""

from __future__ import annotations

import http.client
import logging
import re
import select
import socket
import tempfile
import time
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import pytest
import requests
import starlette.formparsers
from hostile.client import CSRF, YEAR, Client, fixed_clock, issue_tokens, make_home, portal_running

from pipeline.portal.app import MAX_BODY_BYTES, MAX_FORM_BODY, LoginThrottle, create_app
from pipeline.portal.server import running

JANUARY = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
HUGE = "99999999999999999999"  # > 2**64
JUST_OVER = str(2**63)
MB = 1024 * 1024


@pytest.fixture
def portal(tmp_path):
    with portal_running(tmp_path / "home", clock=fixed_clock(JANUARY)) as p:
        yield p


@pytest.fixture
def spooled(monkeypatch):
    """The most bytes the form parser wrote into any one temporary file."""
    written = {"max": 0}

    class Counting(tempfile.SpooledTemporaryFile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.count = 0

        def write(self, data):
            self.count += len(data)
            written["max"] = max(written["max"], self.count)
            return super().write(data)

    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", Counting)
    return written


def chunked_post(base: str, path: str, headers: dict[str, str], first: bytes, upto: int) -> tuple[int, int]:
    """POST a chunked body: `first`, then filler in 64 KB chunks until the server
    answers or closes, or `upto` bytes are sent. Returns (status or 0, bytes sent)."""
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    filler = b"x" * 65536
    sent = 0
    try:
        sock.sendall(head.encode("latin-1") + b"%x\r\n%b\r\n" % (len(first), first))
        sent = len(first)
        while sent < upto:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered (or closed): stop sending
            sock.sendall(b"%x\r\n%b\r\n" % (len(filler), filler))
            sent += len(filler)
        else:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server closed the connection while we were still sending
    response = b""
    try:
        while len(response) < 1_000_000:
            data = sock.recv(65536)
            if not data:
                break
            response += data
    except OSError:
        pass
    finally:
        sock.close()
    match = re.match(rb"HTTP/1\.1 (\d{3})", response)
    return (int(match.group(1)) if match else 0), sent


def multipart_head(csrf: str) -> bytes:
    return (
        b'--x\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + csrf.encode() + b"\r\n"
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
    )


# --- 1. request bodies are bounded by the bytes read ----------------------------------


@pytest.mark.parametrize("declared", ["100", None])
def test_chunked_upload_is_stopped_at_the_limit(portal, spooled, declared):
    client = portal.client("A")
    csrf = client.csrf(f"/unit/{YEAR}")
    headers = {
        "Cookie": f"nianbao_session={client.http.cookies.get('nianbao_session')}",
        "Content-Type": "multipart/form-data; boundary=x",
    }
    if declared is not None:
        headers["Content-Length"] = declared  # a lie: Transfer-Encoding wins
    upto = MAX_BODY_BYTES + 64 * MB
    status, sent = chunked_post(portal.base, f"/unit/{YEAR}/upload", headers, multipart_head(csrf), upto)
    assert status in ((413,) if declared else (411, 413)), status
    # The server stopped reading: the rest was never taken in, nor spooled.
    assert sent < upto
    assert spooled["max"] <= MAX_BODY_BYTES
    assert portal.store.uploads() == []
    home_bytes = sum(p.stat().st_size for p in portal.home.root.rglob("*") if p.is_file())
    assert home_bytes < 2 * MB
    # The portal is still there for the next request.
    assert client.upload(YEAR, "a.csv", b"table,row,column,value\n").ok


def test_chunked_sign_in_is_stopped_at_the_small_form_limit(portal):
    client = Client(portal.base)
    csrf = client.csrf("/login")
    headers = {
        "Cookie": f"nianbao_csrf={client.http.cookies.get('nianbao_csrf')}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": "40",
    }
    first = urlencode({"csrf_token": csrf, "token": "nb_"}).encode()
    status, sent = chunked_post(portal.base, "/login", headers, first, 16 * MB)
    assert status == 413 and sent < 16 * MB
    # The same for signing out.
    signed_in = portal.client("A")
    headers["Cookie"] = f"nianbao_session={signed_in.http.cookies.get('nianbao_session')}"
    status, sent = chunked_post(portal.base, "/logout", headers, b"a=", 16 * MB)
    assert status == 413 and sent < 16 * MB
    assert signed_in.get("/unit").url.endswith("/unit"), "still signed in"


def test_too_large_bodies_get_the_chinese_error_page(portal):
    client = Client(portal.base)
    csrf = client.csrf("/login")
    response = client.http.post(
        portal.base + "/login", data={"csrf_token": csrf, "token": "nb_" + "x" * (2 * MAX_FORM_BODY)}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html") and "过长" in response.text
    assert "上传的文件过大" not in response.text, "a sign-in form is not a file"


# --- 2. path numbers ---------------------------------------------------------------


def test_out_of_range_path_numbers_are_not_found(portal, caplog):
    caplog.set_level(logging.INFO)
    unit = portal.client("A")
    unit.upload(YEAR, "a.csv", b"table,row,column,value\n")
    office = portal.client("office")
    unit_paths = [
        f"/unit/{HUGE}",
        f"/unit/{JUST_OVER}",
        f"/unit/{HUGE}/template.xlsx",
        f"/unit/{YEAR}/versions/{HUGE}",
        f"/unit/{YEAR}/versions/{JUST_OVER}",
        f"/unit/{YEAR}/versions/{HUGE}/file",
        f"/unit/{HUGE}/versions/1",
        f"/unit/{HUGE}/versions/1/file",
        f"/unit/{YEAR}/versions/0",
        f"/unit/{YEAR}/versions/2",
        "/unit/0",
        "/unit/9999",
    ]
    office_paths = [
        f"/office/{HUGE}/missing.csv",
        f"/office/{HUGE}/units/A",
        f"/office/{YEAR}/units/A/versions/{HUGE}",
        f"/office/{YEAR}/units/A/versions/{HUGE}/file",
        f"/office/{HUGE}/units/A/versions/1",
        f"/office/{HUGE}/units/A/versions/1/file",
        "/office/9999/units/A",
        "/office/9999/missing.csv",
        "/office/0/units/A/versions/1",
        f"/office/{YEAR}/units/A/versions/7",
    ]
    for client, paths in ((unit, unit_paths), (office, office_paths)):
        for path in paths:
            response = client.get(path)
            assert response.status_code == 404, (path, response.status_code)
            assert response.headers["content-type"].startswith("text/html"), path
            assert "无法完成请求" in response.text and "Traceback" not in response.text, path
    csrf = unit.csrf(f"/unit/{YEAR}")
    for path in (f"/unit/{HUGE}/upload", f"/unit/{JUST_OVER}/upload", "/unit/9999/upload"):
        response = unit.http.post(
            portal.base + path, data={"csrf_token": csrf}, files={"file": ("a.csv", b"x")}
        )
        assert response.status_code == 404 and "无法完成请求" in response.text, path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    # The real ones still work.
    assert unit.get(f"/unit/{YEAR}/versions/1").ok and office.get(f"/office/{YEAR}/units/A/versions/1").ok


def test_store_lookups_with_huge_numbers_find_nothing(portal):
    assert portal.store.upload("A", YEAR, 2**64) is None
    assert portal.store.upload("A", 2**70, 1) is None
    assert portal.store.uploads(year=2**64) == []


def test_unknown_pages_and_methods_get_chinese_pages(portal):
    client = portal.client("A")
    for response, code in (
        (client.get("/no/such/page"), 404),
        (client.http.get(portal.base + "/logout"), 405),
        (client.http.put(portal.base + "/login", data="x"), 405),
    ):
        assert response.status_code == code
        assert "无法完成请求" in response.text and "Not Found" not in response.text
        assert "Method Not Allowed" not in response.text
    # A malformed multipart body is refused in Chinese, too.
    csrf = client.csrf(f"/unit/{YEAR}")
    files = {"file": ("a.csv", b"1"), "other": ("b.csv", b"2")}
    response = client.http.post(f"{portal.base}/unit/{YEAR}/upload", data={"csrf_token": csrf}, files=files)
    assert response.status_code == 400 and re.search(r"[\u4e00-\u9fff]", response.text)
    assert "Too many files" not in response.text
    # So is a wrong Host header (DNS rebinding, or a forgotten --allowed-host).
    for host in ("evil.example", ""):
        response = requests.get(portal.base + "/login", headers={"Host": host}, timeout=10)
        assert response.status_code == 400 and "主机名" in response.text


# --- 3. Secure cookies ---------------------------------------------------------------


def set_cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    return {v.split("=", 1)[0]: v for k, v in response.getheaders() if k.lower() == "set-cookie"}


def raw(base: str, method: str, path: str, body: str = "", cookie: str = ""):
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if method == "POST" else {}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=body.encode() if method == "POST" else None, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    conn.close()
    return response, text


@pytest.mark.parametrize("secure", [False, True])
def test_cookies_carry_secure_when_asked(tmp_path, secure):
    home = make_home(tmp_path / "home")
    tokens = issue_tokens(home)
    app = create_app(home, clock=fixed_clock(JANUARY), secure_cookies=secure)
    with running(app) as base:
        page, text = raw(base, "GET", "/login")
        csrf_cookie = set_cookies(page)["nianbao_csrf"]
        csrf = CSRF.search(text).group(1)
        cookie = csrf_cookie.split(";", 1)[0]
        signed_in, _ = raw(
            base, "POST", "/login", urlencode({"csrf_token": csrf, "token": tokens["A"]}), cookie
        )
        assert signed_in.status == 303
        session_cookie = set_cookies(signed_in)["nianbao_session"]
        session = session_cookie.split(";", 1)[0]
        page, text = raw(base, "GET", f"/unit/{YEAR}", cookie=session)
        assert page.status == 200
        out, _ = raw(base, "POST", "/logout", urlencode({"csrf_token": CSRF.search(text).group(1)}), session)
        assert out.status == 303
        cleared = set_cookies(out)["nianbao_session"]
    for header in (csrf_cookie, session_cookie, cleared):
        attributes = [a.strip().lower() for a in header.split(";")[1:]]
        assert ("secure" in attributes) == secure, header
        assert "httponly" in attributes and "samesite=strict" in attributes


def test_portal_command_has_a_secure_cookies_flag(tmp_path, monkeypatch):
    import pipeline.portal.server
    from pipeline.cli import main

    home = make_home(tmp_path / "home")
    served = []
    monkeypatch.setattr(pipeline.portal.server, "serve", lambda app, host, port: served.append(app))
    assert main(["portal", "--home", str(home.root), "--workers", "0"]) == 0
    assert main(["portal", "--home", str(home.root), "--workers", "0", "--secure-cookies"]) == 0
    assert [app.state.portal.secure_cookies for app in served] == [False, True]


# --- 4. sign-in rate limit --------------------------------------------------------------


def login(base: str, token: str, source: str | None = None) -> tuple[int, str, dict]:
    """One sign-in attempt from `source` (a loopback address), as a browser does it."""
    parts = urlsplit(base)

    def request(method, path, body=None, cookie=""):
        conn = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=30, source_address=(source, 0) if source else None
        )
        headers = {"Cookie": cookie} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        conn.close()
        return response, text

    page, text = request("GET", "/login")
    cookie = set_cookies(page)["nianbao_csrf"].split(";", 1)[0]
    body = urlencode({"csrf_token": CSRF.search(text).group(1), "token": token})
    response, text = request("POST", "/login", body, cookie)
    return response.status, text, dict(response.getheaders())


def test_failed_sign_ins_are_limited_per_client(tmp_path):
    home = make_home(tmp_path / "home")
    tokens = issue_tokens(home)
    now = {"t": 1000.0}
    throttle = LoginThrottle(max_failures=10, window=600, clock=lambda: now["t"])
    app = create_app(home, clock=fixed_clock(JANUARY), login_throttle=throttle)
    with running(app) as base:
        assert login(base, tokens["A"])[0] == 303, "a success counts for nothing"
        for _ in range(10):
            assert login(base, "nb_wrong-token-123")[0] == 401
        status, text, headers = login(base, "nb_wrong-token-123")
        assert status == 429 and "登录失败次数过多" in text and "10 分钟后" in text
        assert headers["retry-after"] == "600"
        # Refused even with the right token while blocked (no guessing through the block).
        assert login(base, tokens["A"])[0] == 429
        # Another client signs in as usual.
        try:
            other = login(base, tokens["B"], source="127.0.0.2")
        except OSError:
            pytest.skip("no second loopback address here")
        assert other[0] == 303
        # When the window has passed, the first failure falls out and the client may try again.
        now["t"] += 301
        status, text, headers = login(base, tokens["A"])
        assert status == 429 and "5 分钟后" in text and headers["retry-after"] == "299"
        now["t"] += 300
        assert login(base, tokens["A"])[0] == 303
        # A success is not counted, and does not wipe earlier failures either.
        for _ in range(9):
            assert login(base, "nb_wrong-token-123")[0] == 401
        assert login(base, tokens["A"])[0] == 303
        assert login(base, "nb_wrong-token-123")[0] == 401
        assert login(base, tokens["A"])[0] == 429


def test_the_sign_in_limiter_stays_small():
    now = {"t": 0.0}
    throttle = LoginThrottle(max_failures=3, window=60, max_clients=100, clock=lambda: now["t"])
    for i in range(10_000):
        throttle.failed(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
        now["t"] += 0.001
    assert len(throttle) <= 100
    for _ in range(3):
        throttle.failed("192.0.2.1")
    assert throttle.retry_after("192.0.2.1") == 60
    assert throttle.retry_after("192.0.2.2") == 0
    now["t"] += 61
    assert throttle.retry_after("192.0.2.1") == 0
    throttle.failed("192.0.2.3")
    assert len(throttle) == 1, "expired clients are dropped"


# --- 5. no tracebacks -------------------------------------------------------------------


def test_a_browser_leaving_mid_upload_leaves_no_traceback(portal, caplog):
    caplog.set_level(logging.INFO)
    client = portal.client("A")
    csrf = client.csrf(f"/unit/{YEAR}")
    parts = urlsplit(portal.base)
    head = (
        f"POST /unit/{YEAR}/upload HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Cookie: nianbao_session={client.http.cookies.get('nianbao_session')}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode() + multipart_head(csrf) + b"x" * 300_000)
    deadline = time.monotonic() + 10
    while "上传中断" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "上传中断" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert portal.store.uploads() == [] and client.get(f"/unit/{YEAR}").ok
