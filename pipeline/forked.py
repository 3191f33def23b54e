"""Two independent pieces of a step at once, on two cores: one in a forked child.

A build's steps are plain Python and hold the GIL, so threads cannot share the work;
a forked child starts in milliseconds with everything the step has loaded. The child
only computes and writes files: it never touches the Dagster instance, logs or any
open database (it leaves with os._exit, so nothing of the parent's is closed or
flushed). Its result comes back pickled through a pipe.

Forking is only safe in a process with one thread (a lock another thread holds at the
fork stays locked in the child forever), so in a threaded process (the portal with
its resident worker), on one core, or when the child fails in any way, the two pieces
simply run here, one after the other: the result is the same, and a failure is raised
here as it would be without the fork.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable
from typing import TypeVar

First = TypeVar("First")
Second = TypeVar("Second")


def cores() -> int:
    """The cores this process may run on (all of them where the system cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """A second core, fork (not on Windows), and no other thread in this process."""
    return hasattr(os, "fork") and cores() >= 2 and threading.active_count() == 1


def both(first: Callable[[], First], second: Callable[[], Second]) -> tuple[First, Second]:
    """(first(), second()), `first` in a forked child while `second` runs here."""
    if not can_fork():
        return first(), second()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        code = 1
        try:
            payload = pickle.dumps(first(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        result_here = second()
    finally:
        # Read to the end before waiting: a large result fills the pipe, and the child
        # only exits once it has written all of it.
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return first(), result_here  # the child failed: do its part here, raising as it would
    return pickle.loads(payload), result_here
