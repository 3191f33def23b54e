"""The writer registry routes (issue 19, item 3): a writer registered in
pipeline/render/writers.py is written by a build where its flags say — a quick output
beside report.html and each unit's page, a publication document in publish/ — and a
document is what the portal offers a unit to download. No list elsewhere names them."""

from __future__ import annotations

import pytest
from conftest import build, hand_in, valid_cells
from hostile.client import portal_running

from pipeline.render.model import ReportView
from pipeline.render.writers import WRITERS, RenderContext, Writer, register
from pipeline.synth import to_csv

YEAR = 2025


def note(view: ReportView, ctx: RenderContext) -> bytes:
    """A quick output: the report's title and year, one line."""
    return f"{view.title}|{view.year}|{ctx.fmt.code}\n".encode()


def card(view: ReportView, ctx: RenderContext) -> bytes:
    """A publication document: the report's title and its sections' headings."""
    return ("\n".join([view.title, *(s.heading for s in view.sections)]) + "\n").encode()


@pytest.fixture
def dummy_writers():
    added = [
        register(Writer("note", ".note.txt", note, media_type="text/plain")),
        register(Writer("card", ".card", card, document=True, media_type="text/x-card", label="卡片")),
    ]
    try:
        yield added
    finally:
        for writer in added:
            WRITERS.pop(writer.name, None)


def test_a_registered_writer_is_built_and_served(tmp_path, dummy_writers):
    with portal_running(tmp_path / "home") as portal:
        home = portal.home
        hand_in(home, YEAR, "A", "a.csv", to_csv(valid_cells(YEAR, seed=1)))
        build(home, YEAR, ("html", "md", "note", "card"))
        out = home.reports_dir(YEAR)
        district = (out / "report.note.txt").read_text(encoding="utf-8")
        assert district.startswith("测试区") and f"|{YEAR}|" in district
        assert (out / "units" / "A.note.txt").read_text(encoding="utf-8").startswith("甲局")
        assert (out / "publish" / "report.card").read_text(encoding="utf-8").startswith("测试区")
        # A quick output is not in the bundle; a unit's document is made when downloaded.
        assert not (out / "publish" / "report.note.txt").exists()
        assert not (out / "publish" / "units" / "A.card").exists()

        client = portal.client("A")
        assert "下载卡片" in client.get(f"/unit/{YEAR}").text
        served = client.get(f"/unit/{YEAR}/report.card")
        assert served.status_code == 200 and served.headers["content-type"].startswith("text/x-card")
        assert served.content == (out / "publish" / "units" / "A.card").read_bytes()
        assert served.content.decode("utf-8").startswith("甲局")
        assert ".card" in served.headers["content-disposition"]
        # A quick output is not a download.
        assert client.get(f"/unit/{YEAR}/report.note").status_code == 404


def test_every_registered_writer_runs_by_default(tmp_path, dummy_writers):
    from conftest import write_home

    home = write_home(tmp_path / "home", [("A", "甲局")])
    hand_in(home, YEAR, "A", "a.csv", to_csv(valid_cells(YEAR, seed=1)))
    build(home, YEAR, None)  # no --formats: every writer, the registered ones too
    out = home.reports_dir(YEAR)
    assert (out / "report.note.txt").is_file() and (out / "publish" / "report.card").is_file()
    assert (out / "publish" / "report.docx").is_file() and (out / "publish" / "report.pdf").is_file()
