"""A portal under test: a data home, tokens, a live server on loopback, and a
small HTTP client that signs in and posts forms the way a browser does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests
from conftest import write_home

from pipeline.home import Home
from pipeline.portal.app import create_app
from pipeline.portal.server import running
from pipeline.portal.store import Store

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
YEAR = 2025
UNITS = [("A", "甲局"), ("B", "乙局"), ("C", "丙街道")]


class Client:
    """A requests session with the portal's CSRF dance built in."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(
            self.base + path, allow_redirects=kwargs.pop("allow_redirects", True), timeout=60, **kwargs
        )

    def csrf(self, path: str = "/login") -> str:
        page = self.get(path)
        match = CSRF.search(page.text)
        assert match, f"no CSRF token on {path}: {page.status_code}"
        return match.group(1)

    def post(self, path: str, data: dict, files=None, csrf_from: str = "/", **kwargs) -> requests.Response:
        form = {"csrf_token": self.csrf(csrf_from), **data}
        return self.http.post(self.base + path, data=form, files=files, timeout=120, **kwargs)

    def login(self, token: str) -> requests.Response:
        return self.post("/login", {"token": token}, csrf_from="/login")

    def upload(self, year: int, name: str, data: bytes, **kwargs) -> requests.Response:
        return self.post(
            f"/unit/{year}/upload", {}, files={"file": (name, data)}, csrf_from=f"/unit/{year}", **kwargs
        )


@dataclass
class PortalUnderTest:
    base: str
    home: Home
    store: Store
    tokens: dict[str, str]  # "A", "B", "C", "office" -> clear token

    def client(self, who: str | None = None) -> Client:
        client = Client(self.base)
        if who is not None:
            response = client.login(self.tokens[who])
            assert response.ok and "/login" not in response.url, response.text[:500]
        return client


def make_home(root: Path, units=UNITS) -> Home:
    return write_home(root, list(units), first_year=2020)


def issue_tokens(home: Home) -> dict[str, str]:
    store = Store(home)
    tokens = {code: store.issue_token("unit", code)[1] for code in (u.code for u in home.registry().units)}
    tokens["office"] = store.issue_token("office")[1]
    return tokens


@contextmanager
def portal_running(root: Path, clock=None, units=UNITS, workers: int = 0) -> Iterator[PortalUnderTest]:
    home = make_home(root, units)
    tokens = issue_tokens(home)
    kwargs = {"clock": clock, "workers": workers} if clock else {"workers": workers}
    with running(create_app(home, **kwargs)) as base:
        yield PortalUnderTest(base, home, Store(home), tokens)


def fixed_clock(moment: datetime):
    return lambda: moment
