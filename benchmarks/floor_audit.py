"""The audit's floor: one process that opens every report of DIR and extracts its
tables with the libraries alone — lxml (HTML: every cell's text of every table),
python-docx (Word: the document opened, then every cell's text of every table read
from its XML with lxml, as the reader does; python-docx's own row.cells is several
times slower and would flatter the audit), pdfplumber (PDF: extract_tables on every
page) — nothing else. --shard K/N takes every N-th file from the K-th.

    python benchmarks/floor_audit.py DIR [--shard 0/2]
"""

import sys
from pathlib import Path

import docx
import pdfplumber
from lxml import html

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
files = sorted(p for p in Path(sys.argv[1]).iterdir() if not p.name.startswith("."))
if "--shard" in sys.argv:
    k, n = map(int, sys.argv[sys.argv.index("--shard") + 1].split("/"))
    files = files[k::n]
cells = 0
for path in files:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                cells += sum(len(row) for table in page.extract_tables() for row in table)
    elif suffix == ".docx":
        body = docx.Document(path).element.body
        for tc in body.iter(f"{W}tc"):
            cells += len("".join(t.text or "" for t in tc.iter(f"{W}t"))) >= 0
    else:
        doc = html.document_fromstring(path.read_bytes())
        cells += sum(len(td.text_content()) >= 0 for td in doc.iter("td", "th"))
print(f"files={len(files)} cells={cells}", file=sys.stderr)
