"""Reconciliation asset: apply bank receipts to invoices (people's decisions first) before dbt builds."""

import dagster as dg

from pipelines.resources import HuikuanResource

TABLES = ("matches", "proposals", "unmatched")


def reconciliation_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["reconciliation", table])


@dg.multi_asset(
    name="reconciliation_results",
    group_name="reconciliation",
    specs=[
        dg.AssetSpec(
            reconciliation_key(t),
            deps=[dg.AssetKey(["raw", e]) for e in ("bank_transactions", "invoices", "customers")],
            kinds={"duckdb"},
            description={
                "matches": "Bank line × invoice applications with rule, confidence and evidence.",
                "proposals": "Suggested matches below the auto-apply threshold, for review.",
                "unmatched": "Bank lines left unapplied, with the reason.",
            }[t],
        )
        for t in TABLES
    ],
)
def reconciliation_results(context: dg.AssetExecutionContext, huikuan: HuikuanResource):
    """Learn payer aliases from people's confirmed matches, then match receipts to open items."""
    from huikuan.reconcile import reconcile_warehouse

    settings = huikuan.settings()
    result = reconcile_warehouse(settings.warehouse_path, settings.ops_path, write=True, learn=True,
                                 since=settings.reconcile_since)
    stats = {k: v for k, v in result.stats.items() if isinstance(v, (int, float, str))}
    for table in TABLES:
        yield dg.MaterializeResult(
            asset_key=reconciliation_key(table),
            metadata={"rows": len(getattr(result, table)), **(stats if table == "matches" else {})},
        )
