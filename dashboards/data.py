"""Queries for the dashboard: one read-only connection per query on the current published snapshot."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from huikuan.publish import current_snapshot
from huikuan.settings import load_settings


def snapshot_path() -> Path:
    """The snapshot to read now (raises NoSnapshotError when nothing is published)."""
    return current_snapshot(load_settings().published_dir)


def query(sql: str, params: list | None = None) -> pd.DataFrame:
    """Run one query on the current snapshot, cached per snapshot so a new publish refreshes it."""
    return _cached_query(str(snapshot_path()), sql, tuple(params or ()))


@st.cache_data(ttl=600, show_spinner=False)
def _cached_query(snapshot: str, sql: str, params: tuple) -> pd.DataFrame:
    with duckdb.connect(snapshot, read_only=True) as con:
        return con.execute(sql, list(params)).df()


AGING_BUCKETS_SQL = """
select bucket_key, bucket_label_en, bucket_label_zh, bucket_order,
       sum(open_amount_rpt) as amount, count(*) as invoices
from marts.ar_aging
where basis = ?
group by all
order by bucket_order
"""

AGING_TOTALS_SQL = """
select max(as_of_date) as as_of_date,
       sum(open_amount_rpt) as total_ar,
       sum(open_amount_rpt) filter (where bucket_key <> 'not_due') as overdue_ar,
       count(*) as open_invoices
from marts.ar_aging
where basis = ?
"""

AGING_TOP_CUSTOMERS_SQL = """
select customer_id, any_value(customer_name) as customer_name,
       sum(open_amount_rpt) as total_ar,
       sum(open_amount_rpt) filter (where bucket_key <> 'not_due') as overdue_ar
from marts.ar_aging
where basis = ?
group by customer_id
order by overdue_ar desc nulls last, customer_id
limit ?
"""


def aging_buckets(basis: str = "due_date") -> pd.DataFrame:
    return query(AGING_BUCKETS_SQL, [basis])


def aging_totals(basis: str = "due_date") -> dict:
    return query(AGING_TOTALS_SQL, [basis]).iloc[0].to_dict()


def aging_top_customers(basis: str = "due_date", limit: int = 10) -> pd.DataFrame:
    return query(AGING_TOP_CUSTOMERS_SQL, [basis, limit])
