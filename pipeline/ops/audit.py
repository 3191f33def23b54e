"""`nianbao audit`: the folder's reports put into audit/<year>/, then the audit job run
through Dagster on the home's instance with the multiprocess executor (one process
per core reads the files; pipeline/defs/assets/audit.py)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.defs.runs import QUIET_DAGSTER, step_failures
from pipeline.steps.audit import MAX_FILES, audit_files
from pipeline.steps.inbox import regular_file_problem

# Step processes start from a server that has already imported these (forkserver): each
# step then pays for its own reading only, not for importing Dagster and the readers.
PRELOAD = ["pipeline.defs.definitions", "pipeline.steps.audit", "pipeline.ingest.published.files",
           "pdfplumber", "docx", "lxml.html"]  # fmt: skip


@dataclass(frozen=True)
class AuditResult:
    success: bool
    failures: list[str]
    bodies: pd.DataFrame | None


def gather(home, year: int, folder: Path) -> tuple[int, int]:
    """Copy the regular, visible files of `folder` into audit/<year>/ (same names replaced;
    files already there stay). Returns (files copied, files now to audit)."""
    target = home.audit_dir(year)
    if folder.resolve() == target.resolve():
        return 0, len(audit_files(home, year))
    files = sorted(
        p for p in folder.iterdir() if not p.name.startswith(".") and regular_file_problem(p) is None
    )
    if len(files) > MAX_FILES:
        raise ValueError(f"目录中有 {len(files)} 个文件，超过一次审查 {MAX_FILES} 份的上限")
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, target / path.name)
    return len(files), len(audit_files(home, year))


def run_config(workers: int | None = None) -> dict:
    execution = {"max_concurrent": workers or os.cpu_count() or 1,
                 "start_method": {"forkserver": {"preload_modules": PRELOAD}}}  # fmt: skip
    return {**QUIET_DAGSTER, "execution": {"config": execution}}


def run_audit(home, year: int, workers: int | None = None) -> AuditResult:
    """The audit job for `year` on the home's instance (recorded: the UI shows the run)."""
    from dagster import execute_job, reconstructable

    from pipeline.defs.assets.audit import bodies_path
    from pipeline.defs.definitions import audit_job
    from pipeline.ops.instance import open_instance
    from pipeline.tabular import read_frame

    os.environ["NIANBAO_HOME"] = str(home.root)  # the step processes find the home here
    with open_instance(home) as instance:
        result = execute_job(
            reconstructable(audit_job),
            instance=instance,
            run_config=run_config(workers),
            tags={"dagster/partition": str(year), "nianbao/started_by": "cli"},
        )
        if not result.success:
            return AuditResult(False, step_failures(result.all_events) or ["审查任务失败"], None)
    bodies = read_frame(bodies_path(home, year)).astype({"errors": int, "warnings": int})
    return AuditResult(True, [], bodies)
