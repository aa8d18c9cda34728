"""History asset: freeze each closed month's aging and KPIs after the marts are built."""

import dagster as dg

from pipelines.resources import HuikuanResource


@dg.asset(
    name="month_end_history",
    key_prefix="history",
    group_name="history",
    deps=[dg.AssetKey(["marts", "ar_aging_monthly"]), dg.AssetKey(["marts", "kpi_monthly"])],
    kinds={"duckdb"},
    description="Month-end aging and KPI snapshots, frozen once per closed month and kept forever.",
)
def month_end_history(huikuan: HuikuanResource):
    import duckdb

    from huikuan.history import freeze_month_ends

    settings = huikuan.settings()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        added = freeze_month_ends(con, settings.as_of)
        months = con.execute("SELECT count(DISTINCT month_end) FROM history.kpi_month_end").fetchone()[0]
    return dg.MaterializeResult(metadata={**{f"rows_added_{k}": v for k, v in added.items()},
                                          "months_kept": months})
