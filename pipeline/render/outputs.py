"""Write a year's outputs under reports/<year>/, each through a temporary name.

reports/<year>/report.html|.md and units/<code>.html|.md come first (the quick
outputs); publish/ holds the publication bundle (report.html, .docx, .pdf and
units/<code>.html), written afterwards by the documents asset. A unit's DOCX and
PDF (about half a second each) are written only when asked for: by a build with
`unit_documents`, or one unit at a time by `write_unit_document` (the portal's
download, pipeline/render/on_demand.py). A file whose view, templates and render
code are unchanged since the last run is not rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from pipeline.home import link_atomic, write_atomic
from pipeline.render.fonts import cjk_fonts
from pipeline.render.fonts import require as require_fonts
from pipeline.render.model import LazyView, ReportView, resolve, view_key
from pipeline.render.reports import TEMPLATES, environment
from pipeline.render.times import beijing_time
from pipeline.render.writers import WRITERS, RenderContext, Writer, bundled, quick
from pipeline.steps.validate import STATUS_COLUMNS, STATUS_TEXT, status_text
from pipeline.tabular import frame_csv
from schemas import text as text_module
from schemas.base import ReportFormat
from schemas.messages import Message

PUBLISH = "publish"


def write_if_changed(path: Path, data: bytes | str) -> Path:
    """Unchanged outputs are left alone, so a rebuild touches only what changed."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not (path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data):
        write_atomic(path, data)
    return path


# The code that shapes a report besides its templates: a change in escaping
# must re-render reports written before it.
RENDER_CODE = [*sorted(Path(__file__).parent.glob("*.py")), Path(text_module.__file__)]


def _renderer_digest(home_root: Path | None = None) -> str:
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(TEMPLATES).as_posix().encode() + path.read_bytes())
    for path in RENDER_CODE:
        digest.update(path.name.encode() + path.read_bytes())
    # The office's own Word templates and fonts shape its documents too.
    for folder in ("templates", "fonts"):
        root = home_root / folder if home_root else None
        if root is not None and root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    digest.update(
                        f"{folder}/{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
                    )
    if home_root is not None:  # and the system's Chinese fonts draw the PDFs
        digest.update(repr(cjk_fonts(None)).encode())
    return digest.hexdigest()


def _chosen(formats: Iterable[str] | None) -> tuple[str, ...]:
    """The writers asked for by name; None: every registered writer."""
    return tuple(WRITERS) if formats is None else tuple(formats)


def write_district(out: Path, fmt: ReportFormat, view: ReportView, formats=None) -> dict[str, Path]:
    """report<suffix> of each quick writer of `formats` (default: every one; html and md)."""
    ctx = RenderContext(fmt)
    return {
        w.name: write_if_changed(out / f"report{w.suffix}", w.render(view, ctx))
        for w in quick(_chosen(formats))
    }


_CONTEXTS: dict[tuple, RenderContext] = {}


def _render_unit(fmt: ReportFormat, home_root: Path | None, writers: list[Writer], view: ReportView):
    """One unit's files in a worker process (the writers come pickled, so one registered
    outside this package renders there too); the worker keeps its compiled templates."""
    ctx = _CONTEXTS.get((fmt.code, fmt.name, home_root))
    if ctx is None:
        ctx = _CONTEXTS[(fmt.code, fmt.name, home_root)] = RenderContext(fmt, home_root)
    ctx.warnings = []
    return {w.name: w.render(view, ctx) for w in writers}, ctx.warnings


DIGESTS = ".render-digests.json"


def _read_digests(folder: Path) -> dict[str, str]:
    """What each output was rendered from, as last written; a damaged file (not a JSON object
    of strings) is only a cache: every output is rendered again."""
    try:
        digests = json.loads((folder / DIGESTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
        return {}
    return digests


def _view_digest(renderer: str, fmt: ReportFormat, view: ReportView | LazyView) -> str:
    """What a file's content follows from: the render code and templates, the format, the view."""
    return hashlib.sha256(f"{renderer}|{fmt.code}|{view_key(view)}".encode()).hexdigest()


class _Reusable:
    """The quick outputs (reports/<year>/units/) current for a view: the publication
    bundle links them instead of rendering the same page twice (1,000 units' HTML
    took seconds)."""

    def __init__(self, folder: Path, fmt: ReportFormat):
        self.folder, self.fmt = folder, fmt
        self.digests = _read_digests(folder)
        self.renderer = _renderer_digest(None)  # write_units renders without the home's files

    def link(self, code: str, view: ReportView | LazyView, name: str, target_folder: Path) -> bool:
        if WRITERS[name].document:  # write_units writes the quick outputs only
            return False
        source = self.folder / f"{code}{WRITERS[name].suffix}"
        if (
            self.digests.get(f"{code}|{name}") != _view_digest(self.renderer, self.fmt, view)
            or not source.is_file()
        ):
            return False
        link_atomic(source, target_folder / source.name)
        return True


class Beside:
    """Work of about `weight` units' reports that a step does besides writing the units'
    reports (the district report and the validation report): done here while a forked
    child renders the units that make the two halves about equal (pipeline/forked.py)."""

    def __init__(self, work: Callable[[], object], weight: int):
        self.work, self.weight = work, weight
        self.result: object = None

    def run(self, render: Callable[[dict], tuple[list[Path], list[str]]], todo: dict):
        from pipeline.forked import both

        codes = list(todo)
        share = min(len(codes), (len(codes) + self.weight + 1) // 2)
        child = {code: todo[code] for code in codes[:share]}
        mine = {code: todo[code] for code in codes[share:]}

        def here():
            return render(mine), self.work()

        if child:
            (rendered, warnings), ((more, found), self.result) = both(lambda: render(child), here)
        else:
            (more, found), self.result = here()
            rendered, warnings = [], []
        return rendered + more, warnings + found


def _write_set(
    folder: Path,
    fmt: ReportFormat,
    views: dict[str, ReportView | LazyView],
    writers: list[Writer],
    home_root: Path | None,
    *,
    workers: int = 1,
    current: Path | None = None,
    beside: Beside | None = None,
) -> tuple[list[Path], list[Path], list[str]]:
    """Each view's files `<code><suffix>` in `folder` for `writers`; returns (the paths, the
    paths rewritten, the writers' warnings).

    A file whose view, templates and render code are unchanged since it was written is
    not rendered again (digests per file in .render-digests.json). Files of other writers
    (a `--formats html,md` run after a full one) are kept while they are current and
    removed once their unit's report changed, so the folder never holds an outdated
    document; files of units no longer listed are removed.

    `current`: a folder of quick outputs written by `write_units` in this run; a file of
    it whose digest matches is linked rather than rendered again (the bundle's HTML is
    the same page as the report's)

    `beside`: other work of the step, done in this process while a forked child renders
    part of `todo` (pipeline/forked.py); its result is set on it."""
    renderer = _renderer_digest(home_root)
    digests, paths, todo = _plan(folder, {w.name for w in writers}, fmt, views, renderer)
    written = _link_current(folder, fmt, views, todo, current) if current is not None else []
    if beside is None:
        rendered, warnings = _render(folder, fmt, views, todo, home_root, workers)
    else:
        rendered, warnings = beside.run(
            lambda part: _render(folder, fmt, views, part, home_root, workers), todo
        )
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / DIGESTS, json.dumps(digests, sort_keys=True))
    _remove_unlisted(folder, views)
    return paths, written + rendered, warnings


def _plan(folder: Path, names: set[str], fmt: ReportFormat, views, renderer: str):
    """(the digests to record, the paths of `names`, {code: [writers to render]}); files of
    other writers are kept while current and removed once outdated."""
    previous = _read_digests(folder)
    digests: dict[str, str] = {}
    paths: list[Path] = []
    todo: dict[str, list[Writer]] = {}
    for code, view in views.items():
        digest = _view_digest(renderer, fmt, view)
        for writer in WRITERS.values():
            key, path = f"{code}|{writer.name}", folder / f"{code}{writer.suffix}"
            current = previous.get(key) == digest and path.exists()
            if writer.name in names:
                digests[key] = digest
                paths.append(path)
                if not current:
                    todo.setdefault(code, []).append(writer)
            elif current:
                digests[key] = digest  # another writer's file, still current: kept
            elif path.exists():
                path.unlink()  # another writer's file of a changed report: outdated
    return digests, paths, todo


def _link_current(folder: Path, fmt: ReportFormat, views, todo: dict[str, list[Writer]], current: Path):
    """Link the files `current` holds for the same view instead of rendering them (taken out of `todo`)."""
    reusable, linked = _Reusable(current, fmt), []
    for code, wanted in list(todo.items()):
        for writer in list(wanted):
            if reusable.link(code, views[code], writer.name, folder):
                wanted.remove(writer)
                linked.append(folder / f"{code}{writer.suffix}")
        if not wanted:
            del todo[code]
    return linked


def _render(folder: Path, fmt: ReportFormat, views, todo: dict[str, list[Writer]], home_root, workers: int):
    """Render and save `todo`; returns (the paths whose bytes changed, the writers' warnings)."""
    written: list[Path] = []
    warnings: list[str] = []

    def save(code: str, data: dict[str, bytes]) -> None:
        for name, blob in data.items():
            path = folder / f"{code}{WRITERS[name].suffix}"
            if not (path.exists() and path.stat().st_size == len(blob) and path.read_bytes() == blob):
                write_atomic(path, blob)
                written.append(path)

    if workers > 1 and len(todo) >= 2 * workers:
        # Documents are CPU-bound (WeasyPrint, zip): separate processes pay on 2+ cores.
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            jobs = {
                code: pool.submit(_render_unit, fmt, home_root, wanted, resolve(views[code]))
                for code, wanted in todo.items()
            }
            for code, job in jobs.items():
                data, found = job.result()
                save(code, data)
                warnings += found
    else:
        ctx = RenderContext(fmt, home_root)
        for code, wanted in todo.items():
            view = resolve(views[code])
            save(code, {w.name: w.render(view, ctx) for w in wanted})
        warnings += ctx.warnings
    return written, warnings


def _remove_unlisted(folder: Path, views) -> None:
    """Files of units no longer listed (any writer's) are removed."""
    suffixes = {w.suffix for w in WRITERS.values()}
    listed = {f"{code}{suffix}" for code in views for suffix in suffixes}
    for stale in folder.iterdir():
        if stale.name not in listed and stale.suffix in suffixes:
            stale.unlink()


def write_units(
    out: Path,
    fmt: ReportFormat,
    views: dict[str, ReportView | LazyView],
    formats=None,
    beside: Beside | None = None,
) -> list[Path]:
    """Each unit's files of the quick writers of `formats` (default: every one; html and md).
    A unit whose view and templates are unchanged since the last run is not rendered again
    (a re-run after one file changed stays cheap). `beside`: the step's other work, done
    meanwhile (its result on `beside.result`)."""
    paths, _, _ = _write_set(out / "units", fmt, views, quick(_chosen(formats)), None, beside=beside)
    return paths


def document_workers() -> int:
    """Processes for unit documents: NIANBAO_DOCUMENT_WORKERS, else one per core."""
    return max(1, int(os.environ.get("NIANBAO_DOCUMENT_WORKERS") or os.cpu_count() or 1))


def write_publication(
    out: Path,
    fmt: ReportFormat,
    district: ReportView,
    units: dict[str, ReportView | LazyView],
    home_root: Path | None,
    formats=None,
    unit_documents: bool = False,
) -> dict:
    """The publication bundle reports/<year>/publish/: report.html|.docx|.pdf and
    units/<code>.html; the units' .docx|.pdf too with `unit_documents` (otherwise a
    unit's document made on demand is kept while current, removed once outdated).
    Returns the paths written and kept, and the writers' warnings."""
    writers = bundled(_chosen(formats))
    if "pdf" in {w.name for w in writers}:
        require_fonts(home_root)  # before anything is written: no PDF in empty boxes
    folder = out / PUBLISH
    district_paths, district_written, warnings = _write_set(
        folder, fmt, {"report": district}, writers, home_root
    )
    unit_writers = writers if unit_documents else [w for w in writers if not w.document]
    unit_paths, unit_written, unit_warnings = _write_set(
        folder / "units",
        fmt,
        units,
        unit_writers,
        home_root,
        workers=document_workers(),
        current=out / "units",
    )
    return {
        "district": district_paths,
        "units": unit_paths,
        "written": district_written + unit_written,
        "warnings": warnings + unit_warnings,
    }


def listing(out: Path, formats=None, unit_documents: bool = False) -> list[str]:
    """The lines `nianbao build` prints for the files the writers of `formats` (None: every
    one) wrote under `out` (reports/<year>/), in the registry's order."""
    chosen = _chosen(formats)
    pages = [w.suffix for w in quick(chosen)]
    lines = [f"  {out / name}" for name in [*(f"report{s}" for s in pages), "validation.html", "status.csv"]]
    if pages:
        lines.append(f"  {out / 'units'}/<单位代码>{'|'.join(pages)}")
    bundle = bundled(chosen)
    if not bundle:
        return lines
    lines.append("发布包（上传到政府信息公开年报栏目）：")
    lines += [f"  {out / PUBLISH / ('report' + w.suffix)}" for w in bundle]
    unit_suffixes = [w.suffix for w in bundle if unit_documents or not w.document]
    if unit_suffixes:
        lines.append(f"  {out / PUBLISH / 'units'}/<单位代码>{'|'.join(unit_suffixes)}")
    if not unit_documents and len(unit_suffixes) < len(bundle):
        kinds = "/".join(w.label or w.name for w in bundle if w.document)
        lines.append(f"  各单位的 {kinds} 在报送门户下载时生成；要一次全部生成，请加 --unit-documents")
    return lines


def write_unit_document(
    out: Path, fmt: ReportFormat, code: str, view: ReportView | LazyView, name: str, home_root: Path | None
) -> Path:
    """publish/units/<code><suffix> of one unit through the writer `name`, rendered unless
    current, and recorded in the folder's digests so that builds keep it while it is.
    The caller holds the year's build lock (builds rewrite the digests too)."""
    folder = out / PUBLISH / "units"
    path = folder / f"{code}{WRITERS[name].suffix}"
    digests = _read_digests(folder)
    key, digest = f"{code}|{name}", _view_digest(_renderer_digest(home_root), fmt, view)
    if digests.get(key) == digest and path.is_file():
        return path
    write_atomic(path, WRITERS[name].render(resolve(view), RenderContext(fmt, home_root)))
    digests[key] = digest
    write_atomic(folder / DIGESTS, json.dumps(digests, sort_keys=True))
    return path


def write_status(out: Path, status: pd.DataFrame) -> Path:
    """unit,status,errors,warnings as tools read them, then the unit's name and the Chinese status word."""
    frame = status[STATUS_COLUMNS].copy()
    frame["name"] = status["name"]
    origins = status["origin"] if "origin" in status.columns else [""] * len(status)
    frame["status_text"] = [status_text(s, o) for s, o in zip(status["status"], origins)]
    # With a UTF-8 BOM: Excel, where the office opens it, reads the Chinese columns right.
    return write_if_changed(out / "status.csv", frame_csv(frame).encode("utf-8-sig"))


def write_validation(
    out: Path,
    *,
    district: str,
    year: int,
    fmt: ReportFormat,
    status: pd.DataFrame,
    messages: list[Message],
    versions: dict[str, tuple[str, str]],
) -> Path:
    """versions: unit -> (sha256, received_at) of the file in use."""
    by_unit: dict[str, list[Message]] = {}
    other = []
    for m in messages:
        if m.unit:
            by_unit.setdefault(m.unit, []).append(m)
        else:
            other.append(m)
    units = [
        {
            "code": r.unit, "name": r.name, "status": r.status, "file": r.file, "errors": r.errors,
            "status_text": status_text(r.status, getattr(r, "origin", "")),
            "warnings": r.warnings, "messages": by_unit.get(r.unit, []),
            "version": (f"版本 {versions[r.unit][0][:12]}，接收于 {beijing_time(versions[r.unit][1])}"
                        if r.unit in versions else ""),
        }
        for r in status.itertuples()
    ]  # fmt: skip
    counts = {
        "expected": len(status),
        **{s: int((status["status"] == s).sum()) for s in STATUS_TEXT},
        "errors": sum(m.severity == "ERROR" for m in messages),
        "warnings": sum(m.severity == "WARNING" for m in messages),
    }
    left_out = {s: status[status["status"] == s]["name"].tolist() for s in ("rejected", "missing")}
    html = (
        environment()
        .get_template("shared/validation.html.j2")
        .render(
            district=district, year=year, format_name=fmt.name, units=units, counts=counts,
            status_text=STATUS_TEXT, other_messages=other, left_out=left_out,
        )
    )  # fmt: skip
    return write_if_changed(out / "validation.html", html)
