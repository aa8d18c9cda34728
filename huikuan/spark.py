"""Local Spark for the dbt `spark` target: one configured SparkSession and the raw tables copied in.

dbt-spark's `method: session` runs SQL on the SparkSession of the calling process
(`SparkSession.builder.getOrCreate()`), so the session has to exist, configured, before dbt runs:
`spark_session(workdir)` creates it with its warehouse directory and Derby metastore under
`workdir`, and `copy_raw_to_spark` makes every `raw.*` table of a DuckDB warehouse a Spark table in
the `raw` database, which is where the project's sources point on any target.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import duckdb

RAW_SCHEMA = "raw"


def java_available() -> bool:
    """Whether a `java` executable is reachable (JAVA_HOME or PATH): Spark needs a JVM."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def spark_conf(workdir: Path, *, master: str = "local[2]") -> dict[str, str]:
    """Settings of a small local Spark whose warehouse and metastore live under `workdir`.

    Few shuffle partitions and no UI: the default 200 partitions make every small aggregation
    slow on a laptop. Session time zone UTC so dates never shift. Parquet timestamps without a
    time zone (what DuckDB writes) are read as plain `timestamp`, the type the contracts declare.
    """
    workdir = Path(workdir).resolve()
    return {
        "spark.master": master,
        "spark.app.name": "huikuan-dbt",
        "spark.sql.warehouse.dir": str(workdir / "spark-warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={workdir / 'derby'}",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={workdir / 'metastore_db'};create=true",
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.hadoop.hive.exec.dynamic.partition.mode": "nonstrict",
        "spark.driver.memory": os.environ.get("HUIKUAN_SPARK_DRIVER_MEMORY", "1g"),
    }


def spark_session(workdir: Path, *, master: str = "local[2]") -> Any:
    """The process's SparkSession, created with `spark_conf(workdir)` (Hive catalog enabled).

    A session that already exists with another warehouse directory cannot be reconfigured (the
    setting is static), so that raises instead of silently writing elsewhere.
    """
    from pyspark.sql import SparkSession  # heavy import: only when Spark is used

    conf = spark_conf(workdir, master=master)
    Path(workdir).mkdir(parents=True, exist_ok=True)
    active = SparkSession.getActiveSession()
    if active is not None:
        current = active.conf.get("spark.sql.warehouse.dir")
        wanted = conf["spark.sql.warehouse.dir"]
        if current.removeprefix("file:") != wanted:
            raise RuntimeError(
                f"a SparkSession with warehouse {current} is already running in this process; "
                f"stop it before using {wanted}"
            )
        return active
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def ensure_spark_session(workdir: Path) -> Any:
    """The running SparkSession if there is one (whatever it was configured with), else a new one
    from `spark_session(workdir)`: what `huikuan.dbt.run_dbt(..., target="spark")` calls."""
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession() or spark_session(workdir)


def copy_raw_to_spark(
    warehouse: Path, spark: Any, export_dir: Path, *, schema: str = RAW_SCHEMA
) -> dict[str, int]:
    """Copy every table of `schema` in the DuckDB `warehouse` into Spark database `schema`.

    Each table is exported to parquet under `export_dir` and registered as an external parquet
    table (replacing one of the same name). Returns {table: rows}; the row counts are checked
    against Spark's, so a table that does not arrive whole raises.
    """
    export_dir = Path(export_dir).resolve()
    export_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables"
                " where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [schema],
            ).fetchall()
        ]
        if not tables:
            raise ValueError(f"{warehouse}: no tables in schema {schema!r} to copy to Spark")
        counts: dict[str, int] = {}
        for table in tables:
            target = export_dir / table
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            con.execute(f'copy "{schema}"."{table}" to \'{target / "part-0.parquet"}\' (format parquet)')
            (counts[table],) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
    finally:
        con.close()

    spark.sql(f"create database if not exists {schema}")
    for table, rows in counts.items():
        spark.sql(f"drop table if exists {schema}.{table}")
        spark.sql(f"create table {schema}.{table} using parquet location '{export_dir / table}'")
        got = spark.sql(f"select count(*) as n from {schema}.{table}").collect()[0]["n"]
        if got != rows:
            raise RuntimeError(f"{schema}.{table}: {rows} rows in DuckDB but {got} in Spark")
    return counts


__all__ = [
    "RAW_SCHEMA",
    "copy_raw_to_spark",
    "ensure_spark_session",
    "java_available",
    "spark_conf",
    "spark_session",
]
