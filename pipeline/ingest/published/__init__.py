"""Readers of reports as governments publish them (issue 17): an HTML page today."""

from pipeline.ingest.published.html import (
    MAX_BYTES,
    MAX_TABLE_SLOTS,
    Provenance,
    PublishedCell,
    PublishedRefused,
    PublishedReport,
    Unread,
    read_html,
)

__all__ = [
    "MAX_BYTES",
    "MAX_TABLE_SLOTS",
    "Provenance",
    "PublishedCell",
    "PublishedRefused",
    "PublishedReport",
    "Unread",
    "read_html",
]
