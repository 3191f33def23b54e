"""The cluster configurations in deploy/ are valid for the classes that read them
(dagster-k8s's K8sRunLauncher, dagster-celery's worker, Dagster's instance schema), and
their run queue limits are the shipped instance's (pipeline/ops/dagster.yaml)."""

from __future__ import annotations

import shutil

import pytest
import yaml
from conftest import REPO

from pipeline.ops.instance import TEMPLATE

DEPLOY = REPO / "deploy"
ENV = {"NIANBAO_PG_USER": "nianbao", "NIANBAO_PG_PASSWORD": "x", "NIANBAO_PG_HOST": "pg", "NIANBAO_PG_PORT": "5432",
       "NIANBAO_PG_DB": "dagster", "NIANBAO_IMAGE": "registry.example/nianbao:0.1.0",
       "NIANBAO_CELERY_BROKER": "redis://10.0.0.5:6379/0"}  # fmt: skip


def shipped_limits() -> list[dict]:
    return yaml.safe_load(TEMPLATE.read_text())["run_coordinator"]["config"]["tag_concurrency_limits"]


@pytest.fixture
def env(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def test_k8s_instance_is_valid_for_dagster_and_the_k8s_run_launcher(env, tmp_path):
    k8s = pytest.importorskip("dagster_k8s", reason="未安装 dagster-k8s（pip install -e '.[k8s]'）")
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config

    shutil.copy(DEPLOY / "dagster-k8s.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))  # Dagster's own schema for the whole file
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    checked = process_config(k8s.K8sRunLauncher.config_type(), launcher["config"])
    assert checked.success, checked.errors
    assert checked.value["job_image"] == ENV["NIANBAO_IMAGE"]
    assert "NIANBAO_HOME=/srv/nianbao/province" in checked.value["env_vars"]
    mount = checked.value["volume_mounts"][0]
    assert (mount["name"], mount["mount_path"]) == ("nianbao-home", "/srv/nianbao")
    assert config["run_coordinator"]["config"]["tag_concurrency_limits"] == shipped_limits()
    assert "postgres" in config["storage"]


def test_helm_values_carry_the_same_queue_limits_and_data_home():
    values = yaml.safe_load((DEPLOY / "k8s" / "values.yaml").read_text())
    queue = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queue["tagConcurrencyLimits"] == shipped_limits()
    location = values["dagster-user-deployments"]["deployments"][0]
    assert location["dagsterApiGrpcArgs"] == [
        "--module-name",
        "pipeline.defs.definitions",
        "--attribute",
        "defs",
    ]
    assert {"name": "NIANBAO_HOME", "value": "/srv/nianbao/province"} in location["env"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert (
        "NIANBAO_HOME=/srv/nianbao/province" in values["runLauncher"]["config"]["k8sRunLauncher"]["envVars"]
    )


def test_celery_worker_config_is_what_dagster_celery_reads(env):
    pytest.importorskip("dagster_celery", reason="未安装 dagster-celery（pip install -e '.[celery]'）")
    from dagster_celery.cli import get_validated_config

    config = get_validated_config(str(DEPLOY / "celery.yaml"))  # the worker's own loading
    assert config["broker"] == config["backend"] == ENV["NIANBAO_CELERY_BROKER"]
