"""`huikuan reconcile`: match the warehouse's bank receipts to open invoices and print the match rates."""

from __future__ import annotations

import json

HELP = "match bank receipts to open invoices (people's decisions first) and print the match-rate summary"


def add_arguments(p) -> None:
    p.add_argument("--dry-run", action="store_true", help="do not write schema reconciliation, only report")
    p.add_argument("--learn", action="store_true",
                   help="first turn people's confirmed matches into payer aliases (operational store)")
    p.add_argument("--threshold", type=float, default=None, help="auto-apply confidence threshold (default 0.90)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def summary_lines(stats: dict) -> list[str]:
    """The match-rate summary a person reads: receipts, applied, proposed, unmatched by reason."""
    receipts = stats.get("receipts_considered", 0)
    auto = stats.get("matched_lines_auto", 0)
    manual = stats.get("matched_lines_manual", 0)
    review = stats.get("review_lines", 0)
    pct = (lambda n: f"{100.0 * n / receipts:5.1f} %") if receipts else (lambda n: "    -")
    lines = [
        f"bank lines            {stats.get('lines', 0):>10}",
        f"credits               {stats.get('credits', 0):>10}",
        f"receipts to match     {receipts:>10}",
        f"applied automatically {auto:>10}   {pct(auto)}",
        f"applied by people     {manual:>10}",
        f"left for review       {review:>10}   {pct(review)}",
    ]
    for key in sorted(stats):
        if key.startswith("unmatched_"):
            lines.append(f"  unmatched: {key[len('unmatched_'):]:<24} {stats[key]:>8}")
    return lines


def run(args) -> int:
    from huikuan.reconcile import ReconcileConfig, reconcile_warehouse
    from huikuan.settings import load_settings

    settings = load_settings()
    if not settings.warehouse_path.exists():
        raise SystemExit(f"{settings.warehouse_path} does not exist: run `huikuan ingest` (and `huikuan build`) first")
    config = ReconcileConfig() if args.threshold is None else ReconcileConfig(auto_threshold=args.threshold)
    result = reconcile_warehouse(settings.warehouse_path, settings.ops_path, config=config,
                                 write=not args.dry_run, learn=args.learn, since=settings.reconcile_since)
    if args.learn:
        print(f"learned {result.stats['aliases_learned']} payer aliases from confirmed matches")
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False, default=str))
    else:
        print("\n".join(summary_lines(result.summary())))
    return 0
