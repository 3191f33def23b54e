"""One build of a year at a time, whoever starts it.

Runs that go through the Dagster instance are queued there (dagster.yaml: one
run per partition); a CLI build, the serve worker and a run launched by the
daemon are separate processes, so the data home holds a lock file per year
that every run takes for as long as it writes that year's warehouse and
reports. flock: released by the kernel when the holder dies, so the lock of a
dead process is simply taken over. The holder writes its pid and start time
into the file, so whoever waits can say for whom (at once, then every
NOTICE_SECONDS); a waiter gives up after its `timeout`.

A thread that already holds a year's lock may take it again when it says so
(`reentrant`: the run's resource, after `nianbao build` took it before the run);
that inner hold is a no-op. Otherwise a second hold waits like any other.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline.render.times import beijing_time

LOCK_DIR = "locks"
NOTICE_SECONDS = 30  # how often a waiting build says it still waits
DEFAULT_WAIT_SECONDS = 600  # `nianbao build --wait`
POLL_SECONDS = 0.1

_held: set[tuple[int, int, str]] = set()  # (pid, thread, lock path) held here


class LockTimeout(Exception):
    pass


def lock_path(root: Path, year: int) -> Path:
    return Path(root) / LOCK_DIR / f"build-{int(year)}.lock"


def _process_state(pid: int) -> str:
    """'' for a running process, else a few words: ended, stopped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "已结束，锁由它留下的子进程持有"
    except PermissionError:
        return ""  # another user's process: alive
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        state = stat.rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""
    return "已暂停，不会自行结束" if state in ("T", "t") else ""


def holder(path: Path) -> str:
    """Who holds the lock at `path`, as the waiting lines say it."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        pid, started = int(info["pid"]), beijing_time(info["started_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return "另一个编制任务（进程信息未知）"
    state = _process_state(pid)
    return f"进程 {pid}（{started}开始{'，' + state if state else ''}）"


@contextmanager
def year_lock(
    root: Path,
    year: int,
    *,
    timeout: float | None = None,
    waiting: Callable[[str], None] | None = None,
    notice_every: float = NOTICE_SECONDS,
    reentrant: bool = False,
) -> Iterator[None]:
    """Hold the build lock of `year` in the home at `root`. While another holds it,
    `waiting` gets a line naming the holder at once and every `notice_every`
    seconds; after `timeout` seconds (when given) LockTimeout, naming it too.
    `reentrant`: already held by this thread is held enough."""
    path = lock_path(root, year)
    key = (os.getpid(), threading.get_ident(), str(path))
    if reentrant and key in _held:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        _acquire(fd, path, year, timeout, waiting, notice_every)
        os.ftruncate(fd, 0)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "started_at": started}).encode(), 0)
        _held.add(key)
        try:
            yield
        finally:
            _held.discard(key)
            os.ftruncate(fd, 0)  # free again: no holder to name
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _acquire(fd: int, path: Path, year: int, timeout, waiting, notice_every: float) -> None:
    started = time.monotonic()
    next_notice = started
    limit = "" if timeout is None else f"，最多等待 {timeout:.0f} 秒"
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        now = time.monotonic()
        if timeout is not None and now - started >= timeout:
            raise LockTimeout(
                f"{year} 年度正由{holder(path)}编制，等待 {timeout:.0f} 秒后仍未结束，本次编制没有进行。"
                "请等它结束后再编制，或用 --wait 秒数 等得更久；若该进程已停止响应，结束它后锁即释放。"
            )
        if waiting is not None and now >= next_notice:
            waited = "开始等待" if next_notice == started else f"已等待 {now - started:.0f} 秒"
            waiting(f"{year} 年度正由{holder(path)}编制，等它结束后再开始（{waited}{limit}）。")
            next_notice = now + notice_every
        time.sleep(POLL_SECONDS)
