"""The `nianbao` command: build a year, check a file, write a template, make the demo."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from pathlib import Path

from pipeline import collector
from schemas.frames import zip_columns

# Set by `run` (the console script): the command has a process of its own, with no
# other thread yet (the intake prefetch may fork: pipeline/ops/build.py).
_COMMAND_PROCESS = False


def _load_build_libraries() -> None:
    """What every build's steps import, loaded with the start-up objects (pipeline/collector.py)."""
    import pandas  # noqa: F401
    import pandera.backends.pandas.builtin_checks  # noqa: F401 - what the first validation loads
    import pandera.pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import pipeline.warehouse  # noqa: F401


def run() -> None:
    """The `nianbao` console script."""
    global _COMMAND_PROCESS
    _COMMAND_PROCESS = True
    with collector.paused_while_loading():
        code = main()
    sys.exit(code)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (it is replaced under test capture)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _beijing_clock(seconds: float) -> time.struct_time:
    """Progress lines show Beijing time, whatever the machine's time zone."""
    from datetime import datetime

    from pipeline.render.times import BEIJING

    return datetime.fromtimestamp(seconds, BEIJING).timetuple()


def _show_progress() -> None:
    log = logging.getLogger("nianbao.progress")
    if not log.handlers:
        handler = _StderrHandler()
        formatter = logging.Formatter("%(asctime)s  %(message)s", "%H:%M:%S")
        formatter.converter = _beijing_clock
        handler.setFormatter(formatter)
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def _home(args):
    from pipeline.home import Home

    return Home.resolve(args.home)


def _say_waiting(line: str) -> None:
    """Whom a build waits for (the year's lock), on stderr at once."""
    print(line, file=sys.stderr, flush=True)


def build_year(
    home,
    year: int,
    *,
    quiet: bool = False,
    formats: tuple[str, ...] | None = None,
    prefetch: int | None = None,
    wait: float | None = None,
    unit_documents: bool = False,
) -> bool:
    """Materialize `year` through Dagster in this process, recorded in the home's
    instance (pipeline/ops/instance.py), so the UI shows the run. True when the
    report was written. `formats`: the writers to run (default every one);
    `prefetch`: the intake child to wait for (pipeline/ops/build.py); `wait`:
    seconds to wait for another build of the year (default DEFAULT_WAIT_SECONDS),
    saying so on stderr, then LockTimeout; `unit_documents`: every unit's DOCX/PDF too
    (else made when downloaded)."""
    from pipeline.locks import DEFAULT_WAIT_SECONDS, year_lock
    from pipeline.ops.build import Builder, wait_intake_prefetch
    from pipeline.ops.instance import open_instance

    builder = Builder(home)
    _load_build_libraries()
    _show_progress()
    started = time.monotonic()
    with open_instance(home) as instance:
        collector.loaded()  # the instance's storage modules are loaded too
        wait_intake_prefetch(prefetch)
        with year_lock(
            home.root,
            year,
            timeout=DEFAULT_WAIT_SECONDS if wait is None else wait,
            waiting=_say_waiting,
        ):
            result = builder.run(
                year,
                instance,
                tags={"nianbao/started_by": "cli"},
                formats=formats,
                unit_documents=unit_documents,
            )
    if not result.success:
        for line in result.failures:
            print(line, file=sys.stderr)
        return False
    if not quiet:
        _summary(home, year, time.monotonic() - started, formats, unit_documents)
    return True


def _summary(
    home, year: int, seconds: float, formats: tuple[str, ...] | None = None, unit_documents: bool = False
) -> None:
    from pipeline.render.outputs import listing
    from pipeline.warehouse import Warehouse

    status = Warehouse.of(home, year).read("status")
    print(f"\n{year} 年度报告已生成（用时 {seconds:.1f} 秒）：")
    print("\n".join(listing(home.reports_dir(year), formats or None, unit_documents)))
    _summary_units(status)


def _summary_units(status) -> None:
    """How many units stand where, then each unit not simply accepted."""
    from pipeline.steps.validate import STATUS_TEXT

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
    from pipeline.ops.build import start_intake_prefetch
    from pipeline.years import year_problem

    problem = year_problem(args.year, home.root)  # before the run: one line, exit 2, no traceback
    if problem:
        print(f"错误：{problem}", file=sys.stderr)
        return 2
    from pipeline.render.writers import parse_formats

    try:
        formats = parse_formats(args.formats)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if _no_pdf_fonts(home.root, formats):
        return 2
    from pipeline.region import is_region

    broker = None
    if args.executor == "celery":
        from pipeline.ops.celery import BROKER_ENV, celery_problem

        broker = args.broker or os.environ.get(BROKER_ENV)
        problem = celery_problem(broker)
        if problem:
            print(f"错误：{problem}", file=sys.stderr)
            return 2
    if is_region(home):
        return 0 if build_region_year(home, args.year, formats, broker, wait=args.wait) else 1
    if broker:
        return 0 if build_year_celery(home, args.year, formats, broker, args.unit_documents) else 1
    _reconcile_portal(home)
    prefetch = None
    if _COMMAND_PROCESS:  # its own process, no threads yet: fork the intake (see build.py)
        _show_progress()
        prefetch = start_intake_prefetch(home, args.year, logging.getLogger("nianbao.progress").info)
    ok = build_year(
        home,
        args.year,
        formats=formats,
        prefetch=prefetch,
        wait=args.wait,
        unit_documents=args.unit_documents,
    )
    return 0 if ok else 1


def build_year_celery(home, year: int, formats, broker: str, unit_documents: bool) -> bool:
    """A district's year with every step run by the celery workers on `broker`
    (pipeline/ops/celery.py). No year lock here: each step takes it in its worker."""
    from pipeline.defs.assets.reports import outputs_run_config
    from pipeline.ops.celery import run_through_celery
    from pipeline.ops.instance import open_instance

    _reconcile_portal(home)
    _show_progress()
    started = time.monotonic()
    config = outputs_run_config(formats or None, unit_documents)
    with open_instance(home) as instance:
        result = run_through_celery(home, "yearly_report", str(year), instance, broker, run_config=config,
                                    tags={"nianbao/started_by": "cli"})  # fmt: skip
    for line in result.failures:
        print(line, file=sys.stderr)
    if result.success:
        _summary(home, year, time.monotonic() - started, formats, unit_documents)
    return result.success


def build_region_year(
    home,
    year: int,
    formats: tuple[str, ...] | None = None,
    broker: str | None = None,
    member_formats: tuple[str, ...] | None = None,
    wait: float | None = None,
) -> bool:
    """A region home's year (pipeline/ops/region.py): its members, then the whole area, under
    the region's own lock of the year (each member's build takes its district's); with
    `broker`, every step through the celery workers (pipeline/ops/celery.py)."""
    from pipeline.locks import DEFAULT_WAIT_SECONDS, year_lock
    from pipeline.ops.region import build_region
    from pipeline.region import region_members
    from pipeline.steps.region import read_checks

    _show_progress()
    started = time.monotonic()
    with year_lock(
        home.root, year, timeout=DEFAULT_WAIT_SECONDS if wait is None else wait, waiting=_say_waiting
    ):
        if broker:
            from pipeline.ops.celery import build_region_through_celery
            from pipeline.ops.instance import open_instance

            with open_instance(home) as instance:
                result = build_region_through_celery(home, year, instance, broker, formats)
        else:
            result = build_region(home, year, formats, member_formats=member_formats)
    for line in result.failures:
        print(line, file=sys.stderr)
    if not result.success:
        return False
    names = {m.code: m.name for m in region_members(home)}
    out = home.reports_dir(year) / "region"
    print(
        f"\n{home.config()['district']} {year} 年度全域报告已生成（用时 {time.monotonic() - started:.1f} 秒）："
    )
    print("  " + "；".join(f"{names[code]}：{state}" for code, state in result.members.items()))
    problems = sum(len(v) for v in read_checks(home, year).values())
    print(f"  {out / 'index.html'}（审查发现 {problems} 条）")
    print(f"  {out / 'report.html'}")
    print(f"  {home.reports_dir(year) / 'open-data' / 'figures.csv'}")
    return True


def _reconcile_portal(home) -> None:
    """A portal stopped mid-upload may have left a version not yet in the inbox (or a
    file no version names): put that right first, so the build uses the file the
    portal shows as current (pipeline/portal/submit.py)."""
    from pipeline.portal.store import store_path

    if not store_path(home).exists():
        return
    from pipeline.portal.store import Store
    from pipeline.portal.submit import reconcile

    for line in reconcile(home, Store(home)):
        print(f"门户记录核对：{line}", file=sys.stderr)


def _optional_home(args):
    """The home when one is named (--home or NIANBAO_HOME): check and template work without one."""
    return _home(args) if (args.home or os.environ.get("NIANBAO_HOME")) else None


def checked_unit(home, unit: str, year: int) -> tuple[str, str | None]:
    """(the registered unit code, why the command cannot go on) for `--unit` and `--year`
    of check and template: the year rule every command shares (pipeline/years.py), then
    the unit, matched regardless of letter case (`jtj` is JTJ) and, when unknown,
    with the nearest codes offered. Nothing is archived by these commands."""
    from pipeline.years import year_problem

    problem = year_problem(year, home.root if home is not None else None)
    if problem or home is None:
        return unit, problem
    registry = home.registry()
    code = registry.resolve(unit)
    if code is None:
        return unit, registry.unknown_text(unit)
    if not registry.get(code).active_in(year):
        return (
            code,
            f"单位 {registry.label(code)} 在 {year} 年度不需报送（见单位名册 registry/units.csv 的起止年份）。",
        )
    return code, None


def cmd_check(args) -> int:
    home = _optional_home(args)
    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    unit, problem = checked_unit(home, args.unit, args.year)
    if problem:
        print(f"错误：{problem}", file=sys.stderr)
        return 2
    from pipeline.steps.check import check_file

    report = check_file(path.read_bytes(), path.name, unit, args.year, home)
    for m in report.messages:
        print(m.render())
    errors = sum(m.severity == "ERROR" for m in report.messages)
    warnings = len(report.messages) - errors
    print(
        f"\n检查完成：错误 {errors} 条，提醒 {warnings} 条。"
        + ("可以报送。" if not errors else "请改正错误后再报送。")
    )
    return 1 if errors else 0


def cmd_import(args) -> int:
    """A published report (HTML, DOCX, PDF) -> the interchange CSV, its sections and provenance."""
    from pipeline.home import write_atomic
    from pipeline.ingest.published import PublishedRefused
    from pipeline.ingest.published.files import describe, read_report
    from schemas import format_for_year

    path = Path(args.report)
    who = f"（单位 {args.unit}）" if args.unit else ""
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    if args.home:
        code = _record_published(args, path)
        if code or not args.output:
            return code
    elif args.replace:
        print("--replace 只能与 --home 一起使用（把已公开年报记入数据目录时）。", file=sys.stderr)
        return 2
    try:
        report = read_report(path, args.year)
    except PublishedRefused as exc:
        print(f"{path.name}{who}：{exc}", file=sys.stderr)
        return 2
    out = Path(args.output) if args.output else Path(path.stem + ".csv")
    sections_path = out.with_name(out.stem + ".sections.md")
    provenance_path = out.with_name(out.stem + ".provenance.csv")
    fmt = format_for_year(args.year)
    text = [f"# {path.name}{who}", "", report.sections.get("preamble", ""), ""]
    for section in fmt.sections:
        text += [f"## {section.heading}", "", report.sections.get(section.code, ""), ""]
    write_atomic(out, report.to_csv().encode("utf-8"))
    write_atomic(sections_path, "\n".join(text).encode("utf-8"))
    write_atomic(provenance_path, report.provenance_csv().encode("utf-8"))
    for note in report.notes:
        print(f"{path.name}：{note}")
    for unread in report.unread:
        print(f"{path.name}：未读取 {describe(unread, args.year)}")
    print(
        f"{path.name}{who}：读取 {len(report.cells)} 格，未能读取 {len(report.unread)} 格；"
        f"已写出 {out}、{sections_path}、{provenance_path}"
    )
    return 1 if report.unread else 0


def _record_published(args, path: Path) -> int:
    """`import --home`: the report becomes the unit's (or the district's) record of the year."""
    from pipeline.ingest.published.files import LIMITS, NAMES, kind_of
    from pipeline.steps.published import PublishedRecordRefused, record_published, who

    home = _home(args)
    try:
        with path.open("rb") as fh:
            kind = kind_of(path, fh.read(8))
        if path.stat().st_size > LIMITS[kind]:  # before reading it into memory
            raise PublishedRecordRefused(
                f"{NAMES[kind]}超过 {LIMITS[kind] // 1024 // 1024} MB 的上限，不读取"
            )
        recorded = record_published(
            home, args.year, args.unit, path.name, path.read_bytes(), replace=args.replace
        )
    except PublishedRecordRefused as exc:
        print(f"{path.name}（{args.year} 年度）：{exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"无法读取文件：{path}（{exc.strerror or exc}）", file=sys.stderr)
        return 2
    label = who(home, args.unit)
    print(
        f"已导入：{path.name} 作为{label} {args.year} 年度的记录（据已公开年报导入，读取 {recorded.cells} 个数字），"
        f"已存档（{recorded.sha256[:12]}），在 {recorded.path}"
    )
    if recorded.replaced:
        print(
            f"原有报送文件（{'、'.join(recorded.replaced)}）仍保留在收件箱和存档中，本年度改以已公开年报为准。"
        )
    if args.unit:
        print(
            f"请编制该年度：nianbao build --year {args.year} --home {home.root}；"
            f"此后编制 {args.year + 1} 年度时，N7、N8、Y1 和与上年比较即按它核对。"
        )
    else:
        print(f"编制 {args.year + 1} 年度时，全区数字与上年比较按这份全区年报（无需编制 {args.year} 年度）。")
    return 0


def cmd_audit(args) -> int:
    """Published reports of many bodies: copied into audit/<year>/, audited through Dagster."""
    from pipeline.ops.audit import gather, run_audit
    from schemas import has_form

    home = _home(args)
    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"找不到目录：{folder}", file=sys.stderr)
        return 2
    if not has_form(args.year):
        print(
            f"错误：{args.year} 年度使用旧格式，各地指标不同，没有统一表样，不能审查已公开的年报。",
            file=sys.stderr,
        )
        return 2
    _show_progress()
    try:
        copied, total = gather(home, args.year, folder)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(f"已把 {copied} 份报告放入 {home.audit_dir(args.year)}，共审查其中 {total} 份。", flush=True)
    result = run_audit(home, args.year)
    if not result.success:
        for line in result.failures:
            print(line, file=sys.stderr)
        return 2
    status = result.bodies
    print(f"\n{args.year} 年度已公开年报审查完成：")
    for name in ("index.html", "audit.csv"):
        print(f"  {home.reports_dir(args.year) / 'audit' / name}")
    from pipeline.steps.audit import STATUS_TEXT

    counts = status["status"].value_counts()
    print("审查结果：" + "，".join(f"{text} {int(counts.get(s, 0))} 份" for s, text in STATUS_TEXT.items()))
    for row in status.itertuples():
        if row.status != "clean":
            print(
                f"  {row.body}（{row.file}）：{STATUS_TEXT[row.status]}，错误 {row.errors} 条，提醒 {row.warnings} 条"
            )
    return 1 if (status["errors"] > 0).any() else 0


def cmd_template(args) -> int:
    from pipeline.home import write_atomic
    from pipeline.steps.template import template_for

    home = _optional_home(args)
    unit, problem = checked_unit(home, args.unit, args.year)
    if problem:
        print(f"错误：{problem}", file=sys.stderr)
        return 2
    out = write_atomic(Path(args.output), template_for(home, unit, args.year))
    print(f"已生成 {args.year} 年度报送模板：{out}")
    return 0


def cmd_serve(args) -> int:
    from pipeline.ops.serve import LOOPBACK, serve

    home = _home(args)
    if args.host != LOOPBACK:
        print(
            f"注意：将在 {args.host} 上监听。Dagster 界面没有登录功能，任何能访问该端口的人都能启动和取消任务；"
            "请只在 127.0.0.1 上运行，对外经带身份验证的 HTTPS 反向代理提供（见 deploy/）。",
            file=sys.stderr,
        )
    portal_args = [a for h in args.allowed_host for a in ("--allowed-host", h)]
    if args.secure_cookies:
        portal_args.append("--secure-cookies")
    return serve(
        home,
        port=args.port,
        ui_port=args.ui_port,
        host=args.host,
        portal_args=portal_args,
        allowed_hosts=args.allowed_host,
    )


def cmd_backup(args) -> int:
    from pipeline.ops.backup import backup

    home = _home(args)
    index = backup(home, Path(args.output))
    total = sum(e["size"] for e in index["files"])
    from pipeline.render.times import beijing_time

    print(
        f"已备份 {home.root}：{len(index['files'])} 个文件，共 {total / 1024 / 1024:.1f} MB → {args.output}"
        f"（备份时间 {beijing_time(index['created_at'])}）"
    )
    print("备份包含报送门户的令牌摘要，请像保管令牌一样保管备份文件。")
    return 0


def cmd_restore(args) -> int:
    import shlex

    from pipeline.ops.backup import BackupError, restore
    from pipeline.render.times import beijing_time

    try:
        index = restore(Path(args.file), Path(args.home))
    except BackupError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    years = sorted(
        {
            int(e["path"].split("/")[1])
            for e in index["files"]
            if re.match(r"inbox/\d{4}/|published/\d{4}/(?!_district/)", e["path"])
        }
    )
    try:
        taken = beijing_time(index.get("created_at"))
    except (TypeError, ValueError):
        taken = "时间不详"
    print(f"已恢复 {len(index['files'])} 个文件到 {Path(args.home).resolve()}（备份于 {taken}）。")
    if years:
        # Each year's report compares with the year before: build the oldest first.
        print("报告需按年度从早到晚依次重新编制（每一年度要用到上一年度的结果，请按此顺序运行）：")
        for year in years:
            print(f"  nianbao build --home {shlex.quote(args.home)} --year {year}")
    return 0


def _received_elsewhere(home) -> list[tuple[str, str, int, str, str]]:
    """Files other records say were received, each of which must have its manifest row:
    every year's last build (warehouse files table) and every portal upload."""
    from pipeline.portal.store import Store, store_path
    from pipeline.warehouse import Warehouse

    expected = []
    if home.warehouse.is_dir():
        for folder in sorted(home.warehouse.iterdir()):
            warehouse = Warehouse(folder)
            if folder.name.isdigit() and warehouse.exists("files"):
                files = warehouse.read("files")
                where = f"{folder.name} 年度的编制"
                expected += [
                    (str(sha), str(unit), int(folder.name), str(name), where)
                    for unit, name, sha in zip_columns(files, "unit", "file", "sha256")
                ]
    if store_path(home).exists():
        expected += [
            (u.sha256, u.unit, u.year, u.stored_name, f"报送门户第 {u.version} 版")
            for u in Store(home).uploads(light=True)
        ]
    return expected


def cmd_verify(args) -> int:
    from pipeline.home import HomeError
    from pipeline.ingest.archive import ArchiveError, read_manifest, verify_archive

    home = _home(args)
    try:
        problems = verify_archive(home.archive, _received_elsewhere(home))
        count = len(read_manifest(home.archive, checked=False))
    except (ArchiveError, HomeError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem.text)
    if problems:
        print(f"\n核对完成：清单 {count} 条记录，发现 {len(problems)} 个问题。", file=sys.stderr)
        return 1
    print(f"核对完成：清单 {count} 条记录，归档文件全部完好。")
    return 0


def _no_pdf_fonts(home_root: Path | None, formats: tuple[str, ...]) -> bool:
    """PDFs wanted and no Chinese font to draw them: say so at once (before a run writes anything)."""
    from pipeline.render.fonts import NO_CJK_FONT, cjk_fonts

    if "pdf" in formats and not cjk_fonts(home_root):
        print(f"错误：{NO_CJK_FONT}", file=sys.stderr)
        return True
    return False


def cmd_demo(args) -> int:
    from pipeline.demo import make_demo_homes
    from pipeline.render.writers import parse_formats

    try:
        formats = parse_formats(args.formats)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    target = Path(args.home or "build/demo").resolve()
    if _no_pdf_fonts(None, formats):
        return 2
    homes = make_demo_homes(target, fresh=args.fresh)
    for home, years, _kept in homes:
        for year in years:
            print(f"\n== {home.config()['district']} {year} 年度 ==", flush=True)
            if not build_year(home, year, formats=formats, unit_documents=args.unit_documents):
                return 1
    city = _demo_city(target, homes, formats)
    if city is None:
        return 1
    print("\n演示数据目录：")
    for home, years, _kept in homes:
        print(f"  {home.root}（{'、'.join(str(y) for y in years)} 年度，报告在 reports/<年度>/ 下）")
    home, year = city
    print(
        f"  {home.root}（示范市：三个区汇总的 {year} 年度，下级地区报送与审查页在 reports/{year}/region/index.html）"
    )
    if any(kept for _h, _y, kept in homes):
        print("已保留现有演示目录中的报送门户令牌和上传记录；要从头开始，请加 --fresh。")
    return 0


def _demo_city(target: Path, homes, formats):
    """The demo city over the demo district 示范区 (pipeline/demo.py), built for its latest
    year; (city home, year), or None when its build failed."""
    from pipeline.demo import CITY, make_demo_city

    district, years = next((h, y) for h, y, _k in homes if h.root.name == "shifanqu")
    year = max(years)
    print(f"\n== 示范市（{CITY}）{year} 年度：三个区的汇总 ==", flush=True)
    city = make_demo_city(target, year, district)
    # The districts' own publication documents are shown by the demo districts already:
    # the city's members write their HTML and Markdown only (the city's report all formats).
    return (city, year) if build_region_year(city, year, formats, member_formats=("html", "md")) else None


def _year(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise ValueError(text)
    return int(text)


_year.__name__ = "年度（四位数字，如 2025）"


def _seconds(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 86400:
        raise ValueError(text)
    return int(text)


_seconds.__name__ = "秒数（0 到 86400 的整数）"


UNIT_DOCUMENTS_HELP = "同时生成每个单位的 Word/PDF（默认只生成全区的；单位的在报送门户下载时生成）"


def parser() -> argparse.ArgumentParser:
    from pipeline.locks import DEFAULT_WAIT_SECONDS
    from pipeline.zh_argparse import ChineseArgumentParser

    p = ChineseArgumentParser(prog="nianbao", description="政府信息公开工作年度报告编制工具")
    sub = p.add_subparsers(dest="command", required=True, title="命令", metavar="命令")

    def with_home(sp):
        sp.add_argument("--home", help="数据目录（默认取环境变量 NIANBAO_HOME）")
        return sp

    b = with_home(sub.add_parser("build", help="编制某一年度的全区及各单位报告（通过 Dagster 执行）"))
    b.add_argument("--year", type=_year, required=True, help="年度，如 2025")
    b.add_argument(
        "--formats", help="输出格式，逗号分隔：html,md,docx,pdf（默认全部；html,md 可跳过较慢的 Word/PDF）"
    )
    b.add_argument(
        "--wait",
        type=_seconds,
        default=DEFAULT_WAIT_SECONDS,
        help=f"该年度正由另一个编制任务使用时最多等待的秒数（默认 {DEFAULT_WAIT_SECONDS}），到时以退出码 2 结束",
    )

    b.add_argument("--unit-documents", action="store_true", help=UNIT_DOCUMENTS_HELP)
    b.add_argument(
        "--executor",
        choices=("in_process", "celery"),
        default="in_process",
        help="执行方式：in_process（默认，本进程）或 celery（各步骤交给 dagster-celery worker，见 deploy/README.md）",
    )
    b.add_argument(
        "--broker",
        help="celery 的 Redis 地址，如 redis://127.0.0.1:6379/0（默认取环境变量 NIANBAO_CELERY_BROKER）",
    )
    b.set_defaults(func=cmd_build)

    c = with_home(sub.add_parser("check", help="检查一个报送文件（不报送），有错误时退出码为 1"))
    c.add_argument("file")
    c.add_argument("--unit", required=True, help="单位代码（不区分大小写）")
    c.add_argument("--year", type=_year, required=True, help="年度，如 2025")
    c.set_defaults(func=cmd_check)

    im = sub.add_parser(
        "import",
        help="读取一份已公开的年度报告（网页、Word、PDF）为报送格式的 CSV；有未读出的格时退出码为 1，拒绝时为 2",
    )
    im.add_argument("report", help="已公开的报告文件（.html、.docx 或 .pdf）")
    im.add_argument("--year", type=_year, required=True, help="报告的年度，如 2023（决定表样）")
    im.add_argument(
        "--unit", help="报告所属单位的代码（写入说明；与 --home 一起时为该单位的记录，不指定为全区的年报）"
    )
    im.add_argument(
        "--home",
        help="数据目录：把报告记入其中，作为该单位（或全区）该年度的记录（据已公开年报导入）；"
        "不指定时只写出文件",
    )
    im.add_argument(
        "--replace",
        action="store_true",
        help="该单位该年度已有报送的数据时，仍以已公开年报为准（原文件保留）；不加则拒绝",
    )
    im.add_argument(
        "-o",
        "--output",
        help="输出的 CSV（默认为当前目录下与报告同名的 .csv）；另写 .sections.md 和 .provenance.csv",
    )
    im.set_defaults(func=cmd_import)

    au = with_home(
        sub.add_parser(
            "audit",
            help="审查一个目录中各单位已公开的年度报告（网页、Word、PDF），写出审查页面和问题清单；"
            "发现错误时退出码为 1",
        )
    )
    au.add_argument(
        "folder", help="存放已公开报告的目录（每个单位一个文件；复制到数据目录的 audit/<年度>/ 下）"
    )
    au.add_argument("--year", type=_year, required=True, help="报告的年度，如 2023（决定表样）")
    au.set_defaults(func=cmd_audit)

    t = with_home(sub.add_parser("template", help="生成某单位某年度的 Excel 报送模板"))
    t.add_argument("--year", type=_year, required=True, help="年度，如 2025")
    t.add_argument("--unit", required=True, help="单位代码（不区分大小写）")
    t.add_argument("-o", "--output", required=True, help="输出的 .xlsx 文件")
    t.set_defaults(func=cmd_template)

    sv = with_home(sub.add_parser("serve", help="一条命令运行整个系统：Dagster 界面、守护进程和报送门户"))
    sv.add_argument("--port", type=int, default=8400, help="报送门户端口（默认 8400）")
    sv.add_argument("--ui-port", type=int, default=3000, help="Dagster 界面端口（默认 3000）")
    sv.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机可访问）")
    sv.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        help="对外的主机名（在反向代理后面运行时使用）：门户和 Dagster 界面只接受本机地址和这些主机名，可多次指定",
    )
    sv.add_argument(
        "--secure-cookies", action="store_true", help="门户 Cookie 只经 HTTPS 发送（HTTPS 反向代理后使用）"
    )
    sv.set_defaults(func=cmd_serve)

    bk = with_home(sub.add_parser("backup", help="把数据目录中无法重新生成的内容备份为一个文件"))
    bk.add_argument("-o", "--output", required=True, help="备份文件（.tar.gz）")
    bk.set_defaults(func=cmd_backup)
    rs = sub.add_parser("restore", help="从备份文件恢复数据目录（目标目录须不存在或为空）")
    rs.add_argument("file", help="备份文件")
    rs.add_argument("--home", required=True, help="恢复到的数据目录")
    rs.set_defaults(func=cmd_restore)
    vf = with_home(sub.add_parser("verify", help="逐个核对归档文件与清单（缺失或被改动的文件）"))
    vf.set_defaults(func=cmd_verify)

    d = sub.add_parser("demo", help="生成演示数据目录并编制所有演示年度")
    d.add_argument("--home", help="演示数据目录的上级目录（默认 build/demo）")
    d.add_argument("--fresh", action="store_true", help="删除已有的演示目录（含门户令牌和上传）后重新生成")
    d.add_argument("--formats", help="输出格式，逗号分隔：html,md,docx,pdf（默认全部）")
    d.add_argument("--unit-documents", action="store_true", help=UNIT_DOCUMENTS_HELP)
    d.set_defaults(func=cmd_demo)
    from pipeline.portal.cli import register  # light: the portal's own modules load when it runs

    register(sub, with_home)
    return p


# Commands whose modules are loaded by build_year (the others collect from the start).
BUILDING_COMMANDS = {"build", "demo"}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from pipeline.home import HomeError
    from pipeline.ingest.archive import ArchiveError
    from pipeline.locks import LockTimeout

    if getattr(args, "command", None) not in BUILDING_COMMANDS:
        collector.loaded()
    try:
        return args.func(args)
    except (HomeError, LockTimeout, ArchiveError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    run()
