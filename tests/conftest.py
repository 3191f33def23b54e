"""Shared fixtures: a throwaway data home, submissions written as CSV, a build."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from pipeline.home import Home
from pipeline.synth import UnitHistory, submission, to_csv
from schemas import format_for_year

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"


def write_home(root: Path, units: list[tuple[str, str]], *, first_year: int = 2020) -> Home:
    (root / "registry").mkdir(parents=True, exist_ok=True)
    (root / "home.toml").write_text(
        'district = "测试区"\ngovernment = "测试区人民政府办公室"\n', encoding="utf-8"
    )
    lines = ["code,name,kind,first_year,last_year"] + [f"{c},{n},部门,{first_year}," for c, n in units]
    (root / "registry" / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Home.resolve(root)


def copy_demo(target: Path, name: str, years) -> Home:
    """A copy of demo district `name` at `target` with the inbox and texts of `years` only:
    a build of one year stops when an earlier year has submissions but was not built
    (pipeline/warehouse.py), so a test building a year alone keeps no earlier years."""
    import shutil

    from pipeline.demo import DEMO_SOURCE

    kept = {str(y) for y in years}

    def ignore(folder: str, names: list[str]) -> list[str]:
        dated = Path(folder).name in ("inbox", "texts")
        return [n for n in names if n.endswith(".py") or n == "__pycache__" or (dated and n not in kept)]

    shutil.copytree(DEMO_SOURCE / name, target, ignore=ignore)
    return Home.resolve(target)


def hand_in(home: Home, year: int, unit: str, name: str, data: bytes) -> Path:
    path = home.inbox_dir(year) / unit / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def valid_cells(year: int, seed: int = 0, history: UnitHistory | None = None) -> dict:
    return submission(format_for_year(year), "测试单位", year, random.Random(seed), history or UnitHistory())


def cells_frame(cells: dict, unit: str = "U1", year: int = 2025):
    """{(table, row, column): value} -> the cell frame check_cells takes, one CSV line per cell."""
    import pandas as pd

    return pd.DataFrame(
        [
            dict(
                unit=unit,
                year=year,
                table=t,
                row=r,
                column=c,
                raw=v,
                file="u.csv",
                sheet="",
                location=f"第 {i} 行",
            )
            for i, ((t, r, c), v) in enumerate(cells.items(), 2)
        ]
    )


# Most tests need the reports, not the slow DOCX/PDF writers (tests/test_publish_*.py run those).
QUICK_FORMATS = ("html", "md")


def build(home: Home, year: int, formats=QUICK_FORMATS, *, unit_documents: bool = False):
    """Materialize the year through the real job, in process, on an ephemeral instance.
    `unit_documents`: every unit's DOCX/PDF too (`nianbao build --unit-documents`)."""
    from dagster import DagsterInstance

    from pipeline.defs.assets.reports import outputs_run_config
    from pipeline.defs.definitions import build_definitions

    defs = build_definitions(str(home.root))  # the home as a resource value, not the environment
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("yearly_report").execute_in_process(
            partition_key=str(year),
            instance=instance,
            raise_on_error=True,
            run_config=outputs_run_config(formats, unit_documents),
        )
    assert result.success
    return result


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """Three units; A and B hand in valid 2025 files, C hands in nothing."""
    h = write_home(tmp_path / "home", [("A", "甲局"), ("B", "乙局"), ("C", "丙街道")])
    hand_in(h, 2025, "A", "a.csv", to_csv(valid_cells(2025, seed=1)))
    hand_in(h, 2025, "B", "b.csv", to_csv(valid_cells(2025, seed=2)))
    return h


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory):
    """A demo district of data/demo/ built once per test session (per xdist worker), shared
    by the modules that read it: built_demo("shifanqu") copies the district and builds every
    year it has files for, oldest first; built_demo("shifanqu", [2024]) builds only those.
    Returns (home, {year: the build's result}). A test that changes the home puts it back in
    a `finally`, or works on a copy of the district instead."""
    built: dict[tuple, tuple[Home, dict]] = {}

    def get(district: str, years: list[int] | None = None) -> tuple[Home, dict]:
        key = (district, tuple(years) if years else None)
        if key not in built:
            root = tmp_path_factory.mktemp(f"demo-{district}") / district
            if years:  # only those years' inputs: a year built alone must have no unbuilt last year
                home = copy_demo(root, district, years)
            else:
                shutil.copytree(DEMO / district, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
                home = Home.resolve(root)
            chosen = years or sorted(int(p.name) for p in home.inbox.iterdir() if p.name.isdigit())
            built[key] = home, {year: build(home, year) for year in chosen}
        return built[key]

    return get


# `make test` runs the suite on every core (pytest-xdist, --dist loadfile): a file's tests
# go to one worker together, so its module fixtures are built once. Here the files that read
# the shared demo builds (built_demo) also go to one worker, so each is built once. (Not
# xdist_group marks: --dist loadgroup ignores them with pytest 9.2, pytest-xdist issue 1386.)
DEMO_READERS = {
    "test_insight_outputs", "test_publish_docx", "test_publish_pdf",
    "test_jianghan_golden", "test_jianghan_warnings", "test_pipeline",
}  # fmt: skip


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class DemoReadersTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "demo readers" if Path(path).stem in DEMO_READERS else path

    return DemoReadersTogether(config, log)
