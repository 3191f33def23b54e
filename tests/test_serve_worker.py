"""The portal's resident rebuild worker (what `nianbao serve` runs), in process:
an accepted upload rebuilds the year's reports at once, the run is recorded in
the home's instance, and the unit's pages say when its figures entered the
district report; a rejected upload rebuilds nothing."""

from __future__ import annotations

from conftest import valid_cells
from hostile.client import Client, issue_tokens, make_home

from pipeline.portal.app import create_app
from pipeline.portal.server import running
from pipeline.synth import to_csv

YEAR = 2025


def test_accepted_upload_is_rebuilt_and_shown_as_in_the_report(tmp_path):
    home = make_home(tmp_path / "home")
    tokens = issue_tokens(home)
    app = create_app(home, rebuild=True)
    worker = app.state.portal.worker
    with running(app) as base:
        client = Client(base)
        client.login(tokens["A"])
        page = client.upload(YEAR, "a.csv", to_csv(valid_cells(YEAR, seed=7)))
        assert 'data-outcome="accepted"' in page.text
        assert worker.wait_idle(YEAR, 180)
        state = worker.snapshot()["years"][str(YEAR)]
        assert state["success"] is True and state["run_id"], state
        assert (home.reports_dir(YEAR) / "report.md").exists()
        again = client.get(f"/unit/{YEAR}/versions/1").text
        assert 'id="in-report"' in again and "计入全区报告" in again

        rejected = client.upload(YEAR, "a.csv", b"not a form\n")
        assert 'data-outcome="rejected"' in rejected.text
        assert worker.snapshot()["years"][str(YEAR)]["run_id"] == state["run_id"]  # no new run

        health = client.get("/health").json()
        assert health["status"] == "ok" and health["checks"]["worker"] == "ok"

    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home.root / "dagster")) as instance:
        run = instance.get_run_by_id(state["run_id"])
        assert run.tags["nianbao/started_by"] == "portal" and run.tags["dagster/partition"] == str(YEAR)


def test_the_district_report_is_written_before_the_insight_and_the_documents(home):
    """An upload's report is on disk as soon as its inputs are: the reports step runs
    first among the steps ready at that point (dagster/priority), right after the last
    of its inputs (the status and the year-over-year table, which it reads)."""
    from conftest import build

    result = build(home, YEAR, ("html", "md", "docx", "pdf"))
    started = [e.step_key for e in result.all_events if e.is_step_start]
    assert started.index("reports") < started.index("insight") < started.index("publication_bundle")
    inputs = max(started.index("submission_status"), started.index("year_over_year"))
    assert started.index("reports") == inputs + 1
