"""One build of a year at a time, whoever starts it.

Runs that go through the Dagster instance are queued there (dagster.yaml: one
run per partition); a CLI build, the serve worker and a run launched by the
daemon are separate processes, so the data home holds a lock file per year
that every run takes for as long as it writes that year's warehouse and
reports. flock: released by the kernel when the holder dies, never stale.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_DIR = "locks"


class LockTimeout(Exception):
    pass


def lock_path(root: Path, year: int) -> Path:
    return Path(root) / LOCK_DIR / f"build-{int(year)}.lock"


@contextmanager
def year_lock(
    root: Path,
    year: int,
    *,
    timeout: float | None = None,
    waiting: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold the build lock of `year` in the home at `root`. Waits for another
    holder (calling `waiting` once, so the caller can say so); `timeout`
    seconds at most when given, then LockTimeout."""
    path = lock_path(root, year)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise LockTimeout(
                            f"{year} 年度正由另一个编制任务使用，等待 {timeout:.0f} 秒后仍未结束。"
                        ) from None
                    time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
