"""`nianbao serve`: the office's whole system on one machine, supervised.

Three child processes share the home's Dagster instance (<home>/dagster, or
DAGSTER_HOME):
- the Dagster webserver (the UI; no sign-in of its own, so loopback only
  unless a reverse proxy authenticates in front of it: deploy/), built and
  served behind a Host allow-list by pipeline/ops/ui.py,
- the Dagster daemon (inbox sensor, schedule, the run queue),
- the portal with its resident rebuild worker (uploads reflected in seconds).

Each child runs in its own process group and writes <home>/logs/<name>.log. A
child that dies is restarted (at most MAX_RESTARTS times in RESTART_WINDOW
seconds, then everything stops with exit 1). SIGTERM or Ctrl-C stops all of
them: SIGTERM to each group, SIGKILL to whatever is left after STOP_SECONDS.
The readiness line is printed once the portal's /health and the UI's
/server_info answer. One `serve` per home: the supervisor holds
<home>/locks/serve.lock while it runs, and a second one refuses, naming it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.ops.instance import ensure_instance, service_env
from pipeline.render.times import BEIJING, beijing_time

LOOPBACK = "127.0.0.1"
READY_SECONDS = 240  # the UI loads the code location: tens of seconds on a busy 2-core machine
STOP_SECONDS = 20
MAX_RESTARTS = 5
RESTART_WINDOW = 600
READY_LINE = "nianbao 已就绪"
SERVE_LOCK = "locks/serve.lock"


def _die_with_parent() -> None:
    """Children get SIGTERM if the supervisor itself is killed (Linux prctl)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Child:
    name: str
    argv: list[str]
    ready_url: str | None
    log_path: Path
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it; closed here after fork
        try:
            self.process = subprocess.Popen(
                self.argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops the children in order
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def ready(self) -> bool:
        if not self.alive():
            return False
        if self.ready_url is None:
            return True
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def children(
    home, port: int, ui_port: int, host: str, extra_portal_args: list[str], allowed_hosts: list[str]
) -> list[Child]:
    bin_dir = Path(sys.executable).parent
    workspace = str(ensure_instance(home) / "workspace.yaml")
    logs = home.root / "logs"
    logs.mkdir(exist_ok=True)
    shown = LOOPBACK if host in ("0.0.0.0", "::") else host
    return [
        Child(
            "webserver",
            [
                sys.executable,
                "-m",
                "pipeline.ops.ui",
                "-w",
                workspace,
                "--host",
                host,
                "-p",
                str(ui_port),
                *(a for h in allowed_hosts for a in ("--allowed-host", h)),
            ],  # fmt: skip
            f"http://{shown}:{ui_port}/server_info",
            logs / "webserver.log",
        ),
        Child("daemon", [str(bin_dir / "dagster-daemon"), "run", "-w", workspace], None, logs / "daemon.log"),
        Child(
            "portal",
            [
                sys.executable,
                "-m",
                "pipeline.cli",
                "portal",
                "--home",
                str(home.root),
                "--host",
                host,
                "--port",
                str(port),
                "--rebuild",
                *extra_portal_args,
            ],  # fmt: skip
            f"http://{shown}:{port}/health",
            logs / "portal.log",
        ),
    ]


class Supervisor:
    def __init__(self, home, kids: list[Child], env: dict[str, str], out=sys.stdout):
        self.home = home
        self.kids = kids
        self.env = env
        self.out = out
        self.stopping = False

    def say(self, text: str) -> None:
        print(f"{datetime.now(BEIJING):%H:%M:%S}  {text}", file=self.out, flush=True)  # Beijing time

    def request_stop(self, signum, frame) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        try:
            for kid in self.kids:
                kid.start(self.env)
                self.say(f"已启动 {kid.name}（进程 {kid.process.pid}），日志 {kid.log_path}")
            if not self._wait_ready():
                return 1
            return self._watch()
        finally:
            self._stop_all()

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_SECONDS
        pending = list(self.kids)
        while pending and not self.stopping:
            for kid in list(pending):
                if not kid.alive():
                    self.say(f"{kid.name} 启动失败（退出码 {kid.process.returncode}），详见 {kid.log_path}")
                    return False
                if kid.ready():
                    pending.remove(kid)
            if time.monotonic() > deadline:
                names = "、".join(k.name for k in pending)
                self.say(f"{names} 在 {READY_SECONDS} 秒内未就绪，详见 {self.home.root / 'logs'}")
                return False
            time.sleep(0.3)
        if self.stopping:
            return False
        portal, ui = self.kids[2].ready_url.rsplit("/", 1)[0], self.kids[0].ready_url.rsplit("/", 1)[0]
        self.say(
            f"{READY_LINE}：报送门户 {portal}/ ，Dagster 界面 {ui}/ ，健康检查 {portal}/health ，"
            f"日志 {self.home.root / 'logs'}。按 Ctrl+C 停止。"
        )
        return True

    def _watch(self) -> int:
        while not self.stopping:
            for kid in self.kids:
                if kid.alive():
                    continue
                now = time.monotonic()
                kid.restarts = [t for t in kid.restarts if now - t < RESTART_WINDOW] + [now]
                if len(kid.restarts) > MAX_RESTARTS:
                    self.say(
                        f"{kid.name} 在 {RESTART_WINDOW // 60} 分钟内退出超过 {MAX_RESTARTS} 次，"
                        f"停止全部服务。详见 {kid.log_path}"
                    )
                    return 1
                self.say(f"{kid.name} 意外退出（退出码 {kid.process.returncode}），正在重启")
                kid.start(self.env)
            time.sleep(0.5)
        return 0

    def _stop_all(self) -> None:
        running = [k for k in reversed(self.kids) if k.process is not None]
        if not running:
            return
        self.say("正在停止服务…")
        for kid in running:
            kid.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for kid in running:
            try:
                kid.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{kid.name} 未在 {STOP_SECONDS} 秒内退出，强制结束")
            kid.signal_group(signal.SIGKILL)  # stragglers of the group (code servers)
            if kid.process.poll() is None:
                kid.process.wait(timeout=5)
        self.say("已停止。")


def claim_home(home, *, host: str, port: int, ui_port: int) -> int | str:
    """Take the home's serve lock (a descriptor to keep open while serving), or
    say which `nianbao serve` has it. flock: released when that process ends."""
    path = home.root / SERVE_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        try:
            first = json.loads(path.read_text(encoding="utf-8"))
            where = (
                f"进程 {int(first['pid'])}，报送门户 {first['host']}:{int(first['port'])}，"
                f"Dagster 界面 {first['host']}:{int(first['ui_port'])}，"
                f"启动于 {beijing_time(first['started_at'])}"
            )
        except (OSError, ValueError, KeyError, TypeError):
            where = "进程信息未知"
        return (
            f"数据目录 {home.root} 已有一个 nianbao serve 在运行（{where}）。"
            "同一数据目录只能运行一个；请使用它，或先停止它（Ctrl+C 或 kill 该进程）。"
        )
    info = {
        "pid": os.getpid(),
        "host": host,
        "port": port,
        "ui_port": ui_port,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)
    return fd


def serve(
    home,
    *,
    port: int,
    ui_port: int,
    host: str = LOOPBACK,
    portal_args: list[str] | None = None,
    allowed_hosts: list[str] | None = None,
) -> int:
    """Run the three services of `home`; `allowed_hosts`: the public names a
    reverse proxy forwards (the UI's Host allow-list; the portal gets its own)."""
    claim = claim_home(home, host=host, port=port, ui_port=ui_port)
    if isinstance(claim, str):
        print(f"错误：{claim}", file=sys.stderr)
        return 2
    try:
        for what, number in (("报送门户", port), ("Dagster 界面", ui_port)):
            if not port_free(host, number):
                print(f"错误：{host}:{number} 已被占用，无法启动{what}。请换一个端口。", file=sys.stderr)
                return 2
        # Create (or migrate) the instance's storage here, once: three processes doing
        # it at the same time on a fresh SQLite instance race in Alembic.
        from pipeline.ops.instance import open_instance

        with open_instance(home):
            pass
        kids = children(home, port, ui_port, host, portal_args or [], allowed_hosts or [])
        return Supervisor(home, kids, service_env(home)).run()
    finally:
        os.ftruncate(claim, 0)  # no stale description of a serve that has stopped
        os.close(claim)
