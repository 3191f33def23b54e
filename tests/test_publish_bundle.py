"""The publication bundle through the real job: reports/<year>/publish/ with the
district's and each unit's HTML, DOCX and PDF; byte-identical across two homes;
draft marks until the publication record is filled; only changed units'
documents rewritten; the `--formats` and `--unit-documents` options; a unit's
documents made on demand (the portal's unit downloads); one time format; the
units left out listed in the validation report."""

from __future__ import annotations

import io
import re
import shutil

import pytest
from conftest import build, hand_in, valid_cells, write_home
from docx import Document

from pipeline.render.writers import WRITERS, parse_formats
from pipeline.synth import to_csv

YEAR = 2025
ALL = tuple(WRITERS)
RECORD = '\n[publication.2025]\nnumber = "测政办〔2026〕3号"\ndate = "2026-03-20"\nvalidity = "有效"\n'

needs_fonts = pytest.mark.skipif(
    not shutil.which("pdftotext"), reason="未安装 poppler-utils（apt-get install -y poppler-utils）"
)


def small_home(root, *, record: bool = False):
    home = write_home(root, [("A", "甲局"), ("B", "乙局"), ("C", "丙街道")])
    if record:
        with open(home.root / "home.toml", "a", encoding="utf-8") as f:
            f.write(RECORD)
    hand_in(home, YEAR, "A", "a.csv", to_csv(valid_cells(YEAR, seed=1)))
    hand_in(home, YEAR, "B", "b.csv", to_csv(valid_cells(YEAR, seed=2)))
    return home


def bundle_files(home) -> dict[str, bytes]:
    folder = home.reports_dir(YEAR) / "publish"
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def rewritten(result) -> set[str]:
    [event] = result.asset_materializations_for_node("publication_bundle")
    return {p.split("/publish/", 1)[1] for p in event.metadata["rewritten"].value}


def pdf_text(data: bytes, tmp_path) -> str:
    import subprocess

    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def two_homes(tmp_path_factory):
    """Two homes with the same inputs, each built once, and each bundle as its build left it:
    later tests change these homes, so a comparison of the two builds must not depend on
    running before them."""
    first = small_home(tmp_path_factory.mktemp("one") / "home")
    second = small_home(tmp_path_factory.mktemp("two") / "elsewhere")
    built = []
    for home in (first, second):
        build(home, YEAR, ALL, unit_documents=True)
        built.append(bundle_files(home))
    return first, second, tuple(built)


def test_bundle_holds_each_report_as_html_docx_pdf(two_homes):
    first, _, _ = two_homes
    assert sorted(bundle_files(first)) == [
        "report.docx", "report.html", "report.pdf",
        "units/A.docx", "units/A.html", "units/A.pdf", "units/B.docx", "units/B.html", "units/B.pdf",
    ]  # fmt: skip
    # The bundle's page is the report page: self-contained (no external stylesheet or script).
    html = bundle_files(first)["report.html"].decode()
    assert html == (first.reports_dir(YEAR) / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<(link|script|img)\b", html)
    assert '<th scope="col">' in html and '<th scope="row" class="label">' in html


def test_documents_are_byte_identical_across_two_homes(two_homes):
    _, _, (a, b) = two_homes
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], (
            f"{name} differs between two builds of the same inputs: {_first_difference(a[name], b[name])}"
        )


def _first_difference(one: bytes, two: bytes) -> str:
    """Where two outputs part, with the bytes around it (what varies tells the cause)."""
    at = next((i for i, (x, y) in enumerate(zip(one, two)) if x != y), min(len(one), len(two)))
    return f"at byte {at} of {len(one)}/{len(two)}: {one[max(0, at - 40) : at + 40]!r} vs {two[max(0, at - 40) : at + 40]!r}"


@needs_fonts
def test_draft_marks_until_the_record_is_filled_then_gone(two_homes, tmp_path):
    home, _, _ = two_homes
    files = bundle_files(home)
    doc = Document(io.BytesIO(files["report.docx"]))
    assert doc.sections[0].header.paragraphs[0].text == "征求意见稿"
    assert "征求意见稿" in pdf_text(files["report.pdf"], tmp_path)
    assert "征求意见稿" in pdf_text(files["units/A.pdf"], tmp_path)
    md = (home.reports_dir(YEAR) / "report.md").read_text(encoding="utf-8")
    assert "**（征求意见稿）**" in md and "| 文号 |" not in md and "| 有效性 |" not in md
    assert 'class="draft-mark"' in files["report.html"].decode()

    with open(home.root / "home.toml", "a", encoding="utf-8") as f:
        f.write(RECORD)
    try:
        result = build(home, YEAR, ALL, unit_documents=True)
        files = bundle_files(home)
        # Every document changes with the record (the marks go), so every one is rewritten.
        assert rewritten(result) == set(files)
        doc = Document(io.BytesIO(files["report.docx"]))
        assert doc.sections[0].header.paragraphs[0].text == ""
        texts = [p.text for p in doc.paragraphs]
        assert "测政办〔2026〕3号" in texts and "2026年3月20日" in texts
        assert doc.core_properties.created.date().isoformat() == "2026-03-20"
        for name in ("report.pdf", "units/A.pdf"):
            assert "征求意见稿" not in pdf_text(files[name], tmp_path)
        md = (home.reports_dir(YEAR) / "report.md").read_text(encoding="utf-8")
        assert "征求意见稿" not in md and "| 文号 | 测政办〔2026〕3号 | 发文日期 | 2026-03-20 |" in md
    finally:
        text = (home.root / "home.toml").read_text(encoding="utf-8").replace(RECORD, "")
        (home.root / "home.toml").write_text(text, encoding="utf-8")
        build(home, YEAR, ALL, unit_documents=True)


def test_only_a_changed_units_documents_and_the_districts_are_rewritten(two_homes):
    _, home, _ = two_homes
    assert rewritten(build(home, YEAR, ALL, unit_documents=True)) == set()  # nothing changed: nothing written
    stamps = {p: p.stat().st_mtime_ns for p in (home.reports_dir(YEAR) / "publish").rglob("B.*")}
    hand_in(home, YEAR, "A", "a.csv", to_csv(valid_cells(YEAR, seed=7)))
    assert rewritten(build(home, YEAR, ALL, unit_documents=True)) == {
        "report.html", "report.docx", "report.pdf", "units/A.html", "units/A.docx", "units/A.pdf",
    }  # fmt: skip
    assert stamps == {p: p.stat().st_mtime_ns for p in stamps}


def test_a_build_writes_the_districts_documents_and_only_the_units_pages(two_homes, tmp_path, capsys):
    from pipeline.cli import main

    home = small_home(tmp_path / "home")
    assert main(["build", "--home", str(home.root), "--year", str(YEAR)]) == 0
    assert "--unit-documents" in capsys.readouterr().out
    files = bundle_files(home)
    assert sorted(files) == ["report.docx", "report.html", "report.pdf", "units/A.html", "units/B.html"]
    # The district's documents are those of a build that writes every unit's too.
    first = bundle_files(two_homes[0])
    for name in ("report.docx", "report.pdf", "report.html"):
        assert files[name] == first[name], name


def test_a_units_documents_are_made_on_demand_and_kept_while_current(two_homes, tmp_path):
    from pipeline.locks import LockTimeout, year_lock
    from pipeline.render.on_demand import unit_document

    home = small_home(tmp_path / "home")
    build(home, YEAR, ALL)
    units = home.reports_dir(YEAR) / "publish" / "units"
    assert not (units / "A.pdf").exists()
    pdf = unit_document(home, YEAR, "A", "pdf")
    assert pdf == units / "A.pdf"
    # The same bytes a build with --unit-documents writes (the first home has the same inputs).
    assert pdf.read_bytes() == bundle_files(two_homes[0])["units/A.pdf"]
    stamp = pdf.stat().st_mtime_ns
    assert unit_document(home, YEAR, "A", "pdf") == pdf and pdf.stat().st_mtime_ns == stamp  # cached
    assert unit_document(home, YEAR, "C", "pdf") is None  # C handed nothing in: no report
    # A build keeps the current document it did not write, and writes only the others.
    assert rewritten(build(home, YEAR, ALL, unit_documents=True)) == {
        "units/A.docx",
        "units/B.docx",
        "units/B.pdf",
    }
    assert pdf.stat().st_mtime_ns == stamp
    # A's report changes: the next build drops its outdated documents; a download makes new ones.
    old = pdf.read_bytes()
    hand_in(home, YEAR, "A", "a.csv", to_csv(valid_cells(YEAR, seed=9)))
    build(home, YEAR, ALL)
    assert not (units / "A.pdf").exists() and not (units / "A.docx").exists()
    assert (units / "B.pdf").is_file()  # B's report is unchanged: its documents stay
    assert unit_document(home, YEAR, "A", "pdf").read_bytes() != old
    # A build of the year holds its lock: a download waits for it, then says so.
    with year_lock(home.root, YEAR), pytest.raises(LockTimeout):
        unit_document(home, YEAR, "B", "docx", wait=0.2)


def test_the_warehouse_has_a_section_per_section_asset():
    from pipeline.defs.assets.sections import SECTION_ASSETS
    from pipeline.warehouse import SECTIONS

    assert tuple(SECTION_ASSETS) == SECTIONS


def test_units_left_out_go_to_the_validation_report_unless_home_asks(tmp_path):
    home = small_home(tmp_path / "home")
    build(home, YEAR)
    md = (home.reports_dir(YEAR) / "report.md").read_text(encoding="utf-8")
    assert "附：单位报送情况" not in md
    validation = (home.reports_dir(YEAR) / "validation.html").read_text(encoding="utf-8")
    assert "未报送 1 个：丙街道" in validation
    assert re.search(r"接收于 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d（北京时间）", validation)
    with open(home.root / "home.toml", "a", encoding="utf-8") as f:
        f.write("\n[publish]\ncoverage = true\n")
    build(home, YEAR)
    md = (home.reports_dir(YEAR) / "report.md").read_text(encoding="utf-8")
    assert "## 附：单位报送情况" in md and "未报送 1 个：丙街道" in md


def test_formats_option_skips_the_slow_writers(tmp_path, capsys):
    from pipeline.cli import main

    home = small_home(tmp_path / "home")
    assert main(["build", "--home", str(home.root), "--year", str(YEAR), "--formats", "html,md"]) == 0
    out = capsys.readouterr().out
    assert sorted(bundle_files(home)) == ["report.html", "units/A.html", "units/B.html"]
    assert str(home.reports_dir(YEAR) / "publish" / "report.html") in out and ".docx" not in out
    assert main(["build", "--home", str(home.root), "--year", str(YEAR), "--formats", "html,odt"]) == 2
    assert "未知的输出格式：odt" in capsys.readouterr().err
    assert parse_formats(None) == ("html", "md", "docx", "pdf")
    assert parse_formats(" PDF, md ,pdf") == ("pdf", "md")


def test_status_csv_keeps_its_columns_and_adds_name_and_chinese_status(tmp_path):
    home = small_home(tmp_path / "home")
    build(home, YEAR)
    data = (home.reports_dir(YEAR) / "status.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "a UTF-8 BOM, so Excel reads the Chinese columns right"
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "unit,status,errors,warnings,name,status_text"
    assert "C,missing,0,0,丙街道,未报送" in lines


def test_one_time_format_with_the_zone_named():
    from pipeline.portal.status import local_time
    from pipeline.render.times import beijing_time

    assert beijing_time("2026-01-15T01:30:12+00:00") == "2026-01-15 09:30:12（北京时间）"
    assert beijing_time("2026-01-15T01:30:12") == "2026-01-15 09:30:12（北京时间）"  # naive: UTC
    assert beijing_time("") == ""
    assert local_time("2026-01-15T01:30:12+00:00") == beijing_time("2026-01-15T01:30:12+00:00")


def test_tokens_list_prints_beijing_time(tmp_path, capsys):
    from pipeline.cli import main

    home = write_home(tmp_path / "home", [("A", "甲局")])
    assert main(["tokens", "issue", "--unit", "A", "--home", str(home.root)]) == 0
    capsys.readouterr()
    assert main(["tokens", "list", "--home", str(home.root)]) == 0
    assert re.search(r"\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d（北京时间）\t从未\t有效", capsys.readouterr().out)


def test_portal_offers_a_unit_its_documents_once_built(tmp_path):
    from hostile.client import portal_running

    with portal_running(tmp_path / "home") as portal:
        client = portal.client("A")
        assert client.get(f"/unit/{YEAR}/report.docx").status_code == 404
        assert "下载Word" not in client.get(f"/unit/{YEAR}").text
        response = client.upload(YEAR, "a.csv", to_csv(valid_cells(YEAR, seed=1)))
        # The version view lays the form out as the report does: group rows and column groups merged.
        page = response.text
        assert re.search(
            r'<th scope="rowgroup"[^>]* rowspan="\d+" class="label">三、本年度办理结果</th>', page
        )
        assert re.search(r'<th scope="colgroup" colspan="5">法人或其他组织</th>', page)
        assert "（三）不予公开" in page and "（六）其他处理" in page
        build(portal.home, YEAR, ("html", "docx", "pdf"))
        assert "下载Word" in client.get(f"/unit/{YEAR}").text
        # Made on the first download, not by the build.
        assert not (portal.home.reports_dir(YEAR) / "publish" / "units" / "A.docx").exists()
        docx = client.get(f"/unit/{YEAR}/report.docx")
        assert docx.status_code == 200 and docx.content[:2] == b"PK"
        assert "wordprocessingml" in docx.headers["content-type"]
        assert client.get(f"/unit/{YEAR}/report.pdf").content[:5] == b"%PDF-"
        assert client.get(f"/unit/{YEAR}/report.odt").status_code == 404
        # A unit gets its own report only: B's file is never served to A.
        assert (
            client.get(f"/unit/{YEAR}/report.pdf").content
            == (portal.home.reports_dir(YEAR) / "publish" / "units" / "A.pdf").read_bytes()
        )


def test_a_quick_build_keeps_current_documents_and_drops_outdated_ones(tmp_path):
    home = small_home(tmp_path / "home")
    build(home, YEAR, ALL, unit_documents=True)
    before = bundle_files(home)
    result = build(home, YEAR, ("html", "md"))
    assert rewritten(result) == set() and bundle_files(home) == before  # nothing changed: all kept
    hand_in(home, YEAR, "A", "a.csv", to_csv(valid_cells(YEAR, seed=9)))
    build(home, YEAR, ("html", "md"))
    # A's report and the district's changed: their documents are gone rather than outdated.
    assert sorted(bundle_files(home)) == [
        "report.html", "units/A.html", "units/B.docx", "units/B.html", "units/B.pdf",
    ]  # fmt: skip
    assert rewritten(build(home, YEAR, ALL, unit_documents=True)) == {
        "report.docx", "report.pdf", "units/A.docx", "units/A.pdf",
    }  # fmt: skip


def test_the_bundles_unit_pages_are_the_reports_pages_linked_not_rendered_again(tmp_path):
    home = small_home(tmp_path / "home")
    build(home, YEAR, ("html", "md"))
    out = home.reports_dir(YEAR)
    for code in ("A", "B"):
        page, published = out / "units" / f"{code}.html", out / "publish" / "units" / f"{code}.html"
        assert published.read_bytes() == page.read_bytes()
        assert published.stat().st_ino == page.stat().st_ino  # one file, two names
    hand_in(home, YEAR, "A", "a.csv", to_csv(valid_cells(YEAR, seed=9)))
    build(home, YEAR, ("html", "md"))
    # A's page was replaced (a new file by rename): the bundle follows it; B's is untouched.
    a, published_a = out / "units" / "A.html", out / "publish" / "units" / "A.html"
    assert published_a.read_bytes() == a.read_bytes() and published_a.stat().st_ino == a.stat().st_ino
