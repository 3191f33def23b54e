"""`nianbao serve` started and stopped by the test: readiness line, health page,
an upload through the API rebuilt at once by the resident worker (the portal
says when the figures entered the district report), the run visible in the
Dagster UI over GraphQL, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import requests
from conftest import copy_demo as copy_demo_home

pytestmark = pytest.mark.e2e
NIANBAO = str(Path(sys.executable).with_name("nianbao"))
RUNS = """
query { runsOrError(limit: 20) { ... on Runs { results { runId status tags { key value } } } } }
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


class Served:
    def __init__(self, home: Path, env: dict[str, str] | None = None, extra: tuple[str, ...] = ()):
        self.home = home
        self.port, self.ui_port = free_port(), free_port()
        self.out = open(home.parent / "serve.out", "w+b")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                NIANBAO,
                "serve",
                "--home",
                str(home),
                "--port",
                str(self.port),
                "--ui-port",
                str(self.ui_port),
                *extra,
            ],  # fmt: skip
            stdout=self.out,
            stderr=subprocess.STDOUT,
            env=env or os.environ.copy(),
        )

    def output(self) -> str:
        return (self.home.parent / "serve.out").read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, seconds: float = 240) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if "nianbao 已就绪" in self.output():
                return
            assert self.process.poll() is None, self.output()
            time.sleep(0.5)
        pytest.fail("serve did not become ready:\n" + self.output())

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.out.close()


def copy_demo(tmp_path: Path) -> Path:
    return copy_demo_home(tmp_path / "shifanqu", "shifanqu", [2025]).root  # the year the tests build


def issue(home: Path, unit: str) -> str:
    out = subprocess.run(
        [NIANBAO, "tokens", "issue", "--home", str(home), "--unit", unit],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip().splitlines()[-1]


def test_serve_reflects_an_upload_in_seconds_and_stops_cleanly(tmp_path):
    home = copy_demo(tmp_path)
    token = issue(home, "FGJ")
    served = Served(home)
    try:
        served.wait_ready()
        base = f"http://127.0.0.1:{served.port}"
        health = requests.get(f"{base}/health", timeout=10).json()
        assert health["status"] == "ok" and health["checks"]["worker"] in ("ok", "starting")

        data = (home / "inbox" / "2025" / "FGJ" / "FGJ-2025.csv").read_bytes()
        auth = {"Authorization": f"Bearer {token}"}
        started = time.monotonic()
        answer = requests.post(
            f"{base}/api/v1/submissions",
            headers=auth,
            data={"year": "2025"},
            files={"file": ("FGJ-2025.csv", data)},
            timeout=120,
        ).json()
        assert answer["outcome"] == "accepted" and answer["rebuild"] == "queued"

        status = {}
        while time.monotonic() - started < 120:
            status = requests.get(
                f"{base}/api/v1/status", params={"year": 2025}, headers=auth, timeout=30
            ).json()
            if status["in_report_at"]:
                break
            time.sleep(0.3)
        assert status["in_report_at"].endswith("+08:00"), status  # Beijing time, as the office reads it
        report = home / "reports" / "2025" / "report.md"
        assert report.exists() and "示范区" in report.read_text(encoding="utf-8")

        # The worker's run is in the home's instance: the Dagster UI lists it.
        # (The district report is in before the run ends: unit reports and the validation page follow.)
        by_portal = []
        while time.monotonic() - started < 180:
            runs = graphql(served.ui_port, RUNS)["runsOrError"]["results"]
            by_portal = [r for r in runs if {"key": "nianbao/started_by", "value": "portal"} in r["tags"]]
            if by_portal and by_portal[0]["status"] not in ("STARTED", "STARTING", "QUEUED"):
                break
            time.sleep(0.5)
        assert by_portal and by_portal[0]["status"] == "SUCCESS", by_portal
        assert {"key": "dagster/partition", "value": "2025"} in by_portal[0]["tags"]
        assert (home / "logs" / "webserver.log").exists() and (home / "logs" / "portal.log").exists()
    finally:
        code = served.stop()
    assert code == 0, served.output()
    assert "已停止" in served.output()
    for port in (served.port, served.ui_port):  # every child is gone: the ports are free again
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))


def test_serve_refuses_a_port_in_use(tmp_path):
    home = copy_demo(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = subprocess.run(
            [NIANBAO, "serve", "--home", str(home), "--port", str(port), "--ui-port", str(free_port())],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert "已被占用" in result.stderr and "Traceback" not in result.stderr


def websocket_handshake(port: int, host: str) -> str:
    """The status line the UI answers a GraphQL WebSocket upgrade with."""
    request = (
        f"GET /graphql HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: graphql-ws\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request.encode())
        return s.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_serve_ui_answers_only_its_host_names_and_a_second_serve_names_the_first(tmp_path):
    """E19: a page the office opens cannot reach the UI by DNS rebinding (its Host
    is foreign: 400, GraphQL POSTs and WebSockets too); a second serve of the same
    home refuses, naming the first's process and ports."""
    home = copy_demo(tmp_path)
    served = Served(home, extra=("--allowed-host", "dagster.example.gov.cn"))
    try:
        served.wait_ready()
        ui = f"http://127.0.0.1:{served.ui_port}"
        query = {"query": "{ version }"}
        for host in (
            "rebind.attacker.example",
            f"rebind.attacker.example:{served.ui_port}",
            "127.0.0.1.nip.io",
        ):
            refused = requests.post(f"{ui}/graphql", json=query, headers={"Host": host}, timeout=30)
            assert refused.status_code == 400, host
            assert "Host 不在允许列表中" in refused.text
        assert (
            requests.get(f"{ui}/server_info", headers={"Host": "evil.example"}, timeout=30).status_code == 400
        )
        for host in (f"127.0.0.1:{served.ui_port}", f"localhost:{served.ui_port}", "dagster.example.gov.cn"):
            answer = requests.post(f"{ui}/graphql", json=query, headers={"Host": host}, timeout=30)
            assert answer.status_code == 200 and answer.json()["data"]["version"], host
        assert " 403 " in websocket_handshake(served.ui_port, "rebind.attacker.example")
        assert " 101 " in websocket_handshake(served.ui_port, f"localhost:{served.ui_port}")

        second = subprocess.run(
            [
                NIANBAO,
                "serve",
                "--home",
                str(home),
                "--port",
                str(free_port()),
                "--ui-port",
                str(free_port()),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2, second.stderr
        assert "已有一个 nianbao serve 在运行" in second.stderr and "Traceback" not in second.stderr
        for fact in (f"进程 {served.process.pid}", f":{served.port}", f":{served.ui_port}", "北京时间"):
            assert fact in second.stderr, (fact, second.stderr)
    finally:
        code = served.stop()
    assert code == 0, served.output()


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:3000", "127.0.0.1"),
        ("LocalHost", "localhost"),
        ("[::1]:3000", "::1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("dagster.example.gov.cn:443", "dagster.example.gov.cn"),
        ("", ""),
        ("[::1", ""),
    ],
)
def test_host_names_are_read_without_port_or_brackets(header, name):
    from pipeline.ops.ui import allowed_hosts, host_name

    assert host_name(header) == name
    assert "" not in {host_name(h) for h in allowed_hosts("0.0.0.0", [])}  # a missing Host is never allowed
