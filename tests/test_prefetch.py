"""The cold CLI build's intake prefetch (pipeline/ops/build.py): it only warms what the
submissions step does, the reports are those of a build without it (or without the
forked pieces of pipeline/forked.py), and it stands aside for another build of the
year and on a single core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import build

from pipeline.ingest.archive import read_manifest
from pipeline.locks import year_lock
from pipeline.ops import build as ops_build

NIANBAO = str(Path(sys.executable).with_name("nianbao"))


def test_last_year_is_the_last_partition():
    from pipeline.defs.partitions import yearly_partitions

    assert ops_build.last_year() == int(yearly_partitions.get_last_partition_key())


def test_a_prefetched_build_writes_what_a_build_without_it_writes(home, tmp_path, monkeypatch):
    """The console script prefetches and forks (pipeline/forked.py) its reports and open
    data; the same build in this process, with neither, writes the same bytes."""
    plain = tmp_path / "plain"
    shutil.copytree(home.root, plain)
    from pipeline import forked
    from pipeline.home import Home

    monkeypatch.setattr(forked, "can_fork", lambda: False)
    build(Home.resolve(plain), 2025)  # in this process: no prefetch, no fork

    result = subprocess.run(
        [NIANBAO, "build", "--year", "2025", "--home", str(home.root), "--formats", "html,md"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "启动时预读：收件箱中有 2 个文件" in result.stderr
    # The step found both files archived and parsed by the child.
    assert "需要解析 0 个新文件或有变化的文件（其余 2 个已有解析结果，直接沿用）" in result.stderr
    rows = read_manifest(home.archive, 2025)
    assert sorted((r["unit"], r["outcome"]) for r in rows) == [("A", "accepted"), ("B", "accepted")]
    out, expected = home.reports_dir(2025), plain / "reports" / "2025"
    names = ["report.md", "report.html", "units/A.md", "units/B.html", "status.csv", "open-data/figures.csv",
             "open-data/figures.json"]  # fmt: skip
    for name in names:
        assert (out / name).read_bytes() == (expected / name).read_bytes(), name


def test_the_prefetch_stands_aside_while_another_build_holds_the_year(home):
    said = []
    with year_lock(home.root, 2025):
        ops_build._prefetch_intake(home, 2025, said.append)
    assert said == [] and not home.archive.exists()
    ops_build._prefetch_intake(home, 2025, said.append)
    assert said[0] == "启动时预读：收件箱中有 2 个文件"
    assert len(read_manifest(home.archive, 2025)) == 2


def test_no_prefetch_on_a_single_core(home, monkeypatch):
    from pipeline import forked

    monkeypatch.setattr(forked.os, "sched_getaffinity", lambda _pid: {0})
    monkeypatch.setattr(ops_build.os, "fork", lambda: (_ for _ in ()).throw(AssertionError("forked")))
    assert ops_build.start_intake_prefetch(home, 2025, print) is None
    ops_build.wait_intake_prefetch(None)
