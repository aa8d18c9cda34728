"""`huikuan ingest PATH...`: load files or folders into the warehouse and print a per-file summary."""

from __future__ import annotations

import json
from pathlib import Path

HELP = "Load ERP, invoicing and bank files (or folders) into the warehouse's raw tables."


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="+", type=Path, help="files or folders (searched recursively)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    p.add_argument("--home", default=None, help="instance folder (default: $HUIKUAN_HOME or ./data)")


def format_table(results) -> str:
    head = ("status", "format", "loaded", "quarantined", "balance", "file / reasons")
    lines = ["{:<10} {:<16} {:>8} {:>11} {:>7}  {}".format(*head)]
    for r in results:
        bal = {True: "ok", False: "FAIL", None: "-"}[r.balance_ok]
        lines.append(
            f"{r.status:<10} {r.format:<16} {r.rows_loaded:>8} {r.rows_quarantined:>11} {bal:>7}  {r.file}"
        )
        for reason in r.reasons:
            lines.append(" " * 59 + f"- {reason}")
    return "\n".join(lines)


def run(args) -> int:
    from huikuan.ingest import ingest_paths
    from huikuan.settings import load_settings

    settings = load_settings(args.home)
    results = ingest_paths(
        list(args.paths),
        settings.warehouse_path,
        landing_root=settings.landing_dir,
        max_file_mb=settings.max_file_mb,
    )
    if args.json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        print(format_table(results))
    return 1 if any(r.status == "rejected" for r in results) else 0
