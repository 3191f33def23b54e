"""What our jobs' in-process runs are told and what they say back, for every caller
that runs one (the CLI's build, the audit, the region's member builds, celery)."""

from __future__ import annotations

import re

# Dagster's own console stays quiet: the assets' progress lines are printed plainly
# by the "nianbao.progress" logger (pipeline/defs/assets/common.py).
QUIET_DAGSTER = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def step_failures(events) -> list[str]:
    """One "步骤 X 失败：…" line per failed step of a run's events."""
    out = []
    for event in events:
        if event.is_step_failure:
            # Dagster wraps the step's exception: the office's message is the innermost cause.
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            text = re.sub(r"^[\w.]+(Error|Exception|Failure): ", "", error.message.strip())
            out.append(f"步骤 {event.step_key} 失败：{text}")
    return out
