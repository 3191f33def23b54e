"""`nianbao portal` and `nianbao tokens …` (registered by pipeline/cli.py)."""

from __future__ import annotations

import os
import sys

LOOPBACK = "127.0.0.1"


def _home(args):
    from pipeline.home import Home

    return Home.resolve(args.home)


def cmd_portal(args) -> int:
    from pipeline.portal.app import create_app
    from pipeline.portal.server import serve

    home = _home(args)
    hosts = ["127.0.0.1", "localhost", "[::1]"]
    if args.host != LOOPBACK:
        print(
            f"注意：门户将在 {args.host} 上监听，局域网内其他计算机也能访问。本系统不提供 HTTPS，"
            "请在前面配置 HTTPS 反向代理，加上 --secure-cookies，并用 --allowed-host 指定对外的主机名。",
            file=sys.stderr,
        )
        hosts.append(args.host)
    # Behind a reverse proxy on loopback the browser's Host is the public name.
    hosts += args.allowed_host
    workers = args.workers if args.workers is not None else min(4, os.cpu_count() or 1)
    app = create_app(
        home, allowed_hosts=hosts, workers=workers, secure_cookies=args.secure_cookies, rebuild=args.rebuild
    )
    print(f"报送门户：http://{args.host if args.host != '0.0.0.0' else '127.0.0.1'}:{args.port}/")
    print(f"数据目录：{home.root}")
    print("单位登录令牌用 `nianbao tokens issue --unit <单位代码>` 发放。按 Ctrl+C 停止。", flush=True)
    try:
        serve(app, args.host, args.port)
    except OSError as exc:
        print(
            f"无法在 {args.host}:{args.port} 上启动门户：{exc.strerror}。请用 --port 换一个端口。",
            file=sys.stderr,
        )
        return 2
    return 0


def cmd_issue(args) -> int:
    from pipeline.portal.store import Store

    home = _home(args)
    if bool(args.unit) == bool(args.office):
        print("请指定 --unit <单位代码> 或 --office（二选一）。", file=sys.stderr)
        return 2
    if args.unit:
        names = home.registry().names()
        if args.unit not in names:
            print(f"单位代码“{args.unit}”不在单位名册中。", file=sys.stderr)
            return 2
        token, secret = Store(home).issue_token("unit", args.unit, args.note)
        who = f"{names[args.unit]}（{args.unit}）"
    else:
        token, secret = Store(home).issue_token("office", "", args.note)
        who = "政务公开办（可查看所有单位）"
    print(f"已为 {who} 发放令牌，编号 {token.id}。")
    print("令牌只显示这一次，系统只保存其摘要，请妥善转交：")
    print(secret)
    return 0


def cmd_list(args) -> int:
    from pipeline.portal.store import Store
    from pipeline.render.times import beijing_time

    tokens = Store(_home(args)).tokens()
    if not tokens:
        print("还没有发放任何令牌。")
        return 0
    print("编号\t对象\t备注\t发放时间\t最近使用\t状态")
    for t in tokens:
        who = t.unit if t.role == "unit" else "政务公开办"
        state = f"已停用（{beijing_time(t.revoked_at)}）" if t.revoked_at else "有效"
        used = beijing_time(t.last_used_at) or "从未"
        print(f"{t.id}\t{who}\t{t.note}\t{beijing_time(t.created_at)}\t{used}\t{state}")
    return 0


def cmd_revoke(args) -> int:
    from pipeline.portal.store import Store

    store = Store(_home(args))
    if (args.id is None) == (args.unit is None):
        print("请指定令牌编号，或用 --unit 停用某单位的全部令牌（二选一）。", file=sys.stderr)
        return 2
    count = store.revoke(token_id=args.id) if args.id is not None else store.revoke(unit=args.unit)
    if not count:
        print("没有找到需要停用的有效令牌。", file=sys.stderr)
        return 1
    print(f"已停用 {count} 个令牌，使用这些令牌登录的浏览器会话已同时失效。")
    return 0


def register(sub, with_home) -> None:
    """Add the `portal` and `tokens` subcommands to the `nianbao` parser."""
    p = with_home(sub.add_parser("portal", help="启动单位报送门户（网页，默认只在本机 127.0.0.1 上监听）"))
    p.add_argument("--port", type=int, default=8400, help="端口（默认 8400）")
    p.add_argument("--host", default=LOOPBACK, help="监听地址（默认 127.0.0.1，仅本机可访问）")
    p.add_argument(
        "--workers", type=int, help="检查上传文件的工作进程数（默认为 CPU 核数，最多 4；0 表示不另起进程）"
    )
    p.add_argument("--allowed-host", action="append", default=[], help="允许的对外主机名（配合 --host 使用）")
    p.add_argument(
        "--secure-cookies",
        action="store_true",
        help="Cookie 加 Secure 标记，浏览器只经 HTTPS 发送（在 HTTPS 反向代理后面运行时使用）",
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="上传被采用后立即在本进程中重新编制该年度报告（nianbao serve 使用）",
    )
    p.set_defaults(func=cmd_portal)

    t = sub.add_parser("tokens", help="发放、查看、停用报送门户的访问令牌")
    tsub = t.add_subparsers(dest="tokens_command", required=True)
    i = with_home(tsub.add_parser("issue", help="发放令牌（令牌只显示一次）"))
    i.add_argument("--unit", help="单位代码")
    i.add_argument("--office", action="store_true", help="发放政务公开办令牌（可查看所有单位）")
    i.add_argument("--note", default="", help="备注，如经办人")
    i.set_defaults(func=cmd_issue)
    ls = with_home(tsub.add_parser("list", help="列出令牌（不显示令牌本身）"))
    ls.set_defaults(func=cmd_list)
    r = with_home(tsub.add_parser("revoke", help="停用令牌"))
    r.add_argument("id", nargs="?", type=int, help="令牌编号（见 tokens list）")
    r.add_argument("--unit", help="停用该单位的全部令牌")
    r.set_defaults(func=cmd_revoke)
