"""A region home in the real Dagster webserver (issue 18): the code location loads the region's
definitions from NIANBAO_HOME, the UI's API shows the year × district partitions and the
district → region lineage, and a member partition launched there reads that member."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_webserver_e2e import graphql, launch_and_wait, running_webserver

pytestmark = pytest.mark.e2e

NODES = """
{ assetNodes { assetKey { path } dependencyKeys { path }
  partitionKeysByDimension { name partitionKeys } } }
"""


@pytest.fixture
def region_server(tmp_path: Path):
    from pipeline.demo import make_demo_city

    home = make_demo_city(tmp_path, 2025).root
    with running_webserver(tmp_path, home) as port:
        yield port, home


def test_ui_shows_year_by_district_partitions_and_lineage_and_runs_a_member(region_server):
    port, home = region_server
    nodes = {"/".join(n["assetKey"]["path"]): n for n in graphql(port, NODES, {})["assetNodes"]}
    dimensions = {d["name"]: d["partitionKeys"] for d in nodes["member_figures"]["partitionKeysByDimension"]}
    assert set(dimensions["district"]) == {"shifanqu", "xiqu", "beiqu"} and "2025" in dimensions["year"]
    assert ["member_figures"] in [d["path"] for d in nodes["region_figures"]["dependencyKeys"]]
    assert ["region_figures"] in [d["path"] for d in nodes["region_page"]["dependencyKeys"]]

    tags = {
        "dagster/partition": "beiqu|2025",
        "dagster/partition/district": "beiqu",
        "dagster/partition/year": "2025",
    }
    assert launch_and_wait(port, "region_members", tags) == "SUCCESS"
    written = json.loads((home / "warehouse/2025/region/members/beiqu.json").read_text(encoding="utf-8"))
    assert written["state"] == "已报送" and written["source"] == "package"
