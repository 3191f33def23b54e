"""Audit of many published reports (issue 17): the city's 逐级审查 in one run.

<home>/audit/<year>/ holds the reports of many bodies as they published them
(web pages, Word documents, PDF files; one file per body). Each file is read by
the published-report readers (pipeline/ingest/published/), cached by content
hash like a submission's parse, and the bodies are then checked together:

- the format's rules, as on a submission (schemas.rules.check_cells: N1–N9, P1–P6,
  Y1, …); "last year" is the same body's report in audit/<year-1>/, when there is
  one (P5, P6, N7, N8, Y1 compare with it);
- what evaluators score that the document shows: sections 一–六 present (A3), each
  table present (A4) and every cell of it read (A5), the table form of the year
  (A6), text identical to another body's report of the same year (A1), and the
  信息处理费 statement (P2, a format rule);
- a file that cannot be read, or whose reading fails in any way, is one A2 finding
  for that file; the other files are audited as usual.

Printed percentages are not recomputed: the 2019 and 2021 forms have no percentage
cell, and the readers expose no percentage printed elsewhere (README says so).

The body's name comes from the report's title ("XX局2023年政府信息公开工作年度报告"
-> "XX局"), else from the file name without year and report words; bodies are
matched across years by that name.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from pathlib import Path

import pandas as pd

from pipeline.home import Home, write_atomic
from pipeline.ingest.published.labels import TABLE_NUMBERS
from pipeline.steps.inbox import regular_file_problem
from schemas import format_for_year, has_form
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, ReportFormat
from schemas.catalogue import FileOrigin, cap_messages
from schemas.messages import Message, sort_messages
from schemas.rules.prose import MIN_COPY_CHARS, substance

# Bump when reading or what a read keeps changes: cached reads are then redone.
AUDIT_VERSION = "2"  # 2: a read keeps the form each table was printed in
MAX_FILES = 5000  # a province's bodies in one year; more is not one audit
CACHE = "audit_cache.json"  # data only (JSON), never code; a damaged cache is ignored
_TITLE = re.compile(r"^(.{2,60}?)\s*(?:19|20)\d{2}\s*年度?\s*(?:政府信息公开|政务公开)")
_REPORT_WORDS = "政府信息公开工作年度报告|政府信息公开年度报告|政府信息公开年报|年度报告|年报"
_FILE_WORDS = re.compile(
    rf"(?:19|20)\d{{2}}\s*(?:{_REPORT_WORDS}|年度?(?:{_REPORT_WORDS})?)|{_REPORT_WORDS}|[_\-\s（）()]+"
)


@dataclass
class ReadReport:
    """One file as read: what the checks need (plain data: the JSON cache keeps it)."""

    file: str
    sha256: str
    kind: str  # html, docx, pdf; "" when not read
    body: str
    named_by: str  # "title" or "file"
    # (table, row, column, value, where, page, printed text) per table cell read
    cells: list[tuple[str, str, str, str, str, int, str]] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    findings: list[Message] = field(default_factory=list)  # A2–A6 of this file
    read: bool = False
    printed_formats: dict[str, str] = field(
        default_factory=dict
    )  # table -> its printed form, where not the year's


def body_name(sections: dict[str, str], file_name: str) -> tuple[str, str]:
    """(name, how it was found): the title line before 一, else the file name."""
    for line in sections.get("preamble", "").split("\n"):
        found = _TITLE.match(line.strip())
        if found:
            return found.group(1).strip(), "title"
    stem = _FILE_WORDS.sub("", Path(file_name).stem)
    return (stem or Path(file_name).stem), "file"


def read_one(path: Path, year: int, sha256: str = "") -> ReadReport:
    """`path` read for `year`. Never raises: whatever fails is this file's A2 finding."""
    from pipeline.ingest.published import PublishedRefused
    from pipeline.ingest.published.files import describe, read_report

    name = path.name
    fallback, how = body_name({}, name)
    out = ReadReport(name, sha256, "", fallback, how)
    origin = FileOrigin(fallback, fallback, name)
    try:
        what = regular_file_problem(path)
        if what is not None:
            raise PublishedRefused(f"不是普通文件（{what}），出于安全原因未读取")
        report = read_report(path, year)
        fmt = format_for_year(year)
        out.body, out.named_by = body_name(report.sections, name)
        origin = FileOrigin(out.body, out.body, name)
        out.read = True
        out.printed_formats = dict(report.printed_formats)
        out.sections = {k: v for k, v in report.sections.items() if k in fmt.narrative_rows}
        for c in report.cells:
            s = c.source
            out.cells.append((c.table, c.row, c.column, c.value, s.where(), s.page, s.text))
            out.kind = s.kind
        out.findings = _document_findings(report, fmt, origin, describe)
    except PublishedRefused as exc:
        out.findings = [origin.problem("A2.refused", why=str(exc))]
    except Exception as exc:  # noqa: BLE001 - one file's failure never stops the others
        out.findings = [origin.problem("A2.unexpected", error=type(exc).__name__)]
    return out


def _document_findings(report, fmt: ReportFormat, origin: FileOrigin, describe) -> list[Message]:
    findings = [
        origin.problem("A3.missing_section", location=s.heading, section=s.heading, number=s.heading[0])
        for s in fmt.sections
        if s.code not in report.sections
    ]
    read_tables = {c.table for c in report.cells}
    for code in fmt.tables:
        if code not in read_tables:
            title = f"{TABLE_NUMBERS.get(code, code)} {fmt.section_heading(code)}"
            findings.append(
                origin.problem("A4.missing_table", location=TABLE_NUMBERS.get(code, code), title=title)
            )
    for u in report.unread:
        if u.table in read_tables:  # a table not printed at all is one A4, not 200 A5
            findings.append(origin.problem("A5.unread", location=TABLE_NUMBERS.get(u.table, u.table),
                                           what=describe(u, report.year)))  # fmt: skip
    findings += [origin.problem("A6.other_form", note=note) for note in report.notes]
    return cap_messages(findings)


# --- the folder, through the cache ------------------------------------------------------


def audit_files(home: Home, year: int) -> list[Path]:
    """The files to audit: audit/<year>/, by name, hidden files left out; at most MAX_FILES."""
    folder = home.audit_dir(year)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))[:MAX_FILES]


def file_key(path: Path, year: int) -> tuple[str, str]:
    """(cache key, sha256) of a file: its bytes, name, year and the audit's version. A file
    over every reader's size limit (or unreadable) is keyed by name and size: its refusal
    is immediate, and it is not hashed."""
    from pipeline.ingest.published.files import LIMITS

    try:
        size = path.lstat().st_size
        if regular_file_problem(path) is None and size <= max(LIMITS.values()):
            with path.open("rb") as f:
                sha = hashlib.file_digest(f, "sha256").hexdigest()
        else:
            sha = f"size:{size}"
    except OSError:
        sha = "unreadable"
    return f"{sha}|{path.name}|{year}|{AUDIT_VERSION}", sha


def cache_path(home: Home, year: int) -> Path:
    return home.warehouse_dir(year) / CACHE


def cached_reads(path: Path) -> dict[str, ReadReport]:
    """Key -> read from the year's cache; a cache that is missing, damaged or of another
    shape is ignored (every file is read again and the cache rewritten)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(stored, dict) or stored.get("version") != AUDIT_VERSION:
            return {}
        return {str(key): _from_json(fields) for key, fields in stored["reads"].items()}
    except Exception:  # noqa: BLE001 - whatever is wrong with a cache, it is only a cache
        return {}


def save_cache(path: Path, reads: list[tuple[str, ReadReport]]) -> None:
    data = {"version": AUDIT_VERSION, "reads": {key: _to_json(read) for key, read in reads}}
    write_atomic(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
    path.with_name("audit_cache.pickle").unlink(missing_ok=True)  # the old, executable format


def _to_json(read: ReadReport) -> dict:
    # Shallow, in field order (what asdict gives, without its deep copy of every cell:
    # a third of writing a thousand reports' cache).
    out = {f.name: getattr(read, f.name) for f in dataclass_fields(read)}
    out["findings"] = [m.as_dict() for m in read.findings]
    return out


def _from_json(fields: dict) -> ReadReport:
    fields = dict(fields)
    fields["findings"] = [Message.from_dict(m) for m in fields.get("findings", [])]
    fields["cells"] = [tuple(c) for c in fields.get("cells", [])]
    read = ReadReport(**fields)
    if not all(isinstance(v, str) for v in (read.file, read.sha256, read.kind, read.body, read.named_by)):
        raise ValueError("not a cached read")
    return read


def read_files(
    paths: list[Path],
    year: int,
    known: dict[str, ReadReport],
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, ReadReport]:
    """Cache key -> read, for `paths`: from `known` where the key is there, else read now."""
    out: dict[str, ReadReport] = {}
    fresh = 0
    for i, path in enumerate(paths, 1):
        key, sha = file_key(path, year)
        if key not in known:
            known[key] = read_one(path, year, sha)
            fresh += 1
        out[key] = known[key]
        if i % 100 == 0 or i == len(paths):
            progress(f"已读取 {i}/{len(paths)} 份报告（其中新读 {fresh} 份，其余沿用缓存）")
    return out


def read_shard(
    home: Home, year: int, shard: int, shards: int, progress=lambda _: None
) -> dict[str, ReadReport]:
    """The reads of every `shards`-th file of audit/<year>/ from `shard` (the Dagster step
    of one process), using the year's cache without writing it (the steps run at once)."""
    return read_files(
        audit_files(home, year)[shard::shards], year, cached_reads(cache_path(home, year)), progress
    )


def read_year(home: Home, year: int, done: dict[str, ReadReport] | None = None) -> list[ReadReport]:
    """Every file of audit/<year>/ read, in name order: reads in `done` (this run's steps)
    or the cache are used, the rest read now; the cache then keeps exactly these."""
    known = {**cached_reads(cache_path(home, year)), **(done or {})}
    reads = read_files(audit_files(home, year), year, known)
    if reads or cache_path(home, year).exists():
        save_cache(cache_path(home, year), list(reads.items()))
    return list(reads.values())


# --- checking the bodies together ------------------------------------------------------


@dataclass
class Audit:
    year: int
    fmt: ReportFormat
    bodies: pd.DataFrame  # unit, body, file, kind, named_by, status, errors, warnings
    findings: list[Message]
    # unit -> location -> (page, printed text): where each finding's cell was printed
    printed: dict[str, dict[str, tuple[int, str]]]
    previous_year: int | None  # the year last-year comparisons used, when there was one


BODY_COLUMNS = ["unit", "body", "file", "kind", "named_by", "status", "errors", "warnings"]
STATUS_TEXT = {"unread": "无法读取", "errors": "有错误", "warnings": "有提醒", "clean": "未发现问题"}


def _keys(reads: list[ReadReport]) -> tuple[list[str], list[Message]]:
    """Each read's unit key: its body's name; bodies named twice keep the file in the key."""
    counts: dict[str, list[ReadReport]] = {}
    for r in reads:
        counts.setdefault(r.body, []).append(r)
    keys, notes = [], []
    for r in reads:
        same = counts[r.body]
        keys.append(r.body if len(same) == 1 else f"{r.body}（{r.file}）")
        if len(same) > 1:
            files = "、".join(x.file for x in same)
            notes.append(FileOrigin(keys[-1], keys[-1], r.file).problem(
                "A7.same_body", body=r.body, count=len(same), files=files))  # fmt: skip
    return keys, notes


def cell_frame(reads: list[ReadReport], keys: list[str], year: int, fmt: ReportFormat) -> pd.DataFrame:
    """The cells of the reads as a submission's cell frame; where each was printed is its location."""
    headings = {s.code: s.heading for s in fmt.sections}
    rows = []
    for r, key in zip(reads, keys):
        if not r.read:
            continue
        rows += [(key, year, t, row, c, v, r.file, "", where) for t, row, c, v, where, _, _ in r.cells]
        rows += [
            (key, year, NARRATIVE_TABLE, code, NARRATIVE_COLUMN, text, r.file, "", headings.get(code, code))
            for code, text in r.sections.items()
            if text
        ]
    columns = ["unit", "year", "table", "row", "column", "raw", "file", "sheet", "location"]
    return pd.DataFrame(rows, columns=columns).astype({"year": "int64"})


def previous_cells(reads: list[ReadReport], year: int) -> tuple[pd.DataFrame | None, ReportFormat | None]:
    """Last year's audited reports as the rules' "previous" frame (the accepted cells'
    shape), keyed by body name; None where there are none or the year had no printed form."""
    from pipeline.steps.rules import ACCEPTED_COLUMNS
    from schemas.rules import prepare

    readable = [r for r in reads if r.read]
    if not readable:
        return None, None
    fmt = format_for_year(year)
    keys, _ = _keys(readable)
    frame = prepare(cell_frame(readable, keys, year, fmt), fmt)
    frame = frame[frame["ok"] & (frame["kind"] != "")].drop_duplicates(["unit", "table", "row", "column"])
    return frame[ACCEPTED_COLUMNS].assign(rejected_file="", unreadable=False), fmt


def copies_across(reads: list[ReadReport], keys: list[str], fmt: ReportFormat) -> list[Message]:
    """A1: a section whose text (without the fee statement, dates and the body's own name)
    is another body's this year."""
    by_text: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(reads):
        for code, text in r.sections.items():
            bare = substance(text.replace(r.body, "")) if r.body else substance(text)
            if len(bare) >= MIN_COPY_CHARS:
                by_text.setdefault((code, bare), []).append(i)
    out = []
    headings = {s.code: s.heading for s in fmt.sections}
    for (code, _), owners in by_text.items():
        if len(owners) < 2:
            continue
        # Each owner names the first other owner and counts the rest: linear in the owners
        # (a paragraph every body of a district copied has a thousand of them).
        how = "完全相同" if len(owners) == 2 else f"以及另外 {len(owners) - 2} 份报告完全相同"
        for i in owners:
            other = owners[1] if i == owners[0] else owners[0]
            r = reads[i]
            out.append(FileOrigin(keys[i], keys[i], r.file).problem(
                "A1.copy_across", location=headings.get(code, code), section=headings.get(code, code),
                other=keys[other], other_file=reads[other].file, how=how))  # fmt: skip
    return out


def as_printed(fmt: ReportFormat, printed: dict[str, str]) -> ReportFormat:
    """The year's form with each table in `printed` (table -> form code) as that form prints
    it, with that form's rules for it: a 2023 report printing the 2019 trial 表三 (one
    "（六）其他处理" row) is checked as printed, not told its cells are unknown (N6) or
    its total lacks the three rows it never had (N2). A6 names the other form."""
    from dataclasses import replace as replace_format

    if not printed:
        return fmt
    forms = {
        code: next(f for y in (2019, 2021) if (f := format_for_year(y)).code == code)
        for code in printed.values()
    }
    tables = {**fmt.tables, **{t: forms[code].tables[t] for t, code in printed.items()}}
    rules = tuple(r for r in fmt.rules if r.table not in printed) + tuple(
        r for t, code in printed.items() for r in forms[code].rules if r.table == t
    )
    return replace_format(fmt, tables=tables, rules=rules)


def audit_year(home: Home, year: int, reads: list[ReadReport], previous: list[ReadReport]) -> Audit:
    """The bodies' findings: each file's own, the format's rules over all bodies at once
    (last year from `previous`, the reads of audit/<year-1>/), and copies across bodies."""
    from pipeline.steps.rules import check_isolated, home_settings

    fmt = format_for_year(year, home.root)
    keys, findings = _keys(reads)
    for r, key in zip(reads, keys):
        findings += [replace(m, unit=key, unit_label=key) for m in r.findings]
    cells = cell_frame(reads, keys, year, fmt)
    before, before_fmt = (
        previous_cells(previous, year - 1) if previous and has_form(year - 1) else (None, None)
    )
    # Every rule is about one unit: bodies printing a table in another form are checked
    # apart, against the form as they printed it.
    forms: dict[tuple, list[str]] = {}
    for r, key in zip(reads, keys):
        forms.setdefault(tuple(sorted(r.printed_formats.items())), []).append(key)
    for printed, units in forms.items():
        part = cells[cells["unit"].isin(units)]
        if not part.empty:
            form = as_printed(fmt, dict(printed))
            findings += check_isolated(part, form, {}, before, before_fmt, home_settings(home)).messages
    readable = [i for i, r in enumerate(reads) if r.read]
    findings += copies_across([reads[i] for i in readable], [keys[i] for i in readable], fmt)
    findings = sort_messages(findings)

    printed = {
        key: {where: (page, text) for _, _, _, _, where, page, text in r.cells} for r, key in zip(reads, keys)
    }
    counts: dict[str, list[int]] = {}  # unit -> [errors, findings], in one pass over the findings
    for m in findings:
        count = counts.setdefault(m.unit, [0, 0])
        count[0] += m.severity == "ERROR"
        count[1] += 1
    rows = []
    for r, key in zip(reads, keys):
        errors, found = counts.get(key, (0, 0))
        status = "unread" if not r.read else "errors" if errors else "warnings" if found else "clean"
        rows.append((key, r.body, r.file, r.kind, r.named_by, status, errors, found - errors))
    bodies = pd.DataFrame(rows, columns=BODY_COLUMNS)
    return Audit(year, fmt, bodies, findings, printed, year - 1 if before is not None else None)
