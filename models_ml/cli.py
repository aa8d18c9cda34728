"""`huikuan backtest`: rolling-origin backtest of the payment models and the cash forecast.

Sources: `--landing DIR` (a folder of extracts: ingest → dbt build → read the warehouse),
`--warehouse FILE` (an already built warehouse), `--extracts DIR` (read the ERP/invoicing CSVs
directly, no warehouse), `--public cassandra22` (the public dataset with its README protocol).
Prints the metrics table of the model and its baselines; `--json` prints one JSON object.
`--models-dir DIR` also trains the final model, registers it and promotes it if it is better.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

HELP = "Backtest the payment-date and default-risk models and the cash forecast (metrics table)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--landing", type=Path, help="folder of extracts: ingest, build the warehouse, backtest")
    src.add_argument("--warehouse", type=Path, help="an already built warehouse (DuckDB file)")
    src.add_argument("--extracts", type=Path, help="landing-layout folder read directly (erp/, invoicing/ CSVs)")
    src.add_argument("--public", choices=["cassandra22"], help="public dataset, with its published protocol")
    p.add_argument("--public-dir", type=Path, help="folder of the public dataset (default: ../shared/data/public/NAME)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--folds", type=int, default=4, help="rolling origins (default 4)")
    p.add_argument("--horizon-days", type=int, default=91, help="test window after each origin (default 91)")
    p.add_argument("--models-dir", type=Path, help="also train, register and promote-if-better into this registry")
    p.add_argument("--work-dir", type=Path, help="with --landing: where the warehouse is built (default: temporary)")


def _public_dir(args) -> Path:
    if args.public_dir:
        return args.public_dir
    from huikuan.settings import PROJECT_ROOT

    return PROJECT_ROOT.parent / "shared" / "data" / "public" / args.public


def _load_from_landing(landing: Path, work: Path, log) -> object:
    from huikuan.dbt import run_dbt
    from huikuan.ingest import ingest_paths
    from models_ml.data import history_from_warehouse

    warehouse = work / "warehouse.duckdb"
    # progress and dbt's log go to stderr: stdout carries only the table or the JSON object
    with contextlib.redirect_stdout(sys.stderr):
        results = ingest_paths([landing], warehouse, landing_root=landing)
        rejected = [r for r in results if r.status == "rejected"]
        log(f"ingested {len(results)} files into {warehouse} ({len(rejected)} rejected)")
        for r in rejected:
            log(f"  rejected {r.file}: {'; '.join(r.reasons)}")
        run_dbt(["build", "--quiet"], warehouse, target_path=work / "dbt_target")
    log("warehouse built (dbt build)")
    return history_from_warehouse(warehouse)


def run(args: argparse.Namespace) -> int:
    from models_ml.evaluate import metrics_table

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    if args.public:
        from models_ml.public import CASSANDRA_REFERENCE, cassandra_backtest

        folder = _public_dir(args)
        if not (folder / "trainData.csv").exists():
            print(f"error: {folder / 'trainData.csv'} not found (pass --public-dir)", file=sys.stderr)
            return 2
        result = cassandra_backtest(folder)
        out = {"dataset": args.public, "protocol": "sort by Created; last 20 % test; MAE days to pay",
               "reference_mae_days": CASSANDRA_REFERENCE, **result.summary()}  # fmt: skip
        if args.json:
            print(json.dumps(out, ensure_ascii=False, default=str))
        else:
            print(f"{args.public}: {out['protocol']}; train seconds {result.train_seconds}")
            print(metrics_table(result.metrics))
            print("README reference MAE (days): " + ", ".join(f"{k} {v}" for k, v in CASSANDRA_REFERENCE.items()))
        return 0

    from models_ml.data import history_from_extracts, history_from_warehouse
    from models_ml.pipeline import backtest_report, train_and_register

    with tempfile.TemporaryDirectory(prefix="huikuan-backtest-") as tmp:
        if args.landing:
            if not args.landing.is_dir():
                print(f"error: {args.landing} is not a folder", file=sys.stderr)
                return 2
            work = args.work_dir or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            load = _load_from_landing(args.landing, work, log)
        elif args.warehouse:
            load = history_from_warehouse(args.warehouse)
        else:
            load = history_from_extracts(args.extracts)
        log(f"{len(load.history)} invoices, outcomes observed until {load.observed_until.date()}, "
            f"left out: {load.excluded or 'none'}")  # fmt: skip
        report = backtest_report(load, n_folds=args.folds, horizon_days=args.horizon_days)
        out = {"n_invoices": len(load.history), "excluded": load.excluded, **report.to_dict()}
        if args.models_dir:
            reg, promoted, why = train_and_register(load, args.models_dir, report)
            out["registered"] = {"version": reg.version, "promoted": promoted, "reason": why, "path": str(reg.path)}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, default=str))
        return 0
    print(f"rolling-origin backtest: origins {', '.join(out['origins'])}, {out['horizon_days']} days each, "
          f"outcomes until {out['observed_until']}")  # fmt: skip
    print(metrics_table(out["metrics"]))
    for label in ("weekly", "monthly"):
        f = out["forecast"].get(label)
        if f:
            print(f"cash forecast {label}: WAPE model {f['wape_model']:.3f}, last-13-weeks {f['wape_naive_last_13_weeks']:.3f}, "
                  f"due-date schedule {f['wape_naive_due_date_schedule']:.3f}, 80 % interval coverage "
                  f"{f['interval_coverage']:.2f} ({f['n_origins']} as-of dates)")  # fmt: skip
        else:
            print(f"cash forecast {label}: history too short for a full horizon after an origin")
    if "registered" in out:
        r = out["registered"]
        print(f"registered {r['version']}: {'promoted' if r['promoted'] else 'not promoted'} ({r['reason']})")
    return 0
