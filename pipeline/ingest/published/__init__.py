"""Readers of reports as governments publish them (issue 17): HTML pages, Word
documents and PDF files, one shared core (core.py) placing printed cells."""

from pipeline.ingest.published.core import (
    MAX_TABLE_SLOTS,
    Place,
    Provenance,
    PublishedCell,
    PublishedRefused,
    PublishedReport,
    Unread,
)
from pipeline.ingest.published.html import MAX_BYTES, read_html

__all__ = [
    "MAX_BYTES",
    "MAX_TABLE_SLOTS",
    "Place",
    "Provenance",
    "PublishedCell",
    "PublishedRefused",
    "PublishedReport",
    "Unread",
    "read_html",
]
