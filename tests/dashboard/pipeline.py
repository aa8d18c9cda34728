"""Build a real instance for the dashboard tests and benchmark: generate → ingest → dbt → reconcile → publish."""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path


def build_instance(home: Path, generated: Path | None = None, *, invoices: int = 600, seed: int = 7,
                   as_of: date = date(2026, 6, 30)) -> dict[str, float]:
    """Fill `home` with a published warehouse built from generated extracts; returns seconds per step."""
    from huikuan.dbt import run_dbt
    from huikuan.ingest import ingest_paths
    from huikuan.publish import publish
    from huikuan.settings import load_settings

    os.environ.setdefault("DO_NOT_TRACK", "1")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    if generated is None:
        from huikuan.generate import generate

        generated = home.parent / "generated"
        generate(out=generated, invoices=invoices, seed=seed, as_of=as_of)
        timings["generate"] = time.perf_counter() - t
    settings = load_settings(home).ensure_dirs()
    landing = settings.landing_dir
    shutil.copytree(generated / "landing", landing, dirs_exist_ok=True)
    wh = settings.warehouse_path

    t = time.perf_counter()
    ingest_paths([landing], wh, landing_root=landing)
    timings["ingest"] = time.perf_counter() - t

    t = time.perf_counter()
    run_dbt(["build"], wh, target_path=home / "dbt" / "target", vars={"as_of_date": as_of.isoformat()})
    timings["dbt"] = time.perf_counter() - t

    t = time.perf_counter()
    try:
        from huikuan.reconcile.warehouse import reconcile_warehouse
    except ImportError:  # reconciliation is optional for the pages; they say when it is missing
        pass
    else:
        reconcile_warehouse(wh, settings.ops_path, write=True)
        timings["reconcile"] = time.perf_counter() - t

    t = time.perf_counter()
    publish(wh, settings.published_dir)
    timings["publish"] = time.perf_counter() - t
    return timings
