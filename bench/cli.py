"""`huikuan bench NAME --invoices N`: run one benchmark and print its JSON result as the last line."""

from __future__ import annotations

import json
import pkgutil
from pathlib import Path

HELP = "run a benchmark (generate, ingest, warehouse, reconcile, ml, dashboard) and record the result"


def available() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name not in ("cli",))


def add_arguments(p) -> None:
    p.add_argument("name", help="benchmark name: one of " + ", ".join(available()))
    p.add_argument("--invoices", type=int, default=100_000, help="scale of the generated data")
    p.add_argument("--workdir", help="keep generated data and outputs here instead of a temp folder")
    p.add_argument("--warehouse", help="dashboard only: time the pages on this finished warehouse file "
                                       "(e.g. the warehouse benchmark's bench_wh/warehouse.duckdb) instead "
                                       "of building one; it is published by hard link, never written")
    p.add_argument("--ingested", help="dashboard only: build from this warehouse file that already holds the "
                                      "ingested extracts (e.g. the warehouse benchmark's ingested_N.duckdb; "
                                      "copied, never written): reconcile, dbt, ML scoring, publish")


def run(args) -> int:
    from bench import run_benchmark

    if args.name not in available():
        raise SystemExit(f"unknown benchmark {args.name!r}; available: {', '.join(available())}")
    options = {k: v for k, v in (("warehouse", args.warehouse), ("ingested", args.ingested)) if v}
    if options and args.name != "dashboard":
        raise SystemExit("--warehouse and --ingested apply to the dashboard benchmark only")
    if len(options) > 1:
        raise SystemExit("give --warehouse or --ingested, not both")
    result = run_benchmark(args.name, invoices=args.invoices, workdir=args.workdir, **options)
    print(json.dumps(result, ensure_ascii=False))
    return 0
