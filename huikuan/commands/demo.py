"""`huikuan demo`: generate demo extracts, run the daily job on them, and serve the dashboard."""

from __future__ import annotations

import os
import shutil
from datetime import date

HELP = "generate demo data into the landing folder, run the pipeline, and serve the dashboard"


def add_arguments(p) -> None:
    p.add_argument("--home", help="data directory (default: $HUIKUAN_HOME, else ./data)")
    p.add_argument("--invoices", type=int, default=5000, help="size of the generated demo company")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--no-serve", action="store_true", help="stop after publishing; do not serve")


def stage_demo_data(invoices: int, seed: int) -> int:
    """Generate demo extracts (once) and copy them into the landing folder; returns files staged."""
    from huikuan.generate import generate
    from huikuan.settings import load_settings

    settings = load_settings().ensure_dirs()
    out = settings.home / "generated"
    if not (out / "manifest.json").exists():
        print(f"Generating a demo company with {invoices:,} invoices into {out} ...")
        generate(out=out, invoices=invoices, seed=seed, as_of=date.today())
    staged = 0
    src_root = out / "landing"
    for src in sorted(src_root.rglob("*")):
        if src.is_file():
            dst = settings.landing_dir / src.relative_to(src_root)
            if not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
                staged += 1
    return staged


def run(args) -> int:
    if args.home:
        os.environ["HUIKUAN_HOME"] = args.home
    from huikuan.commands.dashboard import serve
    from huikuan.commands.run import run_job

    staged = stage_demo_data(args.invoices, args.seed)
    print(f"{staged} new files in the landing folder; running the daily job ...")
    if not run_job("daily_job"):
        print("The daily job failed; see the messages above.")
        return 1
    print("Published. Dagster UI: `make ui` (or `huikuan ui`) at http://localhost:3000")
    if args.no_serve:
        return 0
    return serve(args.port)
