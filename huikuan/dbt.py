"""Run dbt against one warehouse file: the single place that knows the project, profile and env.

Everything that builds the warehouse (CLI, Dagster, tests, benchmarks) goes through `run_dbt`, so
the project directory, profiles directory, tracking opt-out and warehouse path are set one way.
The Dagster layer points dagster-dbt's `DbtProject` / `DbtCliResource` at `DBT_PROJECT_DIR` with
`profiles_dir=DBT_PROFILES_DIR` and the environment from `dbt_env`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from huikuan.settings import DBT_PROJECT_DIR

DBT_PROFILES_DIR = DBT_PROJECT_DIR  # profiles.yml lives beside dbt_project.yml
DBT_TARGETS = ("duckdb", "spark")

# dbt reads env_var() from the process environment, so concurrent in-process runs must not
# interleave their environments.
_ENV_LOCK = threading.RLock()


class DbtRunError(RuntimeError):
    """A dbt command failed; the message names the failing nodes and their errors."""

    def __init__(self, message: str, failures: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.failures = failures or []


def dbt_env(warehouse: Path, *, target: str = "duckdb") -> dict[str, str]:
    """Environment variables a dbt run needs for `warehouse` (merge into os.environ or a subprocess)."""
    if target not in DBT_TARGETS:
        raise ValueError(f"unknown dbt target {target!r}; known: {', '.join(DBT_TARGETS)}")
    return {
        "HUIKUAN_WAREHOUSE": str(Path(warehouse).resolve()),
        "HUIKUAN_DBT_TARGET": target,
        "DBT_PROFILES_DIR": str(DBT_PROFILES_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


@contextmanager
def _patched_environ(values: dict[str, str]) -> Iterator[None]:
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _release_duckdb() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open in this process after a run.

    Otherwise the warehouse file stays locked, and opening it read-only from the same process
    fails with "different configuration than existing connections".
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing held open here
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            env.close()


def _failures(result: Any) -> list[dict[str, str]]:
    """Failing nodes of a dbtRunnerResult: name, status and message."""
    failures: list[dict[str, str]] = []
    run_results = getattr(result, "result", None)
    for node_result in getattr(run_results, "results", None) or []:
        status = str(getattr(node_result, "status", "")).lower()
        if status.split(".")[-1] in ("error", "fail", "runtime error"):
            node = getattr(node_result, "node", None)
            failures.append(
                {
                    "node": getattr(node, "unique_id", None) or getattr(node, "name", "?"),
                    "status": status.split(".")[-1],
                    "message": (getattr(node_result, "message", None) or "").strip(),
                }
            )
    return failures


def run_dbt(
    args: list[str],
    warehouse: Path,
    *,
    target_path: Path | None = None,
    vars: dict | None = None,
    target: str = "duckdb",
    raise_on_failure: bool = True,
):
    """Run one dbt command (e.g. ["build"]) in-process against `warehouse`; return the dbtRunnerResult.

    `target_path` keeps artifacts (manifest, run_results, partial parse) apart from other runs;
    `vars` become `--vars` (e.g. {"as_of_date": "2026-06-30"}). With target="spark" dbt runs on the
    process's SparkSession (created under `warehouse`'s folder, `spark/`, unless one is running;
    see huikuan.spark, which also copies raw.* into it). Raises DbtRunError naming the
    failing nodes when the command does not succeed (unless raise_on_failure=False).
    """
    from dbt.cli.main import dbtRunner  # heavy import: only when dbt actually runs

    cli_args = list(args)
    cli_args += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROFILES_DIR)]
    cli_args += ["--target", target]
    if target_path is not None:
        target_path = Path(target_path)
        target_path.mkdir(parents=True, exist_ok=True)
        cli_args += ["--target-path", str(target_path), "--log-path", str(target_path / "logs")]
    if vars:
        cli_args += ["--vars", json.dumps(vars, default=str)]
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    if target == "spark":
        # dbt-spark's session method uses this process's SparkSession: make sure it is ours
        # (warehouse and metastore beside the warehouse file), not one with Spark's defaults.
        from huikuan.spark import ensure_spark_session

        ensure_spark_session(Path(warehouse).resolve().parent / "spark")
    with _patched_environ(dbt_env(warehouse, target=target)):
        try:
            result = dbtRunner().invoke(cli_args)
        finally:
            _release_duckdb()
    if raise_on_failure and not result.success:
        failures = _failures(result)
        if failures:
            detail = "\n".join(f"  {f['node']} [{f['status']}]: {f['message']}" for f in failures)
        else:
            detail = f"  {result.exception!r}" if result.exception else "  (no node-level failure recorded)"
        raise DbtRunError(f"dbt {' '.join(args)} failed for {warehouse}:\n{detail}", failures)
    return result


__all__ = ["DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "DbtRunError", "dbt_env", "run_dbt"]
