"""The Spark target: the same dbt project builds and passes its tests on Spark, marts equal DuckDB's.

Generated extracts are ingested into DuckDB and built there; raw.* is then copied into a local
Spark (huikuan.spark) and `dbt build --target spark` runs on it. Every dashboard mart is compared
between the two engines by aggregate checksums: row count, per numeric column the sum of values
rounded to cents, per text or date column the number of distinct values, per boolean column the
number of true values. The incremental fct_ar_daily is checked against a full build on Spark too.
"""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from huikuan.dbt import run_dbt
from tests.conftest import AS_OF, IN_CI

pytestmark = [pytest.mark.slow, pytest.mark.spark]

MARTS = (
    "fct_invoice",
    "ar_aging",
    "kpi_monthly",
    "collections_worklist",
    "customer_credit",
    "project_receivables",
    "expected_credit_loss",
    "ml_invoice_features",
)
CENT = Decimal("0.01")
EARLIER = "2026-05-31"  # a month-end before AS_OF, for the incremental run


def _require_spark() -> None:
    from huikuan.spark import java_available

    missing = []
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        missing.append("pyspark / dbt-spark (pip install 'dbt-spark[session]' pyspark)")
    if not java_available():
        missing.append("java (apt-get install openjdk-17-jre-headless)")
    if missing:
        msg = "the Spark target needs " + " and ".join(missing)
        if IN_CI:
            pytest.fail(msg + " (CI=true: they must be installed)")
        pytest.skip(msg)


def _checksum_sql(table: str, columns: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """One query computing the checksums of `table` on either engine; returns it and its measures."""
    measures: list[tuple[str, str]] = [("rows", "count(*)")]
    for name, dtype in columns:
        dtype = dtype.lower()
        if dtype.startswith(("decimal", "numeric", "double", "float", "real", "integer", "bigint", "int")):
            measures.append((f"sum({name})", f"sum(round(cast({name} as decimal(38, 6)), 2))"))
        elif dtype.startswith("bool"):
            measures.append((f"true({name})", f"sum(case when {name} then 1 else 0 end)"))
        else:
            measures.append((f"distinct({name})", f"count(distinct {name})"))
    sql = "select " + ", ".join(expr for _, expr in measures) + f" from marts.{table}"
    return sql, measures


def _normalise(value):
    if value is None:
        return None
    if isinstance(value, (Decimal, float)):
        return Decimal(str(value)).quantize(CENT)
    return int(value)


@pytest.fixture(scope="module")
def built_duckdb(generated_small, tmp_path_factory) -> Path:
    from huikuan.ingest.load import ingest_paths

    work = tmp_path_factory.mktemp("spark_duckdb")
    wh = work / "warehouse.duckdb"
    landing = generated_small / "landing"
    assert ingest_paths([landing], wh, landing_root=landing), "ingestion loaded nothing"
    run_dbt(["build", "--quiet"], wh, target_path=work / "target", vars={"as_of_date": AS_OF.isoformat()})
    return wh


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    _require_spark()
    from huikuan.spark import spark_session

    session = spark_session(tmp_path_factory.mktemp("spark"))
    yield session
    session.stop()


def test_spark_build_matches_duckdb(spark, built_duckdb, tmp_path):
    from huikuan.spark import copy_raw_to_spark

    copied = copy_raw_to_spark(built_duckdb, spark, tmp_path / "raw_export")
    assert copied["invoices"] > 0 and copied["bank_transactions"] > 0

    # Models, seeds, data tests and unit tests, all on Spark; raises naming any failing node.
    result = run_dbt(
        ["build", "--quiet"],
        built_duckdb,
        target="spark",
        target_path=tmp_path / "target",
        vars={"as_of_date": AS_OF.isoformat()},
    )
    statuses = [str(r.status).split(".")[-1].lower() for r in result.result.results]
    assert statuses.count("pass") > 50, "the Spark build ran (almost) no tests"
    assert statuses.count("success") > 30, "the Spark build built (almost) no models"

    con = duckdb.connect(str(built_duckdb), read_only=True)
    try:
        mismatches = []
        for mart in MARTS:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [mart],
            ).fetchall()
            assert columns, f"marts.{mart} missing in DuckDB"
            spark_columns = {f.name for f in spark.table(f"marts.{mart}").schema.fields}
            assert spark_columns == {c for c, _ in columns}, f"{mart}: columns differ"
            sql, measures = _checksum_sql(mart, columns)
            duck = [_normalise(v) for v in con.execute(sql).fetchone()]
            spk = [_normalise(v) for v in spark.sql(sql).collect()[0]]
            assert duck[0] > 0, f"marts.{mart} is empty: nothing compared"
            for (label, _), a, b in zip(measures, duck, spk, strict=True):
                if a != b:
                    mismatches.append(f"{mart}.{label}: duckdb {a} spark {b}")
    finally:
        con.close()
    assert not mismatches, "marts differ between DuckDB and Spark:\n" + "\n".join(mismatches)

    # fct_ar_daily's Spark strategy (overwrite the month partitions of the lookback window): a
    # build a month earlier followed by an incremental build gives the rows of the full build.
    full = sorted(tuple(r) for r in spark.table("marts.fct_ar_daily").collect())
    assert full, "fct_ar_daily is empty on Spark"
    run = ["run", "--quiet", "-s", "fct_ar_daily"]
    target_path = tmp_path / "target"
    run_dbt(
        run + ["--full-refresh"],
        built_duckdb,
        target="spark",
        target_path=target_path,
        vars={"as_of_date": EARLIER},
    )
    (earlier_max,) = spark.sql("select max(balance_date) from marts.fct_ar_daily").collect()[0]
    assert earlier_max.isoformat() == EARLIER
    run_dbt(
        run, built_duckdb, target="spark", target_path=target_path, vars={"as_of_date": AS_OF.isoformat()}
    )
    incremental = sorted(tuple(r) for r in spark.table("marts.fct_ar_daily").collect())
    assert len(incremental) == len(full)
    assert incremental == full, "fct_ar_daily: the incremental Spark build differs from the full build"
