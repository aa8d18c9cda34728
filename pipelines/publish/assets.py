"""Publish asset: snapshot the finished warehouse for readers, only after every upstream check passed."""


from collections.abc import Sequence

import dagster as dg

from pipelines.resources import HuikuanResource


def build_publish_asset(upstream: Sequence[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    @dg.asset(name="published_warehouse", group_name="publish", deps=list(upstream), kinds={"duckdb"})
    def published_warehouse(context: dg.AssetExecutionContext, huikuan: HuikuanResource):
        """Atomically publish the build file as the dashboard's snapshot (last N kept)."""
        from huikuan.publish import publish

        settings = huikuan.settings()
        snap = publish(settings.warehouse_path, settings.published_dir, keep=settings.keep_snapshots)
        context.log.info(f"published {snap.path.name}")
        return dg.MaterializeResult(
            metadata={"snapshot": str(snap.path), "bytes": snap.path.stat().st_size}
        )

    return published_warehouse
