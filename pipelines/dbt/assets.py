"""dbt models as assets. The manifest is read when definitions load, never when this module is imported."""


import os
from collections.abc import Mapping
from functools import cache
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from huikuan.settings import DBT_PROJECT_DIR
from pipelines.resources import HuikuanResource

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
        return spec.replace_attributes(group_name=group or "marts")


@cache
def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> None:
    """Parse the dbt project once if no manifest exists yet (at definitions load, never at import)."""
    project = dbt_project()
    if not project.manifest_path.exists():
        from huikuan.dbt import run_dbt
        from huikuan.settings import load_settings

        run_dbt(["parse"], load_settings().warehouse_path)


@cache
def build_dbt_assets() -> dg.AssetsDefinition:
    ensure_manifest()
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=HuikuanTranslator(),
        name="warehouse_models",
    )
    def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, huikuan: HuikuanResource):
        from huikuan.dbt import dbt_env

        os.environ.update(dbt_env(huikuan.settings().warehouse_path))
        yield from dbt.cli(["build"], context=context).stream()

    return warehouse_models


def dbt_resource() -> DbtCliResource:
    from huikuan.settings import load_settings

    return DbtCliResource(
        project_dir=dbt_project(), profiles_dir=str(DBT_PROJECT_DIR), target=load_settings().dbt_target
    )
