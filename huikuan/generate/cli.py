"""`huikuan generate`: write a realistic demo dataset (landing extracts + ground truth)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

HELP = "generate realistic ERP, invoicing and bank extracts plus ground truth (deterministic)"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"--as-of must be YYYY-MM-DD, got {text!r}") from None


def add_arguments(p) -> None:
    p.add_argument("--invoices", type=int, default=5000, help="number of invoices (default 5000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--out", required=True, help="output folder (landing/, truth/, manifest.json)")
    p.add_argument(
        "--as-of",
        dest="as_of",
        type=_date,
        default=None,
        help="as-of date YYYY-MM-DD (default today); fix it, with the seed, for byte-identical output",
    )


def run(args) -> int:
    from huikuan.generate import generate

    as_of = args.as_of or dt.date.today()
    started = time.perf_counter()
    stats = generate(out=Path(args.out), invoices=args.invoices, seed=args.seed, as_of=as_of)
    secs = time.perf_counter() - started
    c = stats["counts"]
    print(
        f"generated {c['invoices']:,} invoices, {c['customers']:,} customers, {c['contracts']:,} contracts, "
        f"{c['bank_lines']:,} bank lines ({c['receipts']:,} receipts) as of {stats['as_of']} "
        f"in {secs:.1f}s, {stats['bytes_written'] / 1e6:.1f} MB -> {args.out}"
    )
    print(
        f"noise floor (MAE of the best days-to-pay prediction): {stats['noise_floor_mae_days']} days; "
        f"oracle default AUC {stats['oracle_default_auc']}"
    )
    return 0
