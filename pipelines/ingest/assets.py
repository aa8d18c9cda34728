"""Ingest assets: load every new landing file into the raw tables, with blocking row-accounting checks."""


import dagster as dg
import duckdb

from huikuan.contracts import CONTRACTS
from pipelines.resources import HuikuanResource

RAW_KEYS = [dg.AssetKey(["raw", entity]) for entity in CONTRACTS]

# (check, the asset it guards, description). Row accounting covers every file of every entity;
# it is attached to the invoice register, the table every mart starts from.
CHECKS = (
    ("row_accounting", "invoices", "rows in = rows loaded + rows quarantined, for every file"),
    ("bank_balances", "bank_statements", "opening + credits − debits = closing, where statements carry balances"),
    ("control_totals", "bank_statements", "entry counts match the file's own control totals"),
)
CHECK_ASSET = {name: entity for name, entity, _ in CHECKS}


def raw_asset_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", entity])


@dg.multi_asset(
    name="raw_extracts",
    group_name="ingest",
    specs=[
        dg.AssetSpec(raw_asset_key(e), description=c.description, kinds={"duckdb"}, skippable=True)
        for e, c in CONTRACTS.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(name, asset=raw_asset_key(entity), description=desc, blocking=True)
        for name, entity, desc in CHECKS
    ],
    can_subset=False,
)
def raw_extracts(context: dg.AssetExecutionContext, huikuan: HuikuanResource):
    """Load new files from the landing folder (each file once, by content hash) into raw.*."""
    from huikuan.ingest import ingest_paths
    from huikuan.ingest.checks import check_bank_balances, check_control_totals, check_row_accounting

    settings = huikuan.settings()
    results = ingest_paths(
        [settings.landing_dir],
        settings.warehouse_path,
        landing_root=settings.landing_dir,
        max_file_mb=settings.max_file_mb,
    )
    rejected = [r for r in results if r.status == "rejected"]
    if rejected:
        from huikuan.alerts import raise_alert

        lines = [f"{r.file}: {'; '.join(r.reasons)}" for r in rejected]
        for line in lines:
            context.log.error(f"rejected {line}")
        raise_alert(
            settings,
            f"huikuan: {len(rejected)} landing file(s) rejected",
            "These files were not loaded; every other file was.\n" + "\n".join(lines),
        )

    per_entity: dict[str, list] = {}
    for r in results:
        per_entity.setdefault(r.entity or "unknown", []).append(r)
    for entity in CONTRACTS:
        files = per_entity.get(entity, [])
        yield dg.MaterializeResult(
            asset_key=raw_asset_key(entity),
            metadata={
                "files_loaded": sum(r.status == "loaded" for r in files),
                "files_unchanged": sum(r.status == "unchanged" for r in files),
                "rows_loaded": sum(r.rows_loaded for r in files),
                "rows_quarantined": sum(r.rows_quarantined for r in files),
                # A rejected file fails only itself; the rest loads. It is surfaced on every raw asset.
                "rejected_files": dg.MetadataValue.json(
                    [{"file": r.file, "reasons": r.reasons} for r in rejected]
                ),
            },
        )

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        outcomes = {
            "row_accounting": check_row_accounting(con),
            "bank_balances": check_bank_balances(con),
            "control_totals": check_control_totals(con),
        }
    for name, failures in outcomes.items():
        yield dg.AssetCheckResult(
            check_name=name,
            asset_key=raw_asset_key(CHECK_ASSET[name]),
            passed=not failures,
            metadata={"failures": len(failures), "first_failures": dg.MetadataValue.json(failures[:20])},
        )
