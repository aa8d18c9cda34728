"""Queries for the dashboard, on the current published snapshot through one held read-only connection.

Every function takes a `Scope`; a sales user's scope carries their salesperson_id and the filter is
applied in the SQL itself (rows of other salespeople never leave DuckDB), so no page, widget or URL
parameter can show them. Pages call only these functions; there is no SQL in the page files.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from huikuan.publish import current_snapshot
from huikuan.reconcile.engine import EXPLAINED
from huikuan.settings import load_settings

CACHE_TTL = 600


@dataclass(frozen=True)
class Scope:
    """Which rows a user may read: everything, or only one salesperson's customers and projects."""

    salesperson_id: str | None = None

    @property
    def restricted(self) -> bool:
        return self.salesperson_id is not None

    @classmethod
    def for_role(cls, role: str, salesperson_id: str | None) -> Scope:
        if role == "sales":
            if not salesperson_id:
                raise PermissionError("a sales user without a salesperson_id may see nothing")
            return cls(salesperson_id=salesperson_id)
        return cls()


EVERYTHING = Scope()


def snapshot_path() -> Path:
    """The snapshot to read now (raises NoSnapshotError when nothing is published)."""
    return current_snapshot(load_settings().published_dir)


def query(sql: str, params: list | None = None) -> pd.DataFrame:
    """Run one query on the current snapshot, cached per snapshot so a new publish refreshes it."""
    for attempt in range(3):
        snapshot = snapshot_path()
        try:
            return _cached_query(str(snapshot), sql, tuple(params or ()))
        except duckdb.IOException:
            # A publish pruned the snapshot between reading the pointer and opening it: read the
            # pointer again (it names a newer snapshot by then).
            if snapshot.exists() or attempt == 2:
                raise
    raise AssertionError("unreachable")


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=2000)
def _cached_query(snapshot: str, sql: str, params: tuple) -> pd.DataFrame:
    with _cursor(snapshot) as cursor:
        return cursor.execute(sql, list(params)).df()


# One read-only connection to the current snapshot serves every session, one cursor per query: the
# snapshot's metadata and the blocks a page reads are loaded once, not once per query. A newer
# snapshot retires it; a retired connection closes when its last running query ends (closing it
# closes its cursors). A publish prunes old snapshot files only, so a retired one can still be read.
class _Held:
    def __init__(self, snapshot: str):
        self.con = duckdb.connect(snapshot, read_only=True)
        try:
            self.con.execute(f"set memory_limit = '{load_settings().dashboard_memory}'")
        except BaseException:
            self.con.close()
            raise
        self.running = 0
        self.retired = False

    def release(self) -> None:
        """Called under _held_lock when a query ends or the connection is retired."""
        if self.retired and self.running == 0:
            self.con.close()


_held_lock = threading.Lock()
_held: dict[str, _Held] = {}


@contextmanager
def _cursor(snapshot: str) -> Iterator[duckdb.DuckDBPyConnection]:
    with _held_lock:
        held = _held.get(snapshot)
        if held is None:
            _retire_held()
            held = _held[snapshot] = _Held(snapshot)
        held.running += 1
        try:
            cursor = held.con.cursor()
        except BaseException:
            held.running -= 1
            raise
    try:
        yield cursor
    finally:
        cursor.close()
        with _held_lock:
            held.running -= 1
            held.release()


def _retire_held() -> None:
    for held in _held.values():
        held.retired = True
        held.release()
    _held.clear()


def clear_caches() -> None:
    """Forget cached query results and retire the held snapshot connection (tests, benchmarks)."""
    _cached_query.clear()
    _catalog.clear()
    with _held_lock:
        _retire_held()


# ---------------------------------------------------------------------------------------------
# What the snapshot holds: a page checks its tables and columns first and explains what is missing.


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def _catalog(snapshot: str) -> dict[str, frozenset[str]]:
    with _cursor(snapshot) as cursor:
        rows = cursor.execute(
            "select table_schema || '.' || table_name, column_name from information_schema.columns"
        ).fetchall()
    cat: dict[str, set[str]] = {}
    for table, column in rows:
        cat.setdefault(table, set()).add(column)
    return {k: frozenset(v) for k, v in cat.items()}


def catalog() -> dict[str, frozenset[str]]:
    """{schema.table: columns} of the current snapshot."""
    for attempt in range(3):
        snapshot = snapshot_path()
        try:
            return _catalog(str(snapshot))
        except duckdb.IOException:
            if snapshot.exists() or attempt == 2:
                raise
    raise AssertionError("unreachable")


def has(table: str, *columns: str) -> bool:
    cols = catalog().get(table)
    return cols is not None and set(columns) <= cols


def missing(requirements: dict[str, tuple[str, ...]]) -> list[str]:
    """Tables (or table.columns) a page needs that the snapshot does not have yet."""
    cat = catalog()
    out = []
    for table, columns in requirements.items():
        if table not in cat:
            out.append(table)
        else:
            out.extend(f"{table}.{c}" for c in columns if c not in cat[table])
    return out


# ---------------------------------------------------------------------------------------------
# Row-level scope: applied in SQL to every table a sales user reads.

_OWN_CUSTOMERS = "select customer_id from marts.dim_customer where salesperson_id = ?"


def scope_filter(scope: Scope, table: str, alias: str = "") -> tuple[str, list]:
    """` and ...` restricting `table` (aliased `alias`) to the scope's rows, and its parameters.

    A restricted scope keeps a row only if its salesperson (when the table has one) is the user's
    and its customer (when the table has one) is one of the user's customers; a table with neither
    column shows a restricted user nothing (fail closed).
    """
    if not scope.restricted:
        return "", []
    prefix = f"{alias}." if alias else ""
    cols = catalog().get(table, frozenset())
    clauses, params = [], []
    if "salesperson_id" in cols:
        clauses.append(f"{prefix}salesperson_id = ?")
        params.append(scope.salesperson_id)
    if "customer_id" in cols:
        clauses.append(f"{prefix}customer_id in ({_OWN_CUSTOMERS})")
        params.append(scope.salesperson_id)
    if not clauses:
        return " and false", []
    return " and " + " and ".join(clauses), params


# ---------------------------------------------------------------------------------------------
# Aging

AGING_TABLES = {"marts.ar_aging": ("as_of_date", "basis", "bucket_key", "open_amount_rpt")}
GROUPINGS = {
    "customer": ("customer_id", "customer_name"),
    "project": ("project_id", "project_id"),
    "region": ("region", "region"),
    "salesperson": ("salesperson_id", "salesperson_id"),
}


def aging_table(as_of: date | None) -> str:
    """ar_aging holds the current as-of date; ar_aging_monthly the month-end snapshots."""
    if as_of is None or not has("marts.ar_aging_monthly", "as_of_date", "basis"):
        return "marts.ar_aging"
    current = query("select max(as_of_date) as d from marts.ar_aging")["d"].iloc[0]
    return "marts.ar_aging" if pd.Timestamp(as_of) == pd.Timestamp(current) else "marts.ar_aging_monthly"


def aging_as_of_dates() -> list[date]:
    """The current as-of date first, then the kept month-end snapshots, newest first."""
    sql = "select distinct as_of_date from marts.ar_aging"
    if has("marts.ar_aging_monthly", "as_of_date", "basis"):
        sql += " union select distinct as_of_date from marts.ar_aging_monthly"
    df = query(f"select as_of_date from ({sql}) order by as_of_date desc")
    return [pd.Timestamp(d).date() for d in df["as_of_date"]]


def _aging_where(scope: Scope, basis: str, as_of: date | None) -> tuple[str, str, list]:
    table = aging_table(as_of)
    extra, params = scope_filter(scope, table)
    if as_of is None:
        cond = f"as_of_date = (select max(as_of_date) from {table})"
        return table, f"basis = ? and {cond}{extra}", [basis, *params]
    return table, f"basis = ? and as_of_date = ?{extra}", [basis, as_of, *params]


def aging_buckets(scope: Scope = EVERYTHING, basis: str = "due_date", as_of: date | None = None) -> pd.DataFrame:
    table, where, params = _aging_where(scope, basis, as_of)
    return query(
        f"""
        select bucket_key, any_value(bucket_label_en) as bucket_label_en,
               any_value(bucket_label_zh) as bucket_label_zh, bucket_order,
               sum(open_amount_rpt) as amount, count(*) as invoices
        from {table} where {where}
        group by bucket_key, bucket_order order by bucket_order
        """,
        params,
    )


def aging_totals(scope: Scope = EVERYTHING, basis: str = "due_date", as_of: date | None = None) -> dict:
    table, where, params = _aging_where(scope, basis, as_of)
    return query(
        f"""
        select max(as_of_date) as as_of_date,
               coalesce(sum(open_amount_rpt), 0) as total_ar,
               coalesce(sum(open_amount_rpt) filter (where bucket_key <> 'not_due'), 0) as overdue_ar,
               count(*) as open_invoices
        from {table} where {where}
        """,
        params,
    ).iloc[0].to_dict()


def aging_by_group(
    scope: Scope = EVERYTHING, basis: str = "due_date", as_of: date | None = None, group: str = "customer",
    limit: int = 15,
) -> pd.DataFrame:
    """Buckets per group member for the `limit` largest members (the rest summed as one '…' row)."""
    key, label = GROUPINGS[group]
    table, where, params = _aging_where(scope, basis, as_of)
    return query(
        f"""
        with rows as (
            select coalesce(cast({key} as varchar), '—') as group_key,
                   coalesce(cast({label} as varchar), cast({key} as varchar), '—') as group_label,
                   bucket_key, bucket_order, bucket_label_en, bucket_label_zh, open_amount_rpt
            from {table} where {where}
        ),
        ranked as (
            select group_key, row_number() over (order by sum(open_amount_rpt) desc, group_key) as rank
            from rows group by group_key
        ),
        labelled as (
            select case when rank <= $limit then group_key else '…' end as group_key,
                   case when rank <= $limit then group_label else '…' end as group_label,
                   least(rank, $limit + 1) as rank,
                   bucket_key, bucket_order, bucket_label_en, bucket_label_zh, open_amount_rpt
            from rows join ranked using (group_key)
        )
        select group_key, any_value(group_label) as group_label, min(rank) as rank,
               bucket_key, bucket_order, any_value(bucket_label_en) as bucket_label_en,
               any_value(bucket_label_zh) as bucket_label_zh,
               sum(open_amount_rpt) as amount, count(*) as invoices
        from labelled
        group by group_key, bucket_key, bucket_order
        order by rank, bucket_order
        """.replace("$limit", str(int(limit))),
        params,
    )


def aging_invoices(
    scope: Scope = EVERYTHING, basis: str = "due_date", as_of: date | None = None, group: str | None = None,
    group_key: str | None = None, bucket_key: str | None = None, limit: int = 500,
) -> pd.DataFrame:
    """The open invoices behind an aging cell, document currency beside the reporting amount."""
    table, where, params = _aging_where(scope, basis, as_of)
    if group and group_key is not None:
        where += f" and coalesce(cast({GROUPINGS[group][0]} as varchar), '—') = ?"
        params.append(group_key)
    if bucket_key:
        where += " and bucket_key = ?"
        params.append(bucket_key)
    return query(
        f"""
        select invoice_no, customer_id, customer_name, project_id, salesperson_id, region,
               bucket_key, bucket_label_en, bucket_label_zh, age_days,
               currency, open_amount, open_amount_rpt
        from {table} where {where}
        order by open_amount_rpt desc, invoice_no limit ?
        """,
        [*params, limit],
    )


def aging_top_customers(
    scope: Scope = EVERYTHING, basis: str = "due_date", limit: int = 10, as_of: date | None = None,
) -> pd.DataFrame:
    table, where, params = _aging_where(scope, basis, as_of)
    return query(
        f"""
        select customer_id, any_value(customer_name) as customer_name,
               sum(open_amount_rpt) as total_ar,
               coalesce(sum(open_amount_rpt) filter (where bucket_key <> 'not_due'), 0) as overdue_ar
        from {table} where {where}
        group by customer_id
        order by overdue_ar desc nulls last, customer_id
        limit ?
        """,
        [*params, limit],
    )


# ---------------------------------------------------------------------------------------------
# Overview: KPIs per month (kpi_monthly), company-wide or, for a sales user, their own row.

KPI_TABLES = {"marts.kpi_monthly": ("month_end", "dimension", "dimension_value", "countback_dso",
                                    "best_possible_dso", "average_days_delinquent", "cei_pct", "collected_rpt",
                                    "ending_ar_rpt", "overdue_ar_rpt", "credit_sales_rpt")}


def _kpi_dimension(scope: Scope) -> tuple[str, list]:
    if scope.restricted:
        return "dimension = 'salesperson' and dimension_value = ?", [scope.salesperson_id]
    return "dimension = 'company'", []


def kpi_trend(scope: Scope = EVERYTHING, months: int = 24) -> pd.DataFrame:
    """The last `months` month-ends of KPIs for the company (or the sales user's own figures)."""
    where, params = _kpi_dimension(scope)
    return query(
        f"""
        select month_end, countback_dso, best_possible_dso, average_days_delinquent, cei_pct, collected_rpt,
               ending_ar_rpt, overdue_ar_rpt, credit_sales_rpt
        from marts.kpi_monthly where {where}
        qualify row_number() over (order by month_end desc) <= ?
        order by month_end
        """,
        [*params, months],
    )


FORECAST_TABLES = {"ml.cash_forecast": ("granularity", "period_start", "period_end", "expected", "lo", "hi",
                                        "model_version")}


def forecast_periods(scope: Scope = EVERYTHING, granularity: str = "week") -> pd.DataFrame:
    """The latest cash forecast per week or month (company-wide: it is not split per salesperson)."""
    if scope.restricted:  # the forecast is a company figure; a sales user sees none of it
        return query("select null::date as period_start limit 0")
    return query(
        """
        select period_start, period_end, expected, lo, hi, model_version
        from ml.cash_forecast where granularity = ?
        order by period_start
        """,
        [granularity],
    )


def collected_by_period(scope: Scope = EVERYTHING, granularity: str = "week", since: date | None = None) -> pd.DataFrame:
    """Cash applied to invoices per week or month (fct_payment_application, reporting currency)."""
    if not has("marts.fct_payment_application", "applied_date", "applied_amount_rpt", "customer_id"):
        return pd.DataFrame({"period_start": pd.Series(dtype="datetime64[us]"), "collected": pd.Series(dtype=float)})
    extra, params = scope_filter(scope, "marts.fct_payment_application")
    unit = "week" if granularity == "week" else "month"
    return query(
        f"""
        select cast(date_trunc('{unit}', applied_date) as date) as period_start,
               sum(applied_amount_rpt) as collected
        from marts.fct_payment_application
        where applied_date >= ?{extra}
        group by 1 order by 1
        """,
        [since or date(1900, 1, 1), *params],
    )


def collected_between(scope: Scope, start: date, end: date) -> float | None:
    """Cash applied to invoices with applied_date in [start, end] (reporting currency)."""
    if not has("marts.fct_payment_application", "applied_date", "applied_amount_rpt", "customer_id"):
        return None
    extra, params = scope_filter(scope, "marts.fct_payment_application")
    df = query(
        f"""
        select coalesce(sum(applied_amount_rpt), 0) as collected
        from marts.fct_payment_application
        where applied_date between ? and ?{extra}
        """,
        [start, end, *params],
    )
    return float(df["collected"].iloc[0])


FORECAST_HISTORY_TABLES = {"ml.cash_forecast_history": ("as_of_date", "granularity", "period", "expected")}


def forecast_made(scope: Scope, made_on: date, weeks: int) -> tuple[date, float] | None:
    """What the forecast of `made_on` (or the latest one within the 7 days before) expected for its
    first `weeks` weeks: (the forecast's date, amount). Company-wide, so none for a sales user."""
    if scope.restricted or missing(FORECAST_HISTORY_TABLES):
        return None
    df = query(
        """
        select as_of_date, sum(expected) as expected
        from ml.cash_forecast_history
        where granularity = 'week' and period <= ?
          and as_of_date = (select max(as_of_date) from ml.cash_forecast_history
                            where as_of_date between ? and ?)
        group by as_of_date
        """,
        [weeks, made_on - timedelta(days=7), made_on],
    )
    if df.empty:
        return None
    return pd.Timestamp(df["as_of_date"].iloc[0]).date(), float(df["expected"].iloc[0])


def forecast_next_weeks(scope: Scope, weeks: int) -> float | None:
    """Receipts the current forecast expects over its first `weeks` weeks."""
    if scope.restricted or missing(FORECAST_TABLES):
        return None
    df = query(
        """
        select sum(expected) as expected from (
            select expected from ml.cash_forecast where granularity = 'week' order by period_start limit ?
        )
        """,
        [weeks],
    )
    value = df["expected"].iloc[0]
    return None if pd.isna(value) else float(value)


# ---------------------------------------------------------------------------------------------
# Collections worklist (promise-to-pay state joined from the operational store by the page)

WORKLIST_TABLES = {"marts.collections_worklist": (
    "priority_rank", "invoice_no", "customer_id", "customer_name", "project_id", "salesperson_id", "currency",
    "due_date", "days_overdue", "open_amount", "open_amount_rpt", "dunning_stage", "owner_role",
    "next_action_en", "next_action_zh", "is_disputed", "expected_loss_rpt", "predicted_pay_date",
    "probability_of_default")}


# Top factors behind each prediction, present once the ML scoring step has run: per kind, the
# column prefix and the unit of the effect; three factors each, `<prefix>_<i>` and `<prefix>_<i>_<unit>`.
FACTOR_KINDS = {"delay_factors": ("delay_factor", "days"), "risk_factors": ("risk_factor", "pp")}
WORKLIST_FACTORS = tuple(
    c for prefix, unit in FACTOR_KINDS.values() for i in (1, 2, 3) for c in (f"{prefix}_{i}", f"{prefix}_{i}_{unit}")
)


def _worklist_where(
    scope: Scope, stages: list[str] | None, customer_id: str | None, min_days_overdue: int | None,
) -> tuple[str, list]:
    extra, params = scope_filter(scope, "marts.collections_worklist")
    where = "true" + extra
    if stages:
        where += f" and dunning_stage in ({', '.join('?' for _ in stages)})"
        params += list(stages)
    if customer_id:
        where += " and customer_id = ?"
        params.append(customer_id)
    if min_days_overdue is not None:
        where += " and days_overdue >= ?"
        params.append(int(min_days_overdue))
    return where, params


def worklist(
    scope: Scope = EVERYTHING, *, stages: list[str] | None = None, customer_id: str | None = None,
    min_days_overdue: int | None = None, limit: int = 2000,
) -> pd.DataFrame:
    """The first `limit` open items in work order, filtered; the scope filter is part of the SQL."""
    where, params = _worklist_where(scope, stages, customer_id, min_days_overdue)
    factors = "".join(f", {c}" for c in WORKLIST_FACTORS) if has("marts.collections_worklist", *WORKLIST_FACTORS) else ""
    return query(
        f"""
        select priority_rank, invoice_no, customer_id, customer_name, project_id, salesperson_id,
               owner_role, dunning_stage, next_action_en, next_action_zh, due_date, days_overdue, currency,
               open_amount, open_amount_rpt, predicted_pay_date, probability_of_default, expected_loss_rpt,
               is_disputed{factors}
        from marts.collections_worklist where {where}
        order by priority_rank, invoice_no limit ?
        """,
        [*params, limit],
    )


def worklist_totals(
    scope: Scope = EVERYTHING, *, stages: list[str] | None = None, customer_id: str | None = None,
    min_days_overdue: int | None = None,
) -> dict:
    """Count and sums of every item the filters select (not only the rows shown)."""
    where, params = _worklist_where(scope, stages, customer_id, min_days_overdue)
    return query(
        f"""
        select count(*) as items, coalesce(sum(open_amount_rpt), 0) as open_amount_rpt,
               coalesce(sum(expected_loss_rpt), 0) as expected_loss_rpt
        from marts.collections_worklist where {where}
        """,
        params,
    ).iloc[0].to_dict()


def worklist_options(scope: Scope = EVERYTHING, search: str | None = None, limit: int | None = None) -> dict[str, list]:
    """Filter choices within the scope: the stages, and the customers with open items (all, or those
    matching `search` as in `customers`), the first `limit` by name."""
    extra, params = scope_filter(scope, "marts.collections_worklist")
    stages = query(
        f"select distinct dunning_stage from marts.collections_worklist where true{extra} order by 1", params
    )
    match, match_params = _customer_match(search)
    sql = f"""select distinct customer_id, customer_name from marts.collections_worklist where true{extra}{match}
              order by customer_name, customer_id"""
    params = [*params, *match_params]
    if limit is not None:
        sql += " limit ?"
        params.append(int(limit))
    customers = query(sql, params)
    return {
        "stages": [s for s in stages["dunning_stage"] if s is not None],
        "customers": list(customers.itertuples(index=False, name=None)),
    }


def with_promise_state(items: pd.DataFrame, promises: pd.DataFrame, today: date) -> pd.DataFrame:
    """Add the latest promise to pay per invoice and its state: none, open (date not passed) or broken.

    Worklist items are unpaid by definition, so a promise whose date has passed was broken.
    """
    out = items.copy()
    if promises.empty:
        out["promised_date"] = pd.NaT
        out["promise_state"] = "none"
        return out
    latest = promises.sort_values(["recorded_at", "promise_id"]).groupby("invoice_no").tail(1)
    latest = latest[["invoice_no", "promised_date"]].assign(promised_date=lambda d: pd.to_datetime(d["promised_date"]))
    out = out.merge(latest, on="invoice_no", how="left")
    state = pd.Series("none", index=out.index)
    has = out["promised_date"].notna()
    state[has & (out["promised_date"].dt.date >= today)] = "open"
    state[has & (out["promised_date"].dt.date < today)] = "broken"
    out["promise_state"] = state
    return out


def invoice_in_scope(scope: Scope, invoice_no: str) -> bool:
    """Whether this user may act on `invoice_no` (actions check it again, server-side)."""
    extra, params = scope_filter(scope, "marts.fct_invoice")
    df = query(f"select count(*) as n from marts.fct_invoice where invoice_no = ?{extra}", [invoice_no, *params])
    return bool(df["n"].iloc[0])


# ---------------------------------------------------------------------------------------------
# Customers and credit

CREDIT_TABLES = {"marts.customer_credit": (
    "customer_id", "customer_name", "salesperson_id", "rating", "previous_rating", "weighted_days_late",
    "late_share", "consecutive_late_payments", "credit_limit_rpt", "open_ar_rpt", "overdue_ar_rpt",
    "credit_utilization", "is_utilization_alert", "is_consecutive_late_alert", "is_downgrade_alert", "has_alert")}


def credit_overview(scope: Scope = EVERYTHING, limit: int = 1000) -> pd.DataFrame:
    """Customers by open AR, largest first (the first `limit`; totals come from credit_summary)."""
    extra, params = scope_filter(scope, "marts.customer_credit")
    return query(
        f"""
        select customer_id, customer_name, salesperson_id, rating, previous_rating, weighted_days_late,
               late_share, consecutive_late_payments, credit_limit_rpt, open_ar_rpt, overdue_ar_rpt,
               credit_utilization, is_utilization_alert, is_consecutive_late_alert, is_downgrade_alert, has_alert
        from marts.customer_credit where true{extra}
        order by open_ar_rpt desc nulls last, customer_id limit ?
        """,
        [*params, limit],
    )


def credit_summary(scope: Scope = EVERYTHING) -> pd.DataFrame:
    """Per rating: customers, customers with alerts, open AR (all customers in the scope)."""
    extra, params = scope_filter(scope, "marts.customer_credit")
    return query(
        f"""
        select coalesce(rating, '—') as rating, count(*) as customers,
               count(*) filter (where has_alert) as alerts, coalesce(sum(open_ar_rpt), 0) as open_ar
        from marts.customer_credit where true{extra}
        group by 1 order by 1
        """,
        params,
    )


PICKER_LIMIT = 500  # customers listed in a picker: 250,000 help nobody and cost a second per render


def _customer_match(search: str | None) -> tuple[str, list]:
    """` and ...` keeping customers whose name contains `search` or whose ID starts with it
    (case-insensitive, wildcards taken literally), and its parameters; nothing when `search` is blank."""
    if not search or not search.strip():
        return "", []
    term = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return (" and (customer_name ilike ? escape '\\' or customer_id ilike ? escape '\\')",
            [f"%{term}%", f"{term}%"])


def customers(scope: Scope = EVERYTHING, search: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Customers this user may see, for pickers: all, or those whose name contains `search` or
    whose ID starts with it (case-insensitive), the first `limit` by name."""
    extra, params = scope_filter(scope, "marts.dim_customer")
    match, match_params = _customer_match(search)
    where = "true" + extra + match
    params = [*params, *match_params]
    sql = (f"select customer_id, customer_name, region, salesperson_id from marts.dim_customer "
           f"where {where} order by customer_name, customer_id")
    if limit is not None:
        sql += " limit ?"
        params = [*params, int(limit)]
    return query(sql, params)


def customer_detail(scope: Scope, customer_id: str) -> dict | None:
    """The customer master row, or None when it does not exist or is outside the scope."""
    extra, params = scope_filter(scope, "marts.dim_customer")
    df = query(f"select * from marts.dim_customer where customer_id = ?{extra}", [customer_id, *params])
    return None if df.empty else df.iloc[0].to_dict()


def customer_invoices(scope: Scope, customer_id: str, limit: int = 500) -> pd.DataFrame:
    extra, params = scope_filter(scope, "marts.fct_invoice")
    return query(
        f"""
        select invoice_no, invoice_type, project_id, issue_date, due_date, currency, gross_amount,
               gross_amount_rpt, paid_amount, open_amount, open_amount_rpt, settled_date, days_late, status,
               is_disputed
        from marts.fct_invoice where customer_id = ?{extra}
        order by issue_date desc, invoice_no limit ?
        """,
        [customer_id, *params, limit],
    )


def customer_history(scope: Scope, customer_id: str) -> pd.DataFrame:
    """Open AR, billed and collected per month for one customer (kpi_monthly's customer rows)."""
    if scope.restricted and customer_detail(scope, customer_id) is None:
        return pd.DataFrame()
    return query(
        """
        select month_end, ending_ar_rpt, credit_sales_rpt, collected_rpt
        from marts.kpi_monthly where dimension = 'customer' and dimension_value = ?
        order by month_end
        """,
        [customer_id],
    )


def customer_payments(scope: Scope, customer_id: str) -> pd.DataFrame:
    """Cash applied to this customer's invoices, newest first, in document and reporting currency."""
    if not has("marts.fct_payment_application", "customer_id", "applied_date"):
        return pd.DataFrame()
    extra, params = scope_filter(scope, "marts.fct_payment_application")
    return query(
        f"""
        select applied_date, bank_txn_key, invoice_no, application_method, confidence, currency, applied_amount,
               applied_amount_rpt
        from marts.fct_payment_application where customer_id = ?{extra}
        order by applied_date desc, invoice_no limit 500
        """,
        [customer_id, *params],
    )


def customer_predictions(scope: Scope, customer_id: str) -> pd.DataFrame:
    """Predictions for this customer's open invoices (from the worklist, which the scoring step fills)."""
    extra, params = scope_filter(scope, "marts.collections_worklist")
    return query(
        f"""
        select invoice_no, due_date, predicted_pay_date, probability_of_default, model_version
        from marts.collections_worklist
        where customer_id = ? and predicted_pay_date is not null{extra}
        order by predicted_pay_date, invoice_no
        """,
        [customer_id, *params],
    )


# ---------------------------------------------------------------------------------------------
# Projects

PROJECT_TABLES = {"marts.project_receivables": (
    "project_id", "project_name", "customer_id", "customer_name", "salesperson_id", "contract_value_rpt",
    "billed_rpt", "collected_rpt", "open_ar_rpt", "unbilled_due_milestones", "unbilled_due_rpt",
    "retention_held_rpt", "collection_rate")}


def projects(scope: Scope = EVERYTHING, limit: int = 1000) -> pd.DataFrame:
    """Projects by contract value, largest first (the first `limit`; totals come from project_totals)."""
    extra, params = scope_filter(scope, "marts.project_receivables")
    return query(
        f"""
        select project_id, project_name, customer_id, customer_name, contract_value_rpt, billed_rpt,
               collected_rpt, open_ar_rpt, unbilled_due_milestones, unbilled_due_rpt, retention_held_rpt,
               collection_rate
        from marts.project_receivables where true{extra}
        order by contract_value_rpt desc nulls last, project_id limit ?
        """,
        [*params, limit],
    )


def project_totals(scope: Scope = EVERYTHING) -> dict:
    extra, params = scope_filter(scope, "marts.project_receivables")
    return query(
        f"""
        select count(*) as projects, coalesce(sum(contract_value_rpt), 0) as contract_value_rpt,
               coalesce(sum(billed_rpt), 0) as billed_rpt, coalesce(sum(collected_rpt), 0) as collected_rpt,
               coalesce(sum(unbilled_due_rpt), 0) as unbilled_due_rpt,
               coalesce(sum(retention_held_rpt), 0) as retention_held_rpt
        from marts.project_receivables where true{extra}
        """,
        params,
    ).iloc[0].to_dict()


# ---------------------------------------------------------------------------------------------
# Reconciliation review (whole-company bank lines: a restricted scope sees none)

RECON_TABLES = {"reconciliation.unmatched": ("bank_txn_key", "booking_date", "amount", "currency",
                                             "counterparty_name", "reason", "detail"),
                "reconciliation.proposals": ("bank_txn_key", "invoice_no", "customer_id", "amount", "rule",
                                             "score", "rank"),
                "reconciliation.matches": ("bank_txn_key", "status", "applied_amount")}
# Reasons that need nobody's attention (debits, reversals, decided lines); every other reason is reviewed.
EXPLAINED_REASONS = tuple(sorted(EXPLAINED))


def _no_rows_for_restricted(scope: Scope) -> str:
    return " and false" if scope.restricted else ""


def reconciliation_stats(scope: Scope = EVERYTHING) -> dict:
    """Bank lines matched automatically, by a person, left for review, and the auto-match rate."""
    deny = _no_rows_for_restricted(scope)
    row = query(
        f"""
        with m as (select bank_txn_key, bool_or(status = 'manual') as manual
                   from reconciliation.matches where true{deny} group by 1),
             u as (select * from reconciliation.unmatched where true{deny})
        select (select count(*) filter (where not manual) from m) as auto_lines,
               (select count(*) filter (where manual) from m) as manual_lines,
               (select count(*) from u where reason not in {EXPLAINED_REASONS}) as review_lines,
               (select count(*) from u where reason in {EXPLAINED_REASONS}) as explained_lines,
               (select coalesce(sum(amount), 0) from u where reason not in {EXPLAINED_REASONS}) as review_amount
        """
    ).iloc[0].to_dict()
    receipts = row["auto_lines"] + row["manual_lines"] + row["review_lines"]
    row["auto_rate"] = row["auto_lines"] / receipts if receipts else None
    return row


def unmatched_receipts(scope: Scope = EVERYTHING, limit: int = 500) -> pd.DataFrame:
    return query(
        f"""
        select bank_txn_key, booking_date, amount, currency, counterparty_name, reason, detail
        from reconciliation.unmatched
        where reason not in {EXPLAINED_REASONS}{_no_rows_for_restricted(scope)}
        order by amount desc, booking_date, bank_txn_key limit ?
        """,
        [limit],
    )


def proposals_for(scope: Scope, bank_txn_key: str) -> pd.DataFrame:
    return query(
        f"""
        select p.rank, p.invoice_no, p.customer_id, c.customer_name, p.amount, p.currency, p.rule, p.score
        from reconciliation.proposals p left join marts.dim_customer c using (customer_id)
        where p.bank_txn_key = ?{_no_rows_for_restricted(scope)}
        order by p.rank, p.invoice_no
        """,
        [bank_txn_key],
    )


def open_invoices_in_currency(scope: Scope, currency: str, limit: int = 2000) -> pd.DataFrame:
    """Candidates for a manual match or split."""
    extra, params = scope_filter(scope, "marts.fct_invoice")
    return query(
        f"""
        select invoice_no, customer_id, due_date, open_amount from marts.fct_invoice
        where currency = ? and open_amount > 0{extra} order by due_date, invoice_no limit ?
        """,
        [currency, *params, limit],
    )


# ---------------------------------------------------------------------------------------------
# Models

MODEL_TABLES = {"ml.backtests": ("model_version", "method", "metric", "value")}


def model_metrics(scope: Scope = EVERYTHING) -> pd.DataFrame:
    """Backtest metrics of the current model beside its baselines (company-level, no customer rows)."""
    return query(
        """
        select model_version, method, metric, value from ml.backtests
        where model_version = (select max(model_version) from ml.backtests)
        order by metric, method
        """
    )


def model_calibration() -> pd.DataFrame:
    if not has("ml.calibration", "predicted", "observed"):
        return pd.DataFrame()
    return query("select * from ml.calibration order by predicted")


def model_drift() -> pd.DataFrame:
    if not has("ml.drift", "feature", "psi"):
        return pd.DataFrame()
    return query("select * from ml.drift order by psi desc")


def alerts(scope: Scope = EVERYTHING, limit: int = 20) -> pd.DataFrame:
    """Credit alerts for the overview (utilization, consecutive lates, downgrade)."""
    extra, params = scope_filter(scope, "marts.customer_credit")
    return query(
        f"""
        select customer_id, customer_name, rating, previous_rating, credit_utilization, consecutive_late_payments,
               is_utilization_alert, is_consecutive_late_alert, is_downgrade_alert, open_ar_rpt
        from marts.customer_credit
        where has_alert{extra}
        order by open_ar_rpt desc nulls last, customer_id limit ?
        """,
        [*params, limit],
    )
