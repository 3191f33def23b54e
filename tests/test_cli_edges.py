"""Clean edges of the command line: the home's instance records CLI builds,
unbuildable years get one Chinese line and exit 2, an empty year still builds,
argparse speaks Chinese, outputs follow the umask, builds of a year take turns."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.locks import LockTimeout, year_lock

NIANBAO = str(Path(sys.executable).with_name("nianbao"))


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([NIANBAO, *args], capture_output=True, text=True, timeout=300, **kwargs)


def test_cli_build_is_recorded_in_the_homes_instance(home, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["build", "--year", "2025", "--home", str(home.root)]) == 0
    from dagster import AssetKey, DagsterInstance

    with DagsterInstance.from_config(str(home.root / "dagster")) as instance:
        [run_record] = instance.get_run_records()
        assert run_record.dagster_run.tags["dagster/partition"] == "2025"
        assert run_record.dagster_run.tags["nianbao/started_by"] == "cli"
        assert instance.get_latest_materialization_event(AssetKey("district_report")) is not None


def test_dagster_home_overrides_the_instance_directory(home, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    assert main(["build", "--year", "2025", "--home", str(home.root)]) == 0
    assert (tmp_path / "elsewhere" / "dagster.yaml").exists()
    assert not (home.root / "dagster").exists()


@pytest.mark.parametrize("year, fragment", [("2099", "尚未开始"), ("1999", "早于 2008 年")])
def test_unbuildable_year_is_one_line_and_exit_2(home, year, fragment):
    result = run("build", "--year", year, "--home", str(home.root))
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_legacy_year_without_catalogue_is_one_line_and_exit_2(home):
    result = run("build", "--year", "2015", "--home", str(home.root))
    assert result.returncode == 2 and "catalogue/2015.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unbuildable_year_fails_a_dagster_run_with_the_same_line(home):
    """The UI's runs go through the home resource: the run fails with the Chinese text, no step runs.
    (A legacy year without any catalogue is not even a partition: its catalogue is broken here.)"""
    from dagster import DagsterInstance

    from pipeline.defs.definitions import build_definitions

    (home.root / "catalogue").mkdir()
    (home.root / "catalogue" / "2015.toml").write_text("x = [", encoding="utf-8")
    job = build_definitions(str(home.root)).resolve_job_def("yearly_report")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(partition_key="2015", instance=instance, raise_on_error=False)
    assert not result.success
    texts = [e.message or "" for e in result.all_events] + [
        str(e.event_specific_data) for e in result.all_events if e.is_failure
    ]
    assert any("catalogue/2015.toml" in t for t in texts)
    assert not (home.reports_dir(2015)).exists()


def test_a_year_with_an_empty_inbox_builds_everyone_missing(home):
    assert main(["build", "--year", "2024", "--home", str(home.root)]) == 0
    status = (home.reports_dir(2024) / "status.csv").read_text(encoding="utf-8")
    assert status.count("missing") == 3
    assert (home.reports_dir(2024) / "report.md").exists()


def test_argparse_speaks_chinese():
    result = run("build", "--year", "abc")
    assert result.returncode == 2
    assert (
        result.stderr.startswith("用法：") and "错误" in result.stderr and "不是有效的年度" in result.stderr
    )
    assert "usage" not in result.stderr and "error:" not in result.stderr
    missing = run("build")
    assert "缺少必需的参数：--year" in missing.stderr
    helptext = run("--help").stdout
    assert "显示本帮助并退出" in helptext and "serve" in helptext and "backup" in helptext


def test_outputs_follow_the_umask(home):
    result = run("build", "--year", "2025", "--home", str(home.root), preexec_fn=lambda: os.umask(0o027))
    assert result.returncode == 0, result.stderr
    for path in [home.reports_dir(2025) / "report.html", home.reports_dir(2025) / "report.md"]:
        assert path.stat().st_mode & 0o777 == 0o640, path
    loose = run("build", "--year", "2025", "--home", str(home.root), preexec_fn=lambda: os.umask(0o022))
    assert loose.returncode == 0
    parquet = next(home.warehouse_dir(2025).glob("*.parquet"))
    assert parquet.stat().st_mode & 0o777 == 0o644


def test_year_lock_makes_builds_take_turns(tmp_path):
    order, waited = [], []

    def second():
        with year_lock(tmp_path, 2025, waiting=waited.append):
            order.append("second")

    with year_lock(tmp_path, 2025):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        order.append("first")
        with pytest.raises(LockTimeout), year_lock(tmp_path, 2025, timeout=0.2):
            pass
        with year_lock(tmp_path, 2024, timeout=0.2):  # another year is free
            pass
    thread.join(5)
    assert order == ["first", "second"] and len(waited) == 1
    assert f"进程 {os.getpid()}" in waited[0]


def test_sensor_ignores_inbox_folders_without_a_partition(home):
    from pipeline.defs.sensors import evaluate_inbox

    (home.inbox / "2099" / "A").mkdir(parents=True)
    (home.inbox / "2099" / "A" / "a.csv").write_bytes(b"x")
    requests, _cursor, _why = evaluate_inbox(home, None, time.time() + 3600)
    assert [r.partition_key for r in requests] == ["2025"]


@pytest.mark.parametrize("command", ["build", "check"])
def test_the_console_script_pauses_the_collector_only_while_modules_load(home, tmp_path, command):
    """`run` (the console script) collects again once a command's modules are loaded, with
    the start-up objects frozen out of the collector's walks; `main` in a test process
    leaves the collector alone."""
    args = ["build", "--year", "2025", "--home", str(home.root), "--formats", "md"]
    if command == "check":
        csv = next(home.inbox.rglob("*.csv"))
        args = ["check", str(csv), "--unit", csv.parent.name, "--year", "2025"]
    probe = (
        "import gc, sys\n"
        "from pipeline import cli\n"
        "seen = []\n"
        "real = cli.main\n"
        "def main(argv=None):\n"
        "    code = real(argv)\n"
        "    seen.append((gc.isenabled(), gc.get_freeze_count() > 0))\n"
        "    return code\n"
        "cli.main = main\n"
        f"sys.argv = ['nianbao', *{args!r}]\n"
        "try:\n"
        "    cli.run()\n"
        "except SystemExit as exit:\n"
        "    print(seen, exit.code)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.stdout.strip().endswith("[(True, True)] 0"), result.stderr[-2000:]
    assert gc.isenabled()  # this test process: untouched
