"""Benchmark `huikuan generate`: seconds and bytes for N invoices, against a pandas CSV baseline.

Baseline: `pandas.DataFrame.to_csv` of the generated invoices table alone (read back untimed), i.e.
what writing just one of the generator's files costs with the plain tool, measured in the same run.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd

from huikuan.generate import generate

AS_OF = dt.date(2026, 6, 30)


def run(invoices: int, workdir: Path, seed: int = 42) -> dict:
    out = workdir / "generated"
    started = time.perf_counter()
    stats = generate(out=out, invoices=invoices, seed=seed, as_of=AS_OF)
    seconds = time.perf_counter() - started

    table = pd.read_csv(out / "landing" / "invoicing" / "invoices.csv", dtype=str, keep_default_na=False)
    started = time.perf_counter()
    table.to_csv(workdir / "baseline_invoices.csv", index=False)
    baseline = time.perf_counter() - started
    return {
        "invoices": invoices,
        "seconds": round(seconds, 3),
        "bytes_written": stats["bytes_written"],
        "files": len(stats["files"]),
        "bank_lines": stats["counts"]["bank_lines"],
        "invoice_events": stats["counts"]["invoice_events"],
        "invoices_per_second": round(invoices / seconds, 1),
        "noise_floor_mae_days": stats["noise_floor_mae_days"],
        "baseline": "pandas.DataFrame.to_csv of the invoices table alone (same rows, same run)",
        "baseline_seconds": round(baseline, 3),
        "ratio_to_baseline": round(seconds / baseline, 3) if baseline > 0 else None,
        "seed": seed,
        "as_of": AS_OF.isoformat(),
    }
