"""The portal end to end in a real browser: headless Chromium (Debian package
`chromium`) driven by Playwright. A clerk signs in, downloads the template,
uploads a wrong file and sees the message at the right cell, uploads the fixed
file and sees it accepted; a second unit cannot open the first unit's pages or
files; the office view lists the missing unit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import xlsx_fixtures
from conftest import valid_cells
from hostile.client import YEAR, fixed_clock, portal_running
from hostile.corpus import typed

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is not installed (apt-get install -y chromium); CI installs it",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")


@pytest.fixture
def portal(tmp_path):
    from datetime import UTC, datetime

    with portal_running(tmp_path / "home", clock=fixed_clock(datetime(2026, 1, 10, 2, tzinfo=UTC))) as p:
        yield p


@pytest.fixture
def browser(tmp_path):
    """A fresh Chromium per test, each with an empty profile, closed at the end."""
    contexts = []
    with sync_api.sync_playwright() as pw:

        def new_context():
            profile = tmp_path / f"profile{len(contexts)}"
            profile.mkdir()
            context = pw.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(CHROMIUM),
                headless=True,
                args=ARGS,
                accept_downloads=True,
                locale="zh-CN",
            )
            context.set_default_timeout(30_000)
            contexts.append(context)
            return context

        yield new_context
        for context in contexts:
            context.close()
    shutil.rmtree(tmp_path, ignore_errors=True)


def sign_in(context, base: str, token: str):
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(base + "/")
    assert page.url.endswith("/login")
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("button[type=submit]:has-text('登录')")
    assert not page.url.endswith("/login"), page.content()
    assert token not in page.url
    return page


def test_a_clerk_hands_in_through_the_browser(portal, browser, tmp_path):
    base = portal.base
    clerk = sign_in(browser(), base, portal.tokens["A"])
    assert clerk.url.endswith("/unit")
    assert "甲局（A）" in clerk.inner_text("header")
    clerk.click(f"a[href='/unit/{YEAR}']")
    assert clerk.url.endswith(f"/unit/{YEAR}")

    # Download the template.
    with clerk.expect_download() as info:
        clerk.click("#template-link")
    template = tmp_path / "template.xlsx"
    info.value.save_as(template)
    assert info.value.suggested_filename.endswith(".xlsx")

    # Fill it with one wrong cell and upload it.
    cells = typed(valid_cells(YEAR, seed=11))
    cells[("proactive", "penalty", "decisions")] = "约十件"
    where = xlsx_fixtures.fill(template, tmp_path / "甲局年报.xlsx", cells)
    sheet, address = where[("proactive", "penalty", "decisions")]
    clerk.set_input_files("#file", str(tmp_path / "甲局年报.xlsx"))
    clerk.click("#upload-form button[type=submit]")
    clerk.wait_for_url(f"**/unit/{YEAR}/versions/1")
    assert "已退回" in clerk.inner_text("h1")
    cell = clerk.locator("#cell-proactive-penalty-decisions")
    message = cell.locator(".msg[data-rule='N5']")
    assert message.is_visible()
    assert "约十件" in message.inner_text() and f"{sheet}!{address}" in cell.inner_text()
    # The message is drawn at the cell itself, in the row of 行政处罚.
    cell_box, row_label = cell.bounding_box(), clerk.locator("th[title='行政处罚']").bounding_box()
    message_box = message.bounding_box()
    assert cell_box["y"] <= message_box["y"] < cell_box["y"] + cell_box["height"]
    assert abs(cell_box["y"] - row_label["y"]) < 2

    # Fix the cell and upload again: accepted, and now the version in use.
    cells[("proactive", "penalty", "decisions")] = 7
    xlsx_fixtures.fill(template, tmp_path / "甲局年报.xlsx", cells)
    clerk.click(f"a[href='/unit/{YEAR}']")
    clerk.set_input_files("#file", str(tmp_path / "甲局年报.xlsx"))
    clerk.click("#upload-form button[type=submit]")
    clerk.wait_for_url(f"**/unit/{YEAR}/versions/2")
    assert "已采用" in clerk.inner_text("h1")
    assert clerk.locator("#in-use-note").is_visible()
    clerk.click(f"a[href='/unit/{YEAR}']")
    assert "在用版本：第 2 版" in clerk.inner_text("#in-use")
    assert clerk.locator("#history tr[data-version]").count() == 2

    # A second unit cannot open the first unit's pages or files.
    other = sign_in(browser(), base, portal.tokens["B"])
    for path in (f"/unit/{YEAR}/versions/1", f"/unit/{YEAR}/versions/2/file", f"/office/{YEAR}/units/A"):
        response = other.goto(base + path)
        assert response.status in (403, 404), path
        assert "甲局年报" not in other.content()
    other.goto(base + f"/unit/{YEAR}")
    assert "甲局年报" not in other.content()

    # The office sees A accepted and C missing, and downloads the list of missing units.
    office = sign_in(browser(), base, portal.tokens["office"])
    assert office.url.endswith("/office")
    assert office.locator("tr[data-unit='A'] [data-state]").first.get_attribute("data-state") == "accepted"
    assert office.locator("tr[data-unit='C'] [data-state]").first.get_attribute("data-state") == "missing"
    with office.expect_download() as info:
        office.click(f"#missing-{YEAR}")
    missing = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    assert "丙街道" in missing and "乙局" in missing and "甲局" not in missing


def test_the_office_matrix_fits_a_1240_pixel_window(tmp_path, browser):
    """Seven years of 20 units with long names: no horizontal scrolling at 1240 px."""
    from datetime import UTC, datetime

    from conftest import write_home
    from hostile.client import issue_tokens

    from pipeline.portal.app import create_app
    from pipeline.portal.server import running

    units = [(f"U{i:02d}", f"示范区科技和经济信息化局第{i}分局") for i in range(20)]
    home = write_home(tmp_path / "home", units, first_year=2019)
    for year in range(2019, 2026):
        (home.inbox_dir(year) / "U00").mkdir(parents=True)
    tokens = issue_tokens(home)
    app = create_app(home, clock=fixed_clock(datetime(2026, 3, 1, tzinfo=UTC)))  # every year overdue
    with running(app) as base:
        context = browser()
        page = context.pages[0] if context.pages else context.new_page()
        page.set_viewport_size({"width": 1240, "height": 900})
        page = sign_in(context, base, tokens["office"])
        assert page.url.endswith("/office") and page.locator("#matrix th").count() >= 8
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the matrix is {overflow} px wider than the window"
