"""dbt models as assets. The manifest is read when definitions load, never when this module is imported."""


import fcntl
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from huikuan.settings import DBT_PROJECT_DIR, SEEDS_DIR
from pipelines.resources import HuikuanResource

# Models that read tables written by other asset groups (not dbt sources): declared so the graph
# orders them after their writers and lineage shows the edge.
READS_OUTSIDE_DBT = {
    "int_payment_allocations": [dg.AssetKey(["reconciliation", "matches"])],
    "collections_worklist": [dg.AssetKey(["ml", "invoice_predictions"])],
    "expected_credit_loss": [dg.AssetKey(["ml", "invoice_predictions"])],
}
# Marts that join the ML scores: a second dbt step, built after scoring.
ML_ENRICHED = "tag:ml_enriched"
# Models only the weekly retrain job builds (the ML feature mart: the product's models compute the
# same features in pandas), never the daily job; `dbt build` without a selection still builds them.
WEEKLY = "tag:weekly"
# What the daily warehouse run leaves out, its extra vars and arguments: the data tests on whole
# history tables check the last day's rows only (macros/data_test_window.sql), and the dbt unit
# tests (SQL logic on fixed inputs, unchanged by new data) do not run; full builds and CI run every
# test on every row. The warehouse benchmark's daily run uses all three.
DAILY_EXCLUDE = WEEKLY
DAILY_VARS = {"data_test_window_days": 1}
DAILY_ARGS = ("--exclude-resource-type", "unit_test")

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts", "ml": "ml"}


class HuikuanTranslator(DagsterDbtTranslator):
    """dbt sources point at the ingest assets that feed them; model folders become layer groups."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(key=dg.AssetKey([props["schema"], props["name"]]))
        fqn = props.get("fqn", [])
        group = next((LAYER_GROUPS[p] for p in fqn[1:-1] if p in LAYER_GROUPS), None)
        if props["resource_type"] == "seed":
            group = "seeds"
        spec = spec.replace_attributes(group_name=group or "marts")
        extra = READS_OUTSIDE_DBT.get(props["name"])
        return spec.merge_attributes(deps=extra) if extra else spec


@cache
def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def project_fingerprint() -> str:
    """Hash of everything dbt parses (models, macros, tests, seeds, project files)."""
    h = hashlib.sha256()
    roots = [DBT_PROJECT_DIR, SEEDS_DIR]
    for root in roots:
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).parts
            if p.is_file() and rel[0] not in ("target", "logs", "dbt_packages") and p.suffix in (
                ".sql", ".yml", ".yaml", ".csv", ".md",
            ):
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def ensure_manifest() -> None:
    """Parse the dbt project if its manifest is missing or stale (at definitions load, never at import)."""
    project = dbt_project()
    stamp = project.manifest_path.with_name("manifest.fingerprint")
    fingerprint = project_fingerprint()
    project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with open(project.manifest_path.with_name("manifest.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent loaders parse once
        if project.manifest_path.exists() and stamp.exists() and stamp.read_text() == fingerprint:
            return
        from huikuan.dbt import run_dbt
        from huikuan.settings import load_settings

        run_dbt(["parse"], load_settings().warehouse_path)
        stamp.write_text(fingerprint)


def _dbt_step(
    name: str,
    select: str = "fqn:*",
    exclude: str | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    extra_args: tuple[str, ...] = (),
) -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=HuikuanTranslator(),
        name=name,
        select=select,
        exclude=exclude,
    )
    def _models(context: dg.AssetExecutionContext, dbt: DbtCliResource, huikuan: HuikuanResource):
        from huikuan.dbt import dbt_env

        settings = huikuan.settings()
        os.environ.update(dbt_env(settings.warehouse_path, target=settings.dbt_target))
        dbt_vars = {"as_of_date": settings.as_of.isoformat(), **(extra_vars or {})}
        args = ["build", *extra_args, "--vars", json.dumps(dbt_vars)]
        # Run artifacts belong to the instance (one writer per instance), not to the source tree.
        yield from dbt.cli(args, context=context, target_path=settings.dbt_target_dir).stream()

    return _models


@cache
def build_dbt_assets() -> tuple[dg.AssetsDefinition, dg.AssetsDefinition, dg.AssetsDefinition]:
    """The daily warehouse models, the marts that join the ML scores (built after scoring), and the
    weekly models (built by the retrain job)."""
    ensure_manifest()
    return (
        _dbt_step("warehouse_models", exclude=f"{ML_ENRICHED} {DAILY_EXCLUDE}", extra_vars=DAILY_VARS,
                  extra_args=DAILY_ARGS),
        _dbt_step("ml_enriched_marts", select=ML_ENRICHED, exclude=DAILY_EXCLUDE, extra_vars=DAILY_VARS,
                  extra_args=DAILY_ARGS),
        _dbt_step("weekly_models", select=WEEKLY),
    )


def dbt_resource() -> DbtCliResource:
    from huikuan.settings import load_settings

    # The dbt installed beside this interpreter, whether or not the venv is on PATH.
    executable = Path(sys.executable).with_name("dbt")
    return DbtCliResource(
        project_dir=dbt_project(),
        profiles_dir=str(DBT_PROJECT_DIR),
        target=load_settings().dbt_target,
        dbt_executable=str(executable) if executable.exists() else "dbt",
    )
