"""Dagster entry point. Loading is lazy: importing this module parses no dbt and opens no database."""

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    from pipelines.build import build_definitions

    return build_definitions()
