"""Running the portal with uvicorn: in the foreground (CLI) or in a thread (tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

LOOPBACK = "127.0.0.1"


def config(app, *, log_config=uvicorn.config.LOGGING_CONFIG) -> uvicorn.Config:
    # h11 rather than httptools: both fine; h11 is always installed with uvicorn.
    return uvicorn.Config(
        app, log_config=log_config, access_log=True, http="h11", lifespan="on", timeout_keep_alive=30,
        server_header=False,
    )  # fmt: skip


def bound_socket(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """A listening socket; port 0 picks a free port (no race between choosing and binding)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(app, host: str = LOOPBACK, port: int = 8400) -> None:
    sock = bound_socket(host, port)
    server = uvicorn.Server(config(app))
    server.run(sockets=[sock])


@contextmanager
def running(app, host: str = LOOPBACK) -> Iterator[str]:
    """Serve `app` on a free loopback port in a thread; yields the base URL; stops on exit."""
    sock = bound_socket(host, 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(config(app, log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("portal did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
