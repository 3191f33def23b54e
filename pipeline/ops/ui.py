"""The Dagster UI of `nianbao serve`, answering only to the host names it is meant for.

The UI has no sign-in, and a browser sends whatever host name the page it
loaded came from: a web page the office opens could point a name of its own at
127.0.0.1 (DNS rebinding) and drive the UI's GraphQL from the office's browser.
So every request and WebSocket whose Host header is not on the allow-list (the
loopback names, plus the names a reverse proxy forwards: --allowed-host) is
refused with 400 before it reaches the UI.

The webserver's app is built here, in this process, the way `dagster-webserver`
builds it, and only the guarded app is served: one listening socket, no
unguarded path. (Dagster is pinned; tests/test_serve.py checks the refusal on
a real server.) Run as `python -m pipeline.ops.ui` by pipeline/ops/serve.py.
"""

from __future__ import annotations

import argparse

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WRONG_HOST = "Host 不在允许列表中：Dagster 界面只接受本机地址和 nianbao serve --allowed-host 指定的主机名。"
# What `dagster-webserver` uses by default (its CLI's options).
DB_STATEMENT_TIMEOUT_MS = 15000
DB_POOL_RECYCLE_SECONDS = 3600
DB_POOL_MAX_OVERFLOW = 20


def host_name(header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets, lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class HostGuard:
    """ASGI middleware: HTTP requests with a foreign or missing Host get 400,
    such WebSockets are closed before they are accepted (the server answers 403)."""

    def __init__(self, app, allowed_hosts):
        self.app = app
        self.allowed = {host_name(h) for h in allowed_hosts} - {""}

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or [])
            host = host_name(headers.get(b"host", b"").decode("latin-1"))
            if host not in self.allowed:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = WRONG_HOST.encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def allowed_hosts(host: str, extra: list[str]) -> list[str]:
    """Loopback names, the listening address when it is a name or address of its own, and `extra`."""
    hosts = [*LOOPBACK_NAMES, *extra]
    if host not in ("0.0.0.0", "::", ""):
        hosts.append(host)
    return hosts


def run(workspace: str, host: str, port: int, extra_hosts: list[str]) -> None:
    import uvicorn
    from dagster import DagsterInstance
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster._utils.log import configure_loggers
    from dagster_webserver.app import create_app_from_workspace_process_context
    from dagster_webserver.version import __version__

    configure_loggers()
    with DagsterInstance.get() as instance:  # DAGSTER_HOME: set by serve (service_env)
        instance.optimize_for_webserver(
            DB_STATEMENT_TIMEOUT_MS, DB_POOL_RECYCLE_SECONDS, DB_POOL_MAX_OVERFLOW
        )
        with WorkspaceProcessContext(
            instance,
            version=__version__,
            read_only=False,
            workspace_load_target=WorkspaceFileTarget(paths=[workspace]),
        ) as context:
            app = create_app_from_workspace_process_context(context)
            hosts = allowed_hosts(host, extra_hosts)
            guarded = HostGuard(app, hosts)
            print(f"Dagster 界面：http://{host}:{port}/ ，只接受 Host：{'、'.join(hosts)}", flush=True)
            uvicorn.run(guarded, host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m pipeline.ops.ui")
    p.add_argument("-w", "--workspace", required=True)
    p.add_argument("--host", default=LOOPBACK_NAMES[0])
    p.add_argument("-p", "--port", type=int, required=True)
    p.add_argument("--allowed-host", action="append", default=[])
    args = p.parse_args(argv)
    run(args.workspace, args.host, args.port, args.allowed_host)


if __name__ == "__main__":
    main()
