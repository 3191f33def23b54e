"""E31: a build waiting on a year's lock says so at once and every NOTICE_SECONDS,
naming the holder's pid and start time (Beijing time); `--wait` bounds the wait
(exit 2, one line); the lock of a dead process is taken over at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.locks import LockTimeout, lock_path, year_lock

NIANBAO = str(Path(sys.executable).with_name("nianbao"))
HOLD = """
import sys, time
from pipeline.locks import year_lock
with year_lock(sys.argv[1], 2025):
    print("held", flush=True)
    time.sleep(300)
"""


class Holder:
    """Another process holding the 2025 lock of the home at `root`."""

    def __init__(self, root: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout.readline().strip() == "held"

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        self.process.wait(10)
        self.process.stdout.close()


@pytest.fixture
def holder(tmp_path):
    held = Holder(tmp_path)
    yield held
    held.end()


def test_a_waiter_names_the_holder_at_once_and_again_then_gives_up(tmp_path, holder):
    lines = []
    started = time.monotonic()
    with (
        pytest.raises(LockTimeout) as refused,
        year_lock(tmp_path, 2025, timeout=1.0, waiting=lines.append, notice_every=0.3),
    ):
        pass
    assert 1.0 <= time.monotonic() - started < 3
    pid = holder.process.pid
    assert len(lines) >= 3, lines  # at once, then every 0.3 s
    assert all(f"进程 {pid}" in line and "北京时间" in line and "最多等待 1 秒" in line for line in lines)
    assert "开始等待" in lines[0] and "已等待" in lines[-1]
    assert f"进程 {pid}" in str(refused.value) and "等待 1 秒后仍未结束" in str(refused.value)


def test_the_lock_of_a_killed_process_is_taken_over_at_once(tmp_path, holder):
    holder.process.kill()
    holder.process.wait(10)
    assert str(holder.process.pid) in lock_path(tmp_path, 2025).read_text()  # its note is left behind
    lines = []
    with year_lock(tmp_path, 2025, timeout=0, waiting=lines.append):
        assert f'"pid": {os.getpid()}' in lock_path(tmp_path, 2025).read_text()
    assert lines == []
    assert lock_path(tmp_path, 2025).read_text() == ""  # released: nobody to name


def test_a_thread_holding_the_lock_takes_it_again_when_it_says_so(tmp_path):
    with year_lock(tmp_path, 2025), year_lock(tmp_path, 2025, timeout=0, reentrant=True):
        outcome = []

        def other():
            try:
                with year_lock(tmp_path, 2025, timeout=0.2):
                    outcome.append("took it")
            except LockTimeout:
                outcome.append("waited")

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(5)
        assert outcome == ["waited"]
    with year_lock(tmp_path, 2025, timeout=0):  # both holds ended: free
        pass


def test_build_waiting_on_a_stopped_holder_says_so_and_stops_after_wait(home, tmp_path):
    held = Holder(home.root)
    try:
        held.process.send_signal(signal.SIGSTOP)  # E31: a holder that will never finish
        started = time.monotonic()
        result = subprocess.run(
            [NIANBAO, "build", "--year", "2025", "--home", str(home.root), "--wait", "2"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 2, result.stderr
        assert time.monotonic() - started < 120
        pid = held.process.pid
        waiting = [line for line in result.stderr.splitlines() if "等它结束后再开始" in line]
        assert waiting and f"进程 {pid}" in waiting[0] and "已暂停" in waiting[0] and "北京时间" in waiting[0]
        assert f"错误：2025 年度正由进程 {pid}" in result.stderr and "等待 2 秒后仍未结束" in result.stderr
        assert "Traceback" not in result.stderr
        assert not (home.reports_dir(2025) / "report.html").exists()
    finally:
        held.end()
    # The holder gone, the next build takes the lock over and builds.
    assert (
        main(["build", "--year", "2025", "--home", str(home.root), "--formats", "html,md", "--wait", "5"])
        == 0
    )
    assert (home.reports_dir(2025) / "report.html").exists()


def test_wait_takes_whole_seconds_only(home, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["build", "--year", "2025", "--home", str(home.root), "--wait", "-1"])
    assert refused.value.code == 2
    assert "秒数" in capsys.readouterr().err


def test_progress_and_supervisor_lines_show_beijing_time(monkeypatch, capsys):
    """Even on a machine whose clock runs in UTC."""
    import io
    import logging
    from datetime import datetime, timedelta

    from pipeline.cli import _show_progress
    from pipeline.ops.serve import Supervisor
    from pipeline.render.times import BEIJING

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        _show_progress()
        logging.getLogger("nianbao.progress").info("进度")
        out = io.StringIO()
        Supervisor(None, [], {}, out=out).say("已启动")
        now = datetime.now(BEIJING)
        for line in (capsys.readouterr().err.strip(), out.getvalue().strip()):
            shown = datetime.strptime(line.split()[0], "%H:%M:%S").replace(
                year=now.year, month=now.month, day=now.day, tzinfo=BEIJING
            )
            assert abs(now - shown) < timedelta(seconds=5) or abs(now - shown) > timedelta(hours=23), line
    finally:
        monkeypatch.undo()
        time.tzset()
