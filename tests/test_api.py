"""The upload API (pipeline/portal/api.py): the same check and messages as the
page, bearer tokens only for units, JSON errors, its OpenAPI document honoured
under schemathesis, and every hostile-corpus file refused through it."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

import pytest
import requests
from conftest import valid_cells
from hostile.client import issue_tokens, make_home
from hostile.corpus import CASES, UNIT, YEAR
from hypothesis import HealthCheck, given, settings

from pipeline.ingest.archive import blob_path
from pipeline.portal.app import MAX_BODY_BYTES, create_app
from pipeline.portal.server import running
from pipeline.portal.store import Store
from pipeline.portal.submit import validate
from pipeline.synth import to_csv

schemathesis = pytest.importorskip("schemathesis", reason="未安装 schemathesis（pip install -e '.[dev]'）")

API = "/api/v1"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    home = make_home(tmp_path_factory.mktemp("api") / "home")
    tokens = issue_tokens(home)
    with running(create_app(home)) as base:
        yield base, home, tokens


def post(base: str, token: str | None, year, name: str, data: bytes) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        f"{base}{API}/submissions",
        headers=headers,
        data={"year": str(year)},
        files={"file": (name, data)},
        timeout=120,
    )


def test_accepted_file_gets_the_pages_answer_in_json(live):
    base, home, tokens = live
    data = to_csv(valid_cells(YEAR, seed=4))
    response = post(base, tokens["A"], YEAR, "a.csv", data)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outcome"] == "accepted" and body["unit"] == "A" and body["year"] == YEAR
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (home.inbox_dir(YEAR) / "A" / body["stored_name"]).read_bytes() == data
    assert body["rebuild"] == "off"  # no resident worker in a plain portal
    stored = Store(home).upload("A", YEAR, body["version"])
    assert [m["text"] for m in body["messages"]] == [m["text"] for m in stored.messages]


def test_rejected_file_carries_the_same_messages_as_nianbao_check(live):
    base, home, tokens = live
    data = "这不是报表\n".encode()
    body = post(base, tokens["B"], YEAR, "b.csv", data).json()
    assert body["outcome"] == "rejected" and body["errors"] >= 1
    expected, _ = validate(home, "B", YEAR, body["stored_name"], data)
    assert [m["display"] for m in body["messages"]] == [m.render() for m in expected]


def test_history_and_status(live):
    base, _home, tokens = live
    post(base, tokens["C"], YEAR, "c.csv", to_csv(valid_cells(YEAR, seed=5)))
    auth = {"Authorization": f"Bearer {tokens['C']}"}
    history = requests.get(f"{base}{API}/submissions", params={"year": YEAR}, headers=auth, timeout=30).json()
    assert [v["version"] for v in history["versions"]] == [1] and history["unit"] == "C"
    status = requests.get(f"{base}{API}/status", params={"year": YEAR}, headers=auth, timeout=30).json()
    assert status["state"] == "accepted" and status["in_use_version"] == 1
    assert status["in_report_at"] == ""  # not built yet


@pytest.mark.parametrize(
    "header, code, fragment",
    [
        (None, 401, "缺少访问令牌"),
        ("Bearer nb_wrongwrongwrong", 401, "令牌无效"),
        ("Basic abc", 401, "缺少访问令牌"),
    ],
)
def test_refusals_are_json_in_chinese(live, header, code, fragment):
    base, _home, _tokens = live
    headers = {"Authorization": header} if header else {}
    response = requests.post(
        f"{base}{API}/submissions", headers=headers, data={"year": "2025"}, files={"file": ("a.csv", b"x")}
    )
    assert response.status_code == code
    assert fragment in response.json()["error"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_office_token_year_and_file_checks(live):
    base, _home, tokens = live
    assert post(base, tokens["office"], YEAR, "a.csv", b"x").status_code == 403
    assert post(base, tokens["A"], "20x5", "a.csv", b"x").status_code == 422
    assert post(base, tokens["A"], 2003, "a.csv", b"x").status_code == 404
    auth = {"Authorization": f"Bearer {tokens['A']}"}
    missing = requests.post(f"{base}{API}/submissions", headers=auth, files={"year": (None, "2025")})
    assert missing.status_code == 422 and "缺少文件" in missing.json()["error"]
    not_form = requests.post(f"{base}{API}/submissions", headers=auth, json={"year": 2025})
    assert not_form.status_code == 415


def test_times_are_beijing_time(live):
    """The API's times carry +08:00 and name the same moment the portal stored (in UTC)."""
    base, home, tokens = live
    body = post(base, tokens["A"], YEAR, "a.csv", to_csv(valid_cells(YEAR, seed=6))).json()
    stored = Store(home).upload("A", YEAR, body["version"])
    assert body["received_at"].endswith("+08:00") and not stored.received_at.endswith("+08:00")
    assert datetime.fromisoformat(body["received_at"]) == datetime.fromisoformat(stored.received_at)
    auth = {"Authorization": f"Bearer {tokens['A']}"}
    history = requests.get(f"{base}{API}/submissions", params={"year": YEAR}, headers=auth, timeout=30).json()
    assert all(v["received_at"].endswith("+08:00") for v in history["versions"])


def test_openapi_document_is_served(live):
    base, _home, _tokens = live
    doc = requests.get(f"{base}{API}/openapi.json", timeout=30).json()
    assert doc["openapi"].startswith("3.") and f"{API}/submissions" in doc["paths"]


PARAMS = [pytest.param(c, id=c.id) for c in CASES]


@pytest.mark.parametrize("case", PARAMS)
def test_every_hostile_file_through_the_api(case, live, tmp_path):
    base, home, tokens = live
    data = case.build(tmp_path)
    started = time.monotonic()
    response = post(base, tokens[UNIT], YEAR, case.name, data)
    assert time.monotonic() - started < case.seconds + 10
    if len(data) > MAX_BODY_BYTES:  # refused by size before it is read
        assert response.status_code == 413 and "上限为 20 MB" in response.json()["error"]
        return
    assert response.status_code == 201, response.text[:300]
    body = response.json()
    assert body["file_name"] == case.name and body["size"] == len(data)
    assert blob_path(home.archive, body["sha256"]).read_bytes() == data
    if case.rule:
        assert body["outcome"] == "rejected"
        assert any(m["rule"].startswith(case.rule) for m in body["messages"] if m["severity"] == "ERROR")
    else:
        assert body["outcome"] == "accepted"


# --- schemathesis: the document and the implementation agree --------------------
@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    home = make_home(tmp_path_factory.mktemp("schemathesis") / "home")
    token = Store(home).issue_token("unit", "A")[1]
    app = create_app(home, allowed_hosts=["*"])
    schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", app)
    schema.config.headers = {"Authorization": f"Bearer {token}"}  # every generated request is a unit's
    return schema


def test_api_follows_its_openapi_document(api_schema):
    """Each operation with generated requests (bounded): no server error, and every
    answer's status, content type and body as the document declares."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {o.label for o in operations} >= {"POST /api/v1/submissions", "GET /api/v1/status"}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate()

        check()
