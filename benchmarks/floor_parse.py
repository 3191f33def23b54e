"""The floor: one process that imports the libraries nianbao uses and reads every
cell of the same files, nothing else: workbooks with openpyxl (read-only, cached
values), or with --csv the interchange CSV files with pandas.

    python benchmarks/floor_parse.py DIR [--import-only | --csv]
"""

import sys
import time

started = time.perf_counter()
import dagster  # noqa: E402,F401
import jinja2  # noqa: E402,F401
import openpyxl  # noqa: E402
import pandas  # noqa: E402,F401
import pandera.pandas  # noqa: E402,F401
import pyarrow  # noqa: E402,F401

if "--csv" in sys.argv:
    from pathlib import Path

    cells = sum(len(pandas.read_csv(p, dtype=str)) for p in sorted(Path(sys.argv[1]).rglob("*.csv")))
    print(f"cells={cells}", file=sys.stderr)
elif "--import-only" not in sys.argv:
    from pathlib import Path

    cells = 0
    for path in sorted(Path(sys.argv[1]).rglob("*.xlsx")):
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += sum(v is not None for v in row)
        wb.close()
    print(f"cells={cells}", file=sys.stderr)
