"""What a new user hit (issue 20, item 9): a workbook that is not the template, a file
that would blank the accepted figures, years one command took and another refused,
partitions that could only fail, `check` with another or an unknown unit, a rejected
inbox file without its reason in the portal, status.csv in Excel."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import requests
from conftest import build, hand_in, valid_cells, write_home
from hostile.client import YEAR, fixed_clock, issue_tokens, make_home, portal_running

from pipeline.ingest.archive import read_manifest
from pipeline.portal.app import create_app
from pipeline.portal.server import running
from pipeline.steps.check import check_file
from pipeline.synth import to_csv

NIANBAO = str(Path(sys.executable).with_name("nianbao"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([NIANBAO, *args], capture_output=True, text=True, timeout=300)


def plain_workbook() -> bytes:
    """An ordinary workbook with numbers in it, none of the format's sheets."""
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(["项目", "数量"])
    wb.active.append(["收到申请", 12])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sparse_csv(seed: int = 1) -> bytes:
    """A valid file with only 表四 and the text: accepted, but most table cells blank."""
    cells = valid_cells(YEAR, seed=seed)
    return to_csv({k: v for k, v in cells.items() if k[0] in ("review_litigation", "narrative")})


# --- a file that is not the template --------------------------------------------------


def test_a_workbook_with_none_of_the_tables_is_an_error_not_zeros():
    report = check_file(plain_workbook(), "统计.xlsx", "A", YEAR)
    assert [(m.rule, m.severity) for m in report.messages] == [("F18", "ERROR")]
    text = report.messages[0].text
    assert "「三、收到和处理政府信息公开申请情况」" in text and "模板" in text


def test_a_csv_naming_none_of_the_tables_is_an_error():
    header_only = check_file(b"table,row,column,value\n", "x.csv", "A", YEAR)
    assert [m.rule for m in header_only.messages] == ["F18"]
    assert not header_only.valid


def test_a_blank_template_is_not_f18():
    """It has the tables, left blank (a unit with nothing to report); the portal asks
    before such a file replaces an accepted one (below)."""
    from pipeline.steps.template import template_for

    report = check_file(template_for(None, "A", YEAR), "模板.xlsx", "A", YEAR)
    assert report.valid and "F18" not in {m.rule for m in report.messages}


def test_the_build_rejects_a_plain_workbook_instead_of_counting_zeros(home):
    import time

    time.sleep(0.01)
    hand_in(home, YEAR, "A", "统计.xlsx", plain_workbook())  # newer than a.csv: in use
    build(home, YEAR)
    status = (home.reports_dir(YEAR) / "status.csv").read_text(encoding="utf-8-sig")
    assert "A,rejected,1,0" in status


def test_cli_check_of_a_plain_workbook_fails(tmp_path):
    path = tmp_path / "统计.xlsx"
    path.write_bytes(plain_workbook())
    result = run("check", str(path), "--unit", "A", "--year", str(YEAR))
    assert result.returncode == 1 and "【F18】" in result.stdout and "可以报送" not in result.stdout


# --- replacing an accepted version with mostly empty tables ------------------------------


def test_the_portal_asks_before_a_mostly_empty_file_replaces_the_accepted_one(tmp_path):
    from datetime import UTC, datetime

    with portal_running(tmp_path / "home", clock=fixed_clock(datetime(2026, 1, 10, tzinfo=UTC))) as p:
        client = p.client("A")
        client.upload(YEAR, "full.csv", to_csv(valid_cells(YEAR, seed=1)))
        asked = client.upload(YEAR, "sparse.csv", sparse_csv())
        assert asked.status_code == 409 and 'id="confirm"' in asked.text
        assert "请确认" in asked.text and "第 1 版" in asked.text and 'name="confirm" value="1"' in asked.text
        # Nothing changed: one version, the inbox as it was, the file archived as unconfirmed.
        assert [(u.version, u.outcome) for u in p.store.uploads(unit="A")] == [(1, "accepted")]
        assert sorted(x.name for x in (p.home.inbox_dir(YEAR) / "A").iterdir()) == ["full.csv"]
        outcomes = {r["original_name"]: r["outcome"] for r in read_manifest(p.home.archive)}
        assert outcomes == {"full.csv": "accepted", "sparse.csv": "unconfirmed"}
        # Confirmed, it replaces the version in use.
        confirmed = client.post(
            f"/unit/{YEAR}/upload",
            {"confirm": "1"},
            files={"file": ("sparse.csv", sparse_csv())},
            csrf_from=f"/unit/{YEAR}",
        )
        assert (
            confirmed.url.endswith(f"/unit/{YEAR}/versions/2") and 'data-outcome="accepted"' in confirmed.text
        )
        assert {r["original_name"]: r["outcome"] for r in read_manifest(p.home.archive)}[
            "sparse.csv"
        ] == "accepted"
        # A full file never asks.
        again = client.upload(YEAR, "full2.csv", to_csv(valid_cells(YEAR, seed=2)))
        assert again.url.endswith("/versions/3")


def test_the_api_requires_confirm_for_a_mostly_empty_replacement(tmp_path):
    home = make_home(tmp_path / "home")
    tokens = issue_tokens(home)

    def post(name: str, data: bytes, **extra) -> requests.Response:
        return requests.post(
            f"{base}/api/v1/submissions",
            headers={"Authorization": f"Bearer {tokens['A']}"},
            data={"year": str(YEAR), **extra},
            files={"file": (name, data)},
            timeout=120,
        )

    with running(create_app(home)) as base:
        assert post("full.csv", to_csv(valid_cells(YEAR, seed=1))).status_code == 201
        refused = post("sparse.csv", sparse_csv())
        assert refused.status_code == 409
        body = refused.json()
        assert body["confirm_required"] is True and body["replaces_version"] == 1
        assert "confirm=1" in body["error"] and body["filled_cells"] < body["filled_cells_before"] / 2
        assert "「三、收到和处理政府信息公开申请情况」" in body["error"]
        accepted = post("sparse.csv", sparse_csv(), confirm="1")
        assert accepted.status_code == 201 and accepted.json()["outcome"] == "accepted"
        assert accepted.json()["version"] == 2


# --- one rule for valid years --------------------------------------------------------


def test_template_check_and_build_refuse_the_same_years(home, tmp_path):
    from schemas.years import last_year

    late = str(last_year() + 1)
    sample = tmp_path / "a.csv"
    sample.write_bytes(to_csv(valid_cells(YEAR, seed=1)))
    lines = set()
    for args in (
        ("template", "--year", late, "--unit", "A", "-o", str(tmp_path / "t.xlsx")),
        ("check", str(sample), "--unit", "A", "--year", late),
        ("build", "--year", late),
    ):
        result = run(*args, "--home", str(home.root))
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result.stderr)
        lines.add(result.stderr.strip())
    assert len(lines) == 1 and "尚未开始" in lines.pop()
    assert not (tmp_path / "t.xlsx").exists()
    # The portal offers no year the commands refuse: a legacy year without its catalogue.
    from datetime import date

    from pipeline.portal.status import report_years
    from pipeline.portal.store import Store

    (home.inbox_dir(2015) / "A").mkdir(parents=True)
    assert 2015 not in report_years(home, Store(home), date(2026, 1, 10))
    assert YEAR in report_years(home, Store(home), date(2026, 1, 10))


def location_partitions(home_root: Path) -> list[str]:
    """The partition keys the UI's code location offers for a home (loaded as Dagster
    loads it: the module, with NIANBAO_HOME set)."""
    import os

    code = (
        "from pipeline.defs.definitions import defs; "
        "print(','.join(defs.resolve_job_def('yearly_report').partitions_def.get_partition_keys()))"
    )
    env = {**os.environ, "NIANBAO_HOME": str(home_root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip().split(",")


def test_the_ui_offers_only_the_years_the_home_can_build(home, tmp_path):
    from schemas.years import last_year

    keys = location_partitions(home.root)
    assert keys[0] == "2019" and keys[-1] == str(last_year()) and "2015" not in keys
    # A legacy catalogue makes its year buildable.
    jianghan = Path(__file__).resolve().parents[1] / "data" / "demo" / "jianghan"
    assert location_partitions(jianghan)[:2] == ["2017", "2019"]
    # A build named by the CLI is checked before it runs, for whichever home it names.
    from pipeline.defs.definitions import build_definitions

    job = build_definitions(str(home.root)).resolve_job_def("yearly_report")
    assert job.partitions_def.get_partition_keys()[0] == "2008"


def test_the_sensor_skips_a_legacy_inbox_without_catalogue(home):
    from pipeline.defs.sensors import evaluate_inbox

    hand_in(home, 2015, "A", "a.csv", b"table,row,column,value\n")
    requests_, _cursor, _why = evaluate_inbox(home, None, now=1e12)
    assert "2015" not in {r.partition_key for r in requests_} and "2025" in {
        r.partition_key for r in requests_
    }


# --- check with another unit, an unknown unit, letter case ---------------------------------


def foreign_csv(unit: str) -> bytes:
    cells = valid_cells(YEAR, seed=1)
    lines = ["table,row,column,value,unit"] + [
        f"{t},{r},{c},{v},{unit}" for (t, r, c), v in cells.items() if t != "narrative"
    ]
    return ("\n".join(lines) + "\n").encode()


def test_check_as_another_unit_gives_one_f8_line(home, tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(foreign_csv("B"))
    result = run("check", str(path), "--unit", "A", "--year", str(YEAR), "--home", str(home.root))
    assert result.returncode == 1
    f8 = [line for line in result.stdout.splitlines() if "【F8】" in line]
    lines = sum(1 for t, _r, _c in valid_cells(YEAR, seed=1) if t != "narrative")
    assert len(f8) == 1 and "“B”" in f8[0] and f"共 {lines} 行" in f8[0]


def test_check_with_an_unknown_unit_offers_the_nearest_and_archives_nothing(tmp_path):
    home = write_home(tmp_path / "home", [("JTJ", "交通运输局"), ("JYJ", "教育局"), ("ZFB", "政府办")])
    path = tmp_path / "a.csv"
    path.write_bytes(to_csv(valid_cells(YEAR, seed=1)))
    result = run("check", str(path), "--unit", "JTX", "--year", str(YEAR), "--home", str(home.root))
    assert result.returncode == 2 and "已存档" not in result.stderr + result.stdout
    assert "不在单位名册中" in result.stderr and "交通运输局（JTJ）" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (home.root / "archive").exists()


def test_unit_codes_are_matched_regardless_of_case(tmp_path):
    home = write_home(tmp_path / "home", [("JTJ", "交通运输局")])
    path = tmp_path / "a.csv"
    path.write_bytes(to_csv(valid_cells(YEAR, seed=1)))
    result = run("check", str(path), "--unit", "jtj", "--year", str(YEAR), "--home", str(home.root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "交通运输局（JTJ）" in result.stdout or "JTJ" in result.stdout or "可以报送" in result.stdout
    out = tmp_path / "t.xlsx"
    made = run("template", "--year", str(YEAR), "--unit", "jtj", "-o", str(out), "--home", str(home.root))
    assert made.returncode == 0
    meta = openpyxl.load_workbook(out)["_nianbao"]
    assert "JTJ" in [c.value for row in meta.iter_rows() for c in row]


# --- a rejected inbox file in the portal -------------------------------------------------


def test_a_unit_sees_why_its_inbox_file_was_rejected(tmp_path):
    from datetime import UTC, datetime

    with portal_running(tmp_path / "home", clock=fixed_clock(datetime(2026, 1, 10, tzinfo=UTC))) as p:
        hand_in(p.home, YEAR, "A", "局里的表.xlsx", plain_workbook())
        build(p.home, YEAR)
        client = p.client("A")
        page = client.get(f"/unit/{YEAR}").text
        assert 'id="build-messages"' in page and "退回原因" in page and 'data-rule="F18"' in page
        assert "局里的表.xlsx" in page
        home_page = client.get("/unit").text
        row = home_page.split(f'data-year="{YEAR}"', 1)[1].split("</tr>", 1)[0]
        assert "局里的表.xlsx" in row and "在用" not in row and "未采用" in row


def test_an_accepted_inbox_file_is_called_in_use(tmp_path):
    from datetime import UTC, datetime

    unit = "B"
    with portal_running(tmp_path / "home", clock=fixed_clock(datetime(2026, 1, 10, tzinfo=UTC))) as p:
        hand_in(p.home, YEAR, unit, "b.csv", to_csv(valid_cells(YEAR, seed=2)))
        build(p.home, YEAR)
        client = p.client(unit)
        row = client.get("/unit").text.split(f'data-year="{YEAR}"', 1)[1].split("</tr>", 1)[0]
        assert "b.csv（在用）" in row
        assert "退回原因" not in client.get(f"/unit/{YEAR}").text


# --- review.html: findings first, no empty columns -----------------------------------------


def test_review_page_puts_findings_first_and_has_no_empty_previous_columns(home):
    build(home, YEAR)  # the home's first year: nothing to compare with
    page = (home.reports_dir(YEAR) / "review.html").read_text(encoding="utf-8")
    order = [
        page.index(f'<section id="{s}">')
        for s in ("checks", "anomalies", "revisions", "yoy", "units", "trends")
    ]
    assert order == sorted(order)
    assert "<th>上年</th>" not in page and "本年 / 上年 / 变化" not in page and "只列本年" in page
    # Short columns never wrap one character a line.
    assert 'th class="code">规则' in page and "white-space: nowrap" in page


# --- PDF and DOCX ----------------------------------------------------------------------------


def pdf_pages(path: Path) -> list[str]:
    import re

    count = int(
        re.search(
            r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
        )[1]
    )
    return [
        subprocess.run(
            ["pdftotext", "-f", str(i), "-l", str(i), str(path), "-"], capture_output=True, text=True
        ).stdout
        for i in range(1, count + 1)
    ]


def test_pdf_gives_table_three_room_and_titles_no_lone_character_and_docx_is_ours(tmp_path):
    import zipfile

    from docx import Document

    # Unit names whose report titles wrap at different places on a 22 pt line.
    names = ["甲乙丙丁戊", "甲乙丙丁戊己", "甲乙丙丁戊己庚"]
    home = write_home(tmp_path / "home", [(f"U{i}", n) for i, n in enumerate(names)])
    for i in range(len(names)):
        hand_in(home, YEAR, f"U{i}", "a.csv", to_csv(valid_cells(YEAR, seed=i)))
    build(home, YEAR, formats=("html", "md", "docx", "pdf"), unit_documents=True)
    publish = home.reports_dir(YEAR) / "publish"
    pages = pdf_pages(publish / "report.pdf")
    assert len([p for p in pages if "申请人情况" in p]) == 2, "表三 fits two pages"
    for i, name in enumerate(names):
        lines = [
            line.strip()
            for line in pdf_pages(publish / "units" / f"U{i}.pdf")[0].splitlines()
            if line.strip()
        ]
        start = next(n for n, line in enumerate(lines) if line.startswith(name))
        title = lines[start : start + 2] if not lines[start].endswith("报告") else lines[start : start + 1]
        assert "".join(title).endswith("年度报告") and all(len(line) > 1 for line in title), title
    data = (publish / "report.docx").read_bytes()
    props = Document(io.BytesIO(data)).core_properties
    assert props.title == "测试区2025年政府信息公开工作年度报告" and props.author == "测试区人民政府办公室"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "docProps/thumbnail.jpeg" not in z.namelist()
        app = z.read("docProps/app.xml").decode()
        assert "Microsoft" not in app and "<Application>nianbao</Application>" in app
        assert "thumbnail" not in z.read("_rels/.rels").decode()
