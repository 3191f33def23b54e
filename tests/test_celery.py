"""Builds through Dagster's celery executor on real servers: a `redis-server` on loopback
(Debian's redis-server, a free port, a temporary directory, nothing saved) and two
`dagster-celery worker` processes configured for it. Each build is compared with the
same home built in process: the same report files, byte for byte, and the same figures."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import QUICK_FORMATS, REPO, build, copy_demo

from pipeline.defs.assets.reports import outputs_run_config

pytestmark = pytest.mark.e2e
REDIS = shutil.which("redis-server")
BIN = Path(sys.executable).parent
WORKERS = ("nianbao-w1", "nianbao-w2")
NIANBAO = str(BIN / "nianbao")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    if REDIS is None:
        pytest.skip("未安装 Redis（Debian 软件包 redis-server），跳过 celery 执行器测试")
    pytest.importorskip("dagster_celery", reason="未安装 dagster-celery（pip install -e '.[celery]'）")
    redis = pytest.importorskip("redis", reason="未安装 redis 客户端（pip install -e '.[celery]'）")
    folder, port = tmp_path_factory.mktemp("redis"), free_port()
    server = subprocess.Popen(
        [REDIS, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder), "--save", "",
         "--appendonly", "no", "--logfile", str(folder / "redis.log")],
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert server.poll() is None and time.monotonic() < deadline, (folder / "redis.log").read_text()
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=30)


class Workers:
    """dagster-celery worker processes for the instance at `instance_dir`, each in its own
    process group (the command starts `celery worker` as its child)."""

    def __init__(self, broker: str, instance_dir: Path, names=WORKERS):
        from pipeline.ops.celery import worker_command, worker_yaml

        config = instance_dir / "celery.yaml"
        config.write_text(worker_yaml(broker), encoding="utf-8")
        env = {**os.environ, "DAGSTER_HOME": str(instance_dir), "PATH": f"{BIN}:{os.environ['PATH']}",
               "PYTHONPATH": str(REPO)}  # fmt: skip
        self.broker, self.names = broker, names
        self.log = open(instance_dir / "workers.log", "wb")  # noqa: SIM115 - closed in stop()
        self.processes = [
            subprocess.Popen(
                worker_command(config, name),
                env=env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            for name in names
        ]

    def wait_ready(self, seconds: float = 120) -> None:
        from celery import Celery

        app = Celery(broker=self.broker)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=1) or []
            if len(replies) >= len(self.names):
                return
            assert all(p.poll() is None for p in self.processes), self.log.name
            time.sleep(0.5)
        raise AssertionError(f"celery workers not ready: {Path(self.log.name).read_text()[-2000:]}")

    def stop(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)  # the group this test started, no other
        for process in self.processes:
            process.wait(timeout=60)
        self.log.close()


# The one thing two builds of the same files may differ in: when each build received
# (archived) a file, shown on the validation page and kept in files.parquet.
RECEIVED = re.compile(r"接收于 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d".encode())


def docx_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def same_outputs(a: Path, b: Path, year: int) -> None:
    """Every report file byte for byte (but the receipt times), every warehouse table equal,
    in the home and in each member district's home of a region."""
    import pandas as pd

    homes = [Path("."), *(p.relative_to(a) for p in sorted((a / "members").glob("*")) if p.is_dir())]
    compared = 0
    for home in homes:
        for kind in ("reports", "warehouse"):
            files_a = sorted(
                p.relative_to(a) for p in (a / home / kind / str(year)).rglob("*") if p.is_file()
            )
            files_b = sorted(
                p.relative_to(b) for p in (b / home / kind / str(year)).rglob("*") if p.is_file()
            )
            assert files_a == files_b
            for path in files_a:
                compared += 1
                if path.suffix == ".docx":  # the same parts; the zip's own member times are the clock's
                    assert docx_parts(a / path) == docx_parts(b / path), path
                    continue
                if path.suffix != ".parquet":
                    text_a, text_b = (RECEIVED.sub(b"", (root / path).read_bytes()) for root in (a, b))
                    assert text_a == text_b, path
                    continue
                frame_a, frame_b = pd.read_parquet(a / path), pd.read_parquet(b / path)
                if path.name == "files.parquet":
                    frame_a, frame_b = (
                        frame_a.drop(columns="received_at"),
                        frame_b.drop(columns="received_at"),
                    )
                assert frame_a.equals(frame_b), path
    assert compared > 20


def test_district_build_through_celery_equals_in_process(broker, tmp_path):
    from dagster import DagsterEventType

    from pipeline.ops.celery import run_through_celery
    from pipeline.ops.instance import ensure_instance, open_instance

    local = copy_demo(tmp_path / "local", "shifanqu", [2025])
    build(local, 2025)
    remote = copy_demo(tmp_path / "remote", "shifanqu", [2025])
    with open_instance(remote) as instance:  # its schema made before the workers open it too
        workers = Workers(broker, ensure_instance(remote))
        try:
            workers.wait_ready()
            result = run_through_celery(
                remote,
                "yearly_report",
                "2025",
                instance,
                broker,
                run_config=outputs_run_config(QUICK_FORMATS),
            )
            assert result.success, result.failures
            events = instance.all_logs(result.run_id, of_type=DagsterEventType.ENGINE_EVENT)
        finally:
            workers.stop()
    in_workers = [e for e in events if "in celery worker" in (e.message or "")]
    assert in_workers  # the steps ran in the workers, not here
    hosts = {e.dagster_event.engine_event_data.metadata["Celery worker"].value for e in in_workers}
    assert {h.split("@")[0] for h in hosts} <= set(WORKERS)
    same_outputs(local.root, remote.root, 2025)


def test_region_of_three_districts_through_celery_equals_in_process(broker, tmp_path):
    """示范市 (two districts the city runs, one that hands in its package): every member
    partition and the region's year through the workers, the same files as `nianbao build`."""
    from pipeline.demo import make_demo_city
    from pipeline.ops.instance import ensure_instance, open_instance
    from pipeline.ops.region import build_region

    local = make_demo_city(tmp_path / "local", 2025)
    built = build_region(local, 2025, formats=QUICK_FORMATS)
    assert built.success, built.failures
    remote = make_demo_city(tmp_path / "remote", 2025)
    with open_instance(remote) as instance:  # its schema made before the workers open it too
        workers = Workers(broker, ensure_instance(remote))
        try:
            workers.wait_ready()
            command = [NIANBAO, "build", "--home", str(remote.root), "--year", "2025", "--formats", "html,md",
                       "--executor", "celery", "--broker", broker]  # fmt: skip
            done = subprocess.run(
                command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}
            )
            runs = instance.get_runs()
        finally:
            workers.stop()
    assert done.returncode == 0, done.stderr
    assert "全域报告已生成" in done.stdout
    assert sorted(r.job_name for r in runs) == ["region_members"] * 3 + ["region_year"]
    assert all(r.status.value == "SUCCESS" for r in runs)
    same_outputs(local.root, remote.root, 2025)


def test_celery_build_without_a_broker_is_one_chinese_line(tmp_path, monkeypatch):
    home = copy_demo(tmp_path / "home", "shifanqu", [2025])
    monkeypatch.delenv("NIANBAO_CELERY_BROKER", raising=False)
    for extra, words in (([], "需要 --broker"), (["--broker", "amqp://x"], "应为 Redis 地址")):
        done = subprocess.run([NIANBAO, "build", "--home", str(home.root), "--year", "2025", "--executor", "celery", *extra],
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 2
        assert words in done.stderr and "Traceback" not in done.stderr


def test_broker_without_dagster_celery_is_one_chinese_line(monkeypatch):
    """A code location told to use celery where dagster-celery is not installed says so in
    one line (the UI shows it as the location's load error), not an ImportError."""
    from pipeline.defs.definitions import BROKER_ENV, location_executor
    from pipeline.home import HomeError

    monkeypatch.setenv(BROKER_ENV, "redis://127.0.0.1:1/0")
    monkeypatch.setitem(sys.modules, "dagster_celery", None)  # as if not installed
    with pytest.raises(HomeError, match=r"nianbao\[celery\]"):
        location_executor()
    monkeypatch.delenv(BROKER_ENV)
    assert location_executor() is None
