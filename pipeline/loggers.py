"""A concise console logger: the office reads progress, not framework events."""

import logging
import sys

from dagster import logger


@logger(description="只输出 INFO 及以上的简短进度信息")
def progress_logger(_init_context) -> logging.Logger:
    log = logging.getLogger("nianbao")
    log.setLevel(logging.INFO)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
    log.propagate = False
    return log
