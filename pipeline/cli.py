"""The `nianbao` command: build a year, check a file, write a template, make the demo."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from pathlib import Path

# Dagster's own console stays quiet: the assets' progress lines are printed plainly
# by the "nianbao.progress" logger (pipeline/defs/assets/common.py), and a failed step's
# own message by build_year. The full record is in the run's event log.
QUIET_DAGSTER = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (it is replaced under test capture)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _show_progress() -> None:
    log = logging.getLogger("nianbao.progress")
    if not log.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def _home(args):
    from pipeline.home import Home

    return Home.resolve(args.home)


def build_year(home, year: int, *, quiet: bool = False, formats: tuple[str, ...] | None = None) -> bool:
    """Materialize `year` through Dagster (in process, no UI). True when the report was written.
    `formats`: the writers to run (default every one: html, md, docx, pdf)."""
    from dagster import DagsterInstance

    from pipeline.defs.definitions import build_definitions

    job = build_definitions(str(home.root)).resolve_job_def("yearly_report")
    _show_progress()
    started = time.monotonic()
    from pipeline.defs.assets.reports import outputs_run_config

    run_config = {**QUIET_DAGSTER, **(outputs_run_config(formats) if formats is not None else {})}
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            partition_key=str(year), instance=instance, raise_on_error=False, run_config=run_config
        )
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                # Dagster wraps the step's exception: the office's message is the innermost cause.
                error = event.step_failure_data.error
                while error.cause is not None:
                    error = error.cause
                text = re.sub(r"^[\w.]+(Error|Exception): ", "", error.message.strip())
                print(f"步骤 {event.step_key} 失败：{text}", file=sys.stderr)
        return False
    if not quiet:
        _summary(home, year, time.monotonic() - started, formats)
    return True


def _summary(home, year: int, seconds: float, formats: tuple[str, ...] | None = None) -> None:
    from pipeline.steps.validate import STATUS_TEXT
    from pipeline.warehouse import Warehouse

    status = Warehouse.of(home, year).read("status")
    out = home.reports_dir(year)
    print(f"\n{year} 年度报告已生成（用时 {seconds:.1f} 秒）：")
    from pipeline.render.writers import BUNDLE, WRITERS

    chosen = formats or tuple(WRITERS)
    quick = [n for n in ("html", "md") if n in chosen]
    for name in [*(f"report.{n}" for n in quick), "validation.html", "status.csv"]:
        print(f"  {out / name}")
    if quick:
        print(f"  {out / 'units'}/<单位代码>.{'|.'.join(quick)}")
    bundle = [WRITERS[n].suffix for n in BUNDLE if n in chosen]
    if bundle:
        print("发布包（上传到政府信息公开年报栏目）：")
        for suffix in bundle:
            print(f"  {out / 'publish' / ('report' + suffix)}")
        print(f"  {out / 'publish' / 'units'}/<单位代码>{'|'.join(bundle)}")
    counts = status["status"].value_counts()
    print("\n单位报送情况：" + "，".join(f"{STATUS_TEXT[s]} {int(counts.get(s, 0))} 个" for s in STATUS_TEXT))
    for row in status.itertuples():
        if row.status != "accepted" or row.warnings:
            detail = (
                f"错误 {row.errors} 条，提醒 {row.warnings} 条" if row.status != "missing" else "没有收到文件"
            )
            print(f"  {row.name}（{row.unit}）：{STATUS_TEXT[row.status]}，{detail}")


def cmd_build(args) -> int:
    home = _home(args)
    from schemas import FIRST_YEAR, format_for_year

    if args.year < FIRST_YEAR:
        print(f"年度 {args.year} 早于 {FIRST_YEAR} 年，没有年度报告。", file=sys.stderr)
        return 2
    format_for_year(args.year, home.root)  # a missing or broken legacy catalogue: say so before the run
    from pipeline.render.writers import parse_formats

    try:
        formats = parse_formats(args.formats)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0 if build_year(home, args.year, formats=formats) else 1


def _optional_home(args):
    """The home when one is named (--home or NIANBAO_HOME): check and template work without one."""
    return _home(args) if (args.home or os.environ.get("NIANBAO_HOME")) else None


def cmd_check(args) -> int:
    home = _optional_home(args)
    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    from pipeline.steps.check import check_file

    report = check_file(path.read_bytes(), path.name, args.unit, args.year, home)
    for m in report.messages:
        print(m.render())
    errors = sum(m.severity == "ERROR" for m in report.messages)
    warnings = len(report.messages) - errors
    print(
        f"\n检查完成：错误 {errors} 条，提醒 {warnings} 条。"
        + ("可以报送。" if not errors else "请改正错误后再报送。")
    )
    return 1 if errors else 0


def cmd_template(args) -> int:
    from pipeline.home import write_atomic
    from pipeline.steps.template import template_for

    out = write_atomic(Path(args.output), template_for(_optional_home(args), args.unit, args.year))
    print(f"已生成 {args.year} 年度报送模板：{out}")
    return 0


def cmd_demo(args) -> int:
    from pipeline.demo import make_demo_homes

    target = Path(args.home or "build/demo").resolve()
    homes = make_demo_homes(target)
    for home, years in homes:
        for year in years:
            print(f"\n== {home.config()['district']} {year} 年度 ==", flush=True)
            if not build_year(home, year):
                return 1
    print("\n演示数据目录：")
    for home, years in homes:
        print(f"  {home.root}（{'、'.join(str(y) for y in years)} 年度，报告在 reports/<年度>/ 下）")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nianbao", description="政府信息公开工作年度报告编制工具")
    sub = p.add_subparsers(dest="command", required=True)

    def with_home(sp):
        sp.add_argument("--home", help="数据目录（默认取环境变量 NIANBAO_HOME）")
        return sp

    b = with_home(sub.add_parser("build", help="编制某一年度的全区及各单位报告（通过 Dagster 执行）"))
    b.add_argument("--year", type=int, required=True)
    b.add_argument(
        "--formats", help="输出格式，逗号分隔：html,md,docx,pdf（默认全部；html,md 可跳过较慢的 Word/PDF）"
    )
    b.set_defaults(func=cmd_build)

    c = with_home(sub.add_parser("check", help="检查一个报送文件（不报送），有错误时退出码为 1"))
    c.add_argument("file")
    c.add_argument("--unit", required=True, help="单位代码")
    c.add_argument("--year", type=int, required=True)
    c.set_defaults(func=cmd_check)

    t = with_home(sub.add_parser("template", help="生成某单位某年度的 Excel 报送模板"))
    t.add_argument("--year", type=int, required=True)
    t.add_argument("--unit", required=True, help="单位代码")
    t.add_argument("-o", "--output", required=True, help="输出的 .xlsx 文件")
    t.set_defaults(func=cmd_template)

    d = sub.add_parser("demo", help="生成演示数据目录并编制所有演示年度")
    d.add_argument("--home", help="演示数据目录的上级目录（默认 build/demo）")
    d.set_defaults(func=cmd_demo)
    from pipeline.portal.cli import register  # light: the portal's own modules load when it runs

    register(sub, with_home)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from pipeline.home import HomeError

    try:
        return args.func(args)
    except HomeError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
