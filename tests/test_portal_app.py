"""The portal over real HTTP on loopback: tokens (hashed, revocable), sign-in
without secrets in URLs or logs, CSRF, size limit, uploads validated at once
and landing in the inbox, resubmission, unit isolation, the office view."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pandas as pd
import pytest
import requests
from conftest import valid_cells
from hostile.client import YEAR, Client, fixed_clock, make_home, portal_running

from pipeline.home import write_parquet
from pipeline.ingest.archive import blob_path, read_manifest
from pipeline.portal.store import Store, digest
from pipeline.steps.intake import collect
from pipeline.synth import to_csv

JANUARY = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)  # before the 2025 deadline
FEBRUARY = datetime(2026, 2, 3, 2, 0, tzinfo=UTC)  # after it


@pytest.fixture
def portal(tmp_path):
    with portal_running(tmp_path / "home", clock=fixed_clock(JANUARY)) as p:
        yield p


def good_csv(seed: int = 1) -> bytes:
    return to_csv(valid_cells(YEAR, seed=seed))


def broken_n1_csv(seed: int = 1) -> tuple[bytes, str]:
    """A valid file with applications/received/natural_person raised by 1 (N1 breaks)."""
    cells = valid_cells(YEAR, seed=seed)
    key = ("applications", "received", "natural_person")
    cells[key] = str(int(cells.get(key, "0")) + 1)
    total = ("applications", "received", "total")
    cells[total] = str(int(cells.get(total, "0")) + 1)  # keep N3 true: only N1 breaks
    return to_csv(cells), "natural_person"


def cell(page: str, cell_id: str) -> str:
    match = re.search(rf'<td id="{re.escape(cell_id)}"[^>]*>(.*?)</td>', page, re.S)
    assert match, f"no cell {cell_id}"
    return match.group(1)


# --- tokens -------------------------------------------------------------------


def test_tokens_are_stored_only_as_hashes(tmp_path):
    home = make_home(tmp_path / "home")
    store = Store(home)
    token, secret = store.issue_token("unit", "A")
    assert secret.startswith("nb_") and len(secret) > 40
    raw = b"".join(p.read_bytes() for p in (home.root / "portal").iterdir() if p.is_file())
    assert secret.encode() not in raw
    assert digest(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert store.authenticate(secret).id == token.id
    assert store.authenticate(secret + "x") is None
    assert store.authenticate("") is None


def test_revoking_a_token_refuses_it_and_ends_its_sessions(portal):
    client = portal.client("A")
    assert client.get("/unit").url.endswith("/unit")
    token_id = next(t.id for t in portal.store.tokens() if t.unit == "A")
    assert portal.store.revoke(token_id=token_id) == 1
    assert client.get("/unit").url.endswith("/login"), "the open session ended with the token"
    again = Client(portal.base).login(portal.tokens["A"])
    assert again.status_code == 401 and "令牌无效或已停用" in again.text
    # Other units are unaffected.
    assert portal.client("B").get("/unit").url.endswith("/unit")


def test_tokens_command(tmp_path, capsys):
    from pipeline.cli import main

    home = make_home(tmp_path / "home")
    assert main(["tokens", "issue", "--unit", "A", "--home", str(home.root), "--note", "张三"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert secret.startswith("nb_")
    assert main(["tokens", "issue", "--office", "--home", str(home.root)]) == 0
    capsys.readouterr()
    assert main(["tokens", "list", "--home", str(home.root)]) == 0
    listing = capsys.readouterr().out
    assert secret not in listing and "张三" in listing and "政务公开办" in listing
    assert main(["tokens", "issue", "--unit", "ZZ", "--home", str(home.root)]) == 2
    assert "不在单位名册中" in capsys.readouterr().err
    assert main(["tokens", "revoke", "--unit", "A", "--home", str(home.root)]) == 0
    assert Store(home).authenticate(secret) is None
    assert main(["tokens", "revoke", "--unit", "A", "--home", str(home.root)]) == 1


# --- sign-in, CSRF, limits --------------------------------------------------------


def test_token_never_in_urls_or_logs(portal, caplog):
    caplog.set_level(logging.INFO)
    client = Client(portal.base)
    response = client.login(portal.tokens["A"])
    assert response.ok and response.url.endswith("/unit")
    assert all(portal.tokens["A"] not in r.url for r in [*response.history, response])
    # A token put in a URL is refused and does not sign in.
    stranger = Client(portal.base)
    in_url = stranger.get("/login?token=" + portal.tokens["B"])
    assert in_url.status_code == 400 and "不要把令牌放在网址里" in in_url.text
    assert stranger.get("/unit").url.endswith("/login")
    client.upload(YEAR, "a.csv", good_csv())
    time.sleep(0.2)  # let the server thread flush its access log lines
    logs = caplog.text
    assert "POST /login" in logs and "/unit/2025/upload" in logs, "the access log is captured"
    for secret in portal.tokens.values():
        assert secret[3:] not in logs
    session_id = client.http.cookies.get("nianbao_session")
    assert session_id and session_id not in logs
    raw_cookie = response.history[0].headers["set-cookie"]
    assert "HttpOnly" in raw_cookie and "SameSite=strict" in raw_cookie


def test_forms_need_the_csrf_token(portal):
    client = portal.client("A")
    url = f"{portal.base}/unit/{YEAR}/upload"
    files = {"file": ("a.csv", good_csv())}
    assert client.http.post(url, files=files).status_code == 403
    assert client.http.post(url, data={"csrf_token": "forged"}, files=files).status_code == 403
    # Another session's token does not do either.
    other = portal.client("B").csrf(f"/unit/{YEAR}")
    assert client.http.post(url, data={"csrf_token": other}, files=files).status_code == 403
    # A cross-site Origin is refused even with the right token.
    good = client.csrf(f"/unit/{YEAR}")
    evil = client.http.post(
        url, data={"csrf_token": good}, files=files, headers={"Origin": "http://evil.example"}
    )
    assert evil.status_code == 403
    # Sign-in and sign-out are forms too.
    fresh = Client(portal.base)
    assert fresh.http.post(portal.base + "/login", data={"token": portal.tokens["A"]}).status_code == 403
    assert client.http.post(portal.base + "/logout").status_code == 403
    assert portal.store.uploads() == [], "nothing was handed in"
    assert client.upload(YEAR, "a.csv", good_csv()).ok


def raw_post(base: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, str]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
    for key, value in headers.items():
        conn.putheader(key, value)
    conn.endheaders()
    if body:
        conn.send(body)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, text


def test_upload_size_is_limited_before_reading_the_body(portal):
    client = portal.client("A")
    cookie = f"nianbao_session={client.http.cookies.get('nianbao_session')}"
    headers = {
        "Host": urlsplit(portal.base).netloc,
        "Cookie": cookie,
        "Content-Type": "multipart/form-data; boundary=x",
    }
    status, text = raw_post(
        portal.base, f"/unit/{YEAR}/upload", {**headers, "Content-Length": str(200 * 1024 * 1024)}
    )
    assert status == 413 and "上限为 20 MB" in text
    status, text = raw_post(
        portal.base, f"/unit/{YEAR}/upload", {**headers, "Transfer-Encoding": "chunked"}, b"0\r\n\r\n"
    )
    assert status == 411
    assert portal.store.uploads() == [] and read_manifest(portal.home.archive) == []
    # A file just over the reader's limit is taken in, archived and refused with F6.
    big = b"table,row,column,value\n" + b"x" * (20 * 1024 * 1024)
    response = client.upload(YEAR, "big.csv", big)
    assert response.ok and "F6" in response.text
    assert portal.store.uploads()[0].outcome == "rejected"


def test_security_headers_and_hosts(portal):
    response = Client(portal.base).get("/login")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    rebound = requests.get(portal.base + "/login", headers={"Host": "evil.example"}, timeout=10)
    assert rebound.status_code == 400


# --- uploads --------------------------------------------------------------------------


def test_accepted_upload_is_archived_and_lands_in_the_inbox(portal):
    client = portal.client("A")
    data = good_csv()
    response = client.upload(YEAR, "甲局2025年报.csv", data)
    assert response.url.endswith(f"/unit/{YEAR}/versions/1")
    assert 'data-outcome="accepted"' in response.text and "这是在用版本" in response.text
    assert (portal.home.inbox_dir(YEAR) / "A" / "甲局2025年报.csv").read_bytes() == data
    sha = hashlib.sha256(data).hexdigest()
    assert blob_path(portal.home.archive, sha).read_bytes() == data
    [row] = read_manifest(portal.home.archive)
    assert (row["unit"], row["original_name"], row["outcome"]) == ("A", "甲局2025年报.csv", "accepted")
    year_page = client.get(f"/unit/{YEAR}").text
    assert 'data-state="accepted"' in year_page and "甲局2025年报.csv" in year_page
    home_page = client.get("/unit").text
    assert 'data-year="2025"' in home_page and 'data-state="accepted"' in home_page


def test_rejected_upload_shows_each_message_beside_its_cell(portal):
    client = portal.client("A")
    data, column = broken_n1_csv()
    response = client.upload(YEAR, "a.csv", data)
    page = response.text
    assert 'data-outcome="rejected"' in page and "未采用" in page
    # The same messages as `nianbao check`, each beside the cell it concerns.
    from pipeline.steps.check import check_file

    path = portal.home.root / "a.csv"
    path.write_bytes(data)
    expected = check_file(data, "a.csv", "A", YEAR, portal.home).messages
    assert [(m.rule, m.location) for m in expected] == [("N1", "第 18 行"), ("N1", "第 19 行")] or len(
        expected
    ) == 2
    for message, col in zip(expected, (column, "total")):
        at_cell = cell(page, f"cell-applications-received-{col}")
        assert 'data-rule="N1"' in at_cell and message.location in at_cell
        assert message.text.replace("“", "&#34;")[:20] in at_cell or message.text[:20] in at_cell
        opening = re.search(rf'<td id="cell-applications-received-{col}"[^>]*>', page).group(0)
        assert "error" in opening
    # Nothing reached the inbox; the file is archived as rejected.
    assert not (portal.home.inbox_dir(YEAR) / "A").exists()
    assert [r["outcome"] for r in read_manifest(portal.home.archive)] == ["rejected"]


def test_xlsx_upload_messages_point_at_the_workbook_cell(portal, tmp_path):
    import xlsx_fixtures

    client = portal.client("A")
    template = tmp_path / "t.xlsx"
    template.write_bytes(client.get(f"/unit/{YEAR}/template.xlsx").content)
    from hostile.corpus import typed

    cells = valid_cells(YEAR, seed=3)
    cells[("proactive", "penalty", "decisions")] = "约十件"
    where = xlsx_fixtures.fill(template, tmp_path / "f.xlsx", typed(cells))
    sheet, address = where[("proactive", "penalty", "decisions")]
    page = client.upload(YEAR, "f.xlsx", (tmp_path / "f.xlsx").read_bytes()).text
    at_cell = cell(page, "cell-proactive-penalty-decisions")
    assert 'data-rule="N5"' in at_cell and "约十件" in at_cell
    assert f"{sheet}!{address}" in at_cell


def test_resubmission_replaces_the_version_in_use(portal):
    client = portal.client("A")
    first, second, third = good_csv(1), broken_n1_csv(2)[0], good_csv(3)
    client.upload(YEAR, "年报.csv", first)
    rejected = client.upload(YEAR, "年报.csv", second)
    assert "目前在用的仍是第 1 版" in rejected.text
    client.upload(YEAR, "年报.csv", third)
    uploads = portal.store.uploads(unit="A")
    assert [(u.version, u.outcome) for u in uploads] == [(1, "accepted"), (2, "rejected"), (3, "accepted")]
    page = client.get(f"/unit/{YEAR}").text
    assert "在用版本：第 3 版" in page
    history = re.findall(r'<tr data-version="(\d)">.*?</tr>', page, re.S)
    assert history == ["3", "2", "1"]
    # Every version stays downloadable, byte for byte.
    for version, data in ((1, first), (2, second), (3, third)):
        assert client.get(f"/unit/{YEAR}/versions/{version}/file").content == data
    # The intake agrees: the newest accepted file is in use, the earlier one superseded.
    files = collect(portal.home, YEAR, portal.home.registry()).files
    a = files[files["unit"] == "A"].set_index("file")
    assert a["in_use"].to_dict() == {"年报.csv": False, uploads[2].stored_name: True}
    assert uploads[2].stored_name == "年报（第3版）.csv"
    assert {r["sha256"]: r["outcome"] for r in read_manifest(portal.home.archive)} == {
        uploads[0].sha256: "accepted",
        uploads[1].sha256: "rejected",
        uploads[2].sha256: "accepted",
    }


def test_a_unit_cannot_reach_another_units_data(portal):
    a, b = portal.client("A"), portal.client("B")
    a.upload(YEAR, "甲局机密.csv", good_csv())
    sha = portal.store.uploads(unit="A")[0].sha256
    # B's URLs carry no unit: B's version 1 does not exist, A's is unreachable.
    for path in (f"/unit/{YEAR}/versions/1", f"/unit/{YEAR}/versions/1/file"):
        response = b.get(path)
        assert response.status_code == 404 and "甲局机密" not in response.text
    for path in (
        "/office",
        f"/office/{YEAR}/units/A",
        f"/office/{YEAR}/units/A/versions/1/file",
        f"/office/{YEAR}/missing.csv",
    ):
        response = b.get(path)
        assert response.status_code == 403 and "甲局机密" not in response.text and sha not in response.text
    assert "甲局机密" not in b.get(f"/unit/{YEAR}").text and "甲局机密" not in b.get("/unit").text
    # Path tricks do not help either.
    for path in (f"/unit/{YEAR}/versions/1/../../../office", f"/unit/{YEAR}/versions/-1", "/unit/A/2025"):
        assert b.get(path).status_code in (403, 404)
    # B's upload goes to B, never to A.
    b.upload(YEAR, "b.csv", good_csv(2))
    assert [u.unit for u in portal.store.uploads()] == ["A", "B"]
    assert sorted(p.name for p in portal.home.inbox_dir(YEAR).iterdir()) == ["A", "B"]
    # Without signing in, nothing at all.
    anonymous = Client(portal.base)
    for path in (f"/unit/{YEAR}", f"/unit/{YEAR}/versions/1/file", "/office"):
        response = anonymous.get(path)
        assert response.url.endswith("/login") and sha not in response.text
    # The office sees everything.
    office = portal.client("office")
    assert office.get(f"/office/{YEAR}/units/A/versions/1/file").content == good_csv()


def test_a_year_the_unit_does_not_report_is_not_found(tmp_path):
    units = [("A", "甲局"), ("N", "新设局")]
    with portal_running(tmp_path / "home", clock=fixed_clock(JANUARY), units=units) as p:
        registry = p.home.root / "registry" / "units.csv"
        registry.write_text(
            registry.read_text().replace("N,新设局,部门,2020,", "N,新设局,部门,2026,"), encoding="utf-8"
        )
        client = p.client("N")
        assert client.get(f"/unit/{YEAR}").status_code == 404
        assert 'data-year="2025"' not in client.get("/unit").text


# --- templates -------------------------------------------------------------------------


def test_template_is_prefilled_from_last_years_accepted_figures(portal, tmp_path):
    import xlsx_fixtures

    accepted = pd.DataFrame(
        [
            ("A", "applications", "carried_forward", "natural_person", "7", 7.0, "count"),
            ("A", "applications", "carried_forward", "total", "9", 9.0, "count"),
            ("A", "proactive", "regulations", "in_force", "41", 41.0, "count"),
            ("B", "applications", "carried_forward", "total", "55", 55.0, "count"),
        ],
        columns=["unit", "table", "row", "column", "value", "number", "kind"],
    )
    write_parquet(accepted, portal.home.warehouse_dir(YEAR - 1) / "accepted.parquet")
    response = portal.client("A").get(f"/unit/{YEAR}/template.xlsx")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''A_2025" in response.headers["content-disposition"]
    path = tmp_path / "t.xlsx"
    path.write_bytes(response.content)
    wb = openpyxl.load_workbook(path)
    where = xlsx_fixtures.input_cells(wb)

    def at(key):
        sheet, address = where[key]
        return wb[sheet][address]

    assert at(("applications", "carried_over", "natural_person")).value == 7
    assert at(("applications", "carried_over", "total")).value == 9
    assert at(("proactive", "regulations", "in_force")).value == 41
    assert at(("applications", "carried_over", "total")).comment is not None, "marked as pre-filled"
    assert at(("applications", "carried_over", "commercial")).value is None
    assert "甲局" in str(wb.worksheets[0]["B1"].value)


# --- the office -----------------------------------------------------------------------


def test_office_matrix_lists_states_and_missing_units(tmp_path):
    clock = {"now": JANUARY}
    with portal_running(tmp_path / "home", clock=lambda: clock["now"]) as p:
        p.client("A").upload(YEAR, "a.csv", good_csv())
        p.client("B").upload(YEAR, "b.csv", broken_n1_csv()[0])
        office = p.client("office")
        page = office.get("/office").text

        def state(unit: str) -> str:
            row = re.search(rf'<tr data-unit="{unit}">(.*?)</tr>', page, re.S).group(1)
            return re.search(rf'<td data-year="{YEAR}">.*?data-state="(\w+)"', row, re.S).group(1)

        assert (state("A"), state("B"), state("C")) == ("accepted", "rejected", "missing")
        assert "data-late" not in page and "已逾期" not in page
        detail = office.get(f"/office/{YEAR}/units/B").text
        assert 'data-rule="N1"' in detail
        missing = office.get(f"/office/{YEAR}/missing.csv")
        assert missing.headers["content-type"].startswith("text/csv")
        lines = missing.content.decode("utf-8-sig").splitlines()
        assert lines == ['"单位代码","单位名称","状态"', '"C","丙街道","未报送"']
        # After 31 January: C is overdue, a new upload is late.
        clock["now"] = FEBRUARY
        p.client("C").upload(YEAR, "c.csv", good_csv(4))
        page = office.get("/office").text
        row = re.search(r'<tr data-unit="C">(.*?)</tr>', page, re.S).group(1)
        assert 'data-state="accepted"' in row and 'data-late="1"' in row and "逾期报送" in row
        assert office.get(f"/office/{YEAR}/missing.csv").content.decode("utf-8-sig").splitlines()[1:] == []


def test_office_combines_the_last_build_with_later_uploads(portal):
    from conftest import build

    a = portal.client("A")
    a.upload(YEAR, "a.csv", good_csv(1))
    portal.client("B").upload(YEAR, "b.csv", good_csv(2))
    build(portal.home, YEAR)
    validation = (portal.home.reports_dir(YEAR) / "validation.html").read_text(encoding="utf-8")
    in_use = portal.store.uploads(unit="A")[0]
    assert in_use.sha256[:12] in validation, "the validation report names the version in use"
    # A later upload shows before the next build; the build's view stays for the others.
    time.sleep(0.01)
    a.upload(YEAR, "a.csv", broken_n1_csv(5)[0])
    office = portal.client("office")
    page = office.get("/office").text
    states = dict(
        re.findall(rf'<tr data-unit="(\w)">.*?<td data-year="{YEAR}">.*?data-state="(\w+)"', page, re.S)
    )
    assert states == {"A": "accepted", "B": "accepted", "C": "missing"}
    detail = office.get(f"/office/{YEAR}/units/A").text
    assert "第 2 版" in detail and 'data-rule="N1"' in detail and "在用版本：第 1 版" in detail


def test_missing_units_download_never_holds_a_live_formula(tmp_path):
    units = [
        ("A", "甲局"),
        ("X1", "=cmd|' /C calc'!A0"),
        ("X2", "+SUM(1)"),
        ("X3", "@HYPERLINK(1)"),
        ("X4", "-2+3"),
    ]
    with portal_running(tmp_path / "home", clock=fixed_clock(JANUARY), units=units) as p:
        data = p.client("office").get(f"/office/{YEAR}/missing.csv").content.decode("utf-8-sig")
    names = [line.split('","')[1] for line in data.splitlines()[1:]]
    assert names == ["甲局", "'=cmd|' /C calc'!A0", "'+SUM(1)", "'@HYPERLINK(1)", "'-2+3"]


def test_template_never_holds_a_live_formula(tmp_path):
    from pipeline.workbook.writer import write_template
    from schemas import format_for_year

    injection = "=cmd|' /C calc'!A0"
    path = write_template(
        format_for_year(YEAR),
        tmp_path / "t.xlsx",
        unit_code="A",
        unit_name=injection,
        year=YEAR,
        prefill={("narrative", "overview", "text"): injection},
    )
    wb = openpyxl.load_workbook(path)
    formulas = [
        (ws.title, c.coordinate)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]
    assert formulas == []


# --- the command ------------------------------------------------------------------------


def test_portal_command_serves_on_loopback(tmp_path):
    home = make_home(tmp_path / "home")
    from pipeline.portal.server import bound_socket

    probe = bound_socket()
    port = probe.getsockname()[1]
    probe.close()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "portal", "--home", str(home.root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "portal did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and "访问令牌" in response.text
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0].decode("utf-8", "replace")
    assert f"http://127.0.0.1:{port}/" in output


def test_random_upload_names_are_stored_safely(portal):
    client = portal.client("A")
    rng = random.Random(7)
    for name in [".隐藏.csv", "~$锁定.csv", "a" * 300 + ".csv", "年报 (1).csv"]:
        response = client.upload(YEAR, name, good_csv(rng.randint(1, 99)))
        assert response.ok
    stored = [u.stored_name for u in portal.store.uploads(unit="A")]
    outcomes = [u.outcome for u in portal.store.uploads(unit="A")]
    assert outcomes == ["accepted", "accepted", "rejected", "accepted"]
    inbox = sorted(p.name for p in (portal.home.inbox_dir(YEAR) / "A").iterdir())
    assert inbox == sorted([stored[0], stored[1], stored[3]])
    assert not any(n.startswith((".", "~$")) for n in inbox), "the intake would skip these"


def test_uploads_are_checked_in_worker_processes(tmp_path):
    with portal_running(tmp_path / "home", clock=fixed_clock(JANUARY), workers=1) as p:
        client = p.client("A")
        assert 'data-outcome="accepted"' in client.upload(YEAR, "a.csv", good_csv()).text
        page = client.upload(YEAR, "a.csv", broken_n1_csv()[0]).text
        assert 'data-rule="N1"' in page
        assert p.store.uploads(unit="A")[-1].outcome == "rejected"


def test_signing_out_ends_the_session(portal):
    client = portal.client("A")
    cookie = client.http.cookies.get("nianbao_session")
    response = client.post("/logout", {}, csrf_from="/unit")
    assert response.url.endswith("/login")
    replay = requests.get(portal.base + "/unit", cookies={"nianbao_session": cookie}, timeout=10)
    assert replay.url.endswith("/login"), "the old session id no longer works"


def test_office_imports_a_published_report_as_a_units_record(tmp_path):
    """The office's upload form: a unit's published report of a year with no data becomes its
    record, marked 据已公开年报导入 in the matrix; a year the unit handed in is refused
    unless 替换 is ticked; units cannot reach the form."""
    from conftest import build, hand_in, write_home

    scratch = write_home(tmp_path / "scratch", [("A", "甲局")], first_year=2020)
    hand_in(scratch, 2024, "A", "a.csv", to_csv(valid_cells(2024, seed=1)))
    build(scratch, 2024)
    report = (scratch.reports_dir(2024) / "units" / "A.html").read_bytes()
    with portal_running(tmp_path / "home", clock=fixed_clock(JANUARY)) as p:
        office = p.client("office")

        def send(unit: str, replace: bool = False, year: str = "2024", who=office) -> requests.Response:
            data = {"year": year, "unit": unit, **({"replace": "1"} if replace else {})}
            return who.post("/office/import", data, files={"file": ("A.html", report)}, csrf_from="/")

        assert 'id="import-form"' in office.get("/office").text
        done = send("A")
        assert done.status_code == 200, done.text[:500]
        assert "已导入：A.html 作为甲局（A） 2024 年度的记录（据已公开年报导入" in done.text
        assert (p.home.root / "published" / "2024" / "A" / "A.html").read_bytes() == report
        # B hands in 2024 through the portal: the office's import for B is refused, then replaces.
        b = p.client("B")
        assert b.upload(2024, "b.csv", to_csv(valid_cells(2024, seed=2))).ok
        refused = send("B")
        assert refused.status_code == 400 and 'id="import-error"' in refused.text
        assert (
            "已有报送的数据（b.csv）" in refused.text
            and not (p.home.root / "published" / "2024" / "B").exists()
        )
        assert "年度应为" in send("A", year="20x4").text
        assert send("B", replace=True).status_code == 200
        assert send("A", who=b).status_code == 403
        build(p.home, 2024)
        page = office.get("/office").text
        row = re.search(r'<tr data-unit="A">(.*?)</tr>', page, re.S).group(1)
        cell_2024 = re.search(r'<td data-year="2024">(.*?)</td>', row, re.S).group(1)
        assert 'data-state="accepted"' in cell_2024 and "据已公开年报导入" in cell_2024
        assert "data-late" not in cell_2024, "a report recorded later is not a late hand-in"
