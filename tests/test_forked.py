"""Two pieces of a step at once (pipeline/forked.py): the child's result comes back
whole, a failing child's piece is done here, and a threaded process never forks."""

from __future__ import annotations

import os
import threading

import pytest

from pipeline import forked


@pytest.fixture
def forking(monkeypatch):
    """As in a `nianbao build` process on two cores. (Tests before these may have left
    threads in this process; what the children here run takes no lock another thread
    could hold.)"""
    monkeypatch.setattr(forked, "can_fork", lambda: True)


def test_the_first_piece_runs_in_a_child_and_its_result_comes_back_whole(forking):
    here = os.getpid()
    big = "年报" * 300_000  # larger than a pipe's buffer
    (pid, text), mine = forked.both(lambda: (os.getpid(), big), lambda: os.getpid())
    assert pid != here and mine == here and text == big


def test_a_child_that_fails_has_its_piece_done_here_raising_as_it_would(forking, tmp_path):
    calls = tmp_path / "calls"

    def first():
        with calls.open("a") as f:
            f.write(f"{os.getpid()}\n")
        if os.getpid() != here:
            os._exit(3)  # the child dies without a result
        return "done here"

    here = os.getpid()
    assert forked.both(first, lambda: 2) == ("done here", 2)
    assert len(calls.read_text().split()) == 2

    def broken():
        raise ValueError("坏了")

    with pytest.raises(ValueError, match="坏了"):
        forked.both(broken, lambda: 2)


def test_a_threaded_process_or_one_core_runs_both_here(monkeypatch):
    monkeypatch.setattr(forked.os, "sched_getaffinity", lambda _pid: {0, 1})
    here = os.getpid()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert forked.both(os.getpid, os.getpid) == (here, here)
    finally:
        stop.set()
        other.join()
    monkeypatch.setattr(forked.os, "sched_getaffinity", lambda _pid: {0})
    assert forked.both(os.getpid, os.getpid) == (here, here)
