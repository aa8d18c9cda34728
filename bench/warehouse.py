"""Warehouse benchmark: full and incremental dbt builds against a bare raw scan and a pandas analyst.

Figures (seconds unless named otherwise):
- full_build_s: `dbt build --full-refresh` as of the day before the data's as-of date (all models,
  seeds and tests, every month-end snapshot and daily balance, the weekly ML feature mart), on the
  raw tables as they stood that day: what arrives on the as-of date is held back
  (`hold_back_last_day`).
- incremental_build_s: the next daily run: the held-back rows are loaded (`deliver_held_back`: the
  day's new invoices, lifecycle events and bank lines, the ERP clearings that became visible that
  day as new register versions), then `dbt build` as of the as-of date with the daily job's
  selection, vars and arguments (pipelines.dbt.assets DAILY_EXCLUDE, DAILY_VARS, DAILY_ARGS: without
  the weekly ML feature mart and the unit tests; the data tests on whole history tables check the
  last day's rows).
- raw_scan_s: one bare DuckDB pass over every raw table (hashing every row), the floor any build
  must read; full_build_vs_raw_scan = full_build_s / raw_scan_s.
- pandas_s: the baseline, an analyst in plain pandas: load raw invoices and events, apply ERP
  clearings and credit notes as of the date, drop cancelled / written-off / drafts, age on the due
  date into the seed's buckets, and compute company countback DSO from monthly sales (CNY at the
  seeded rates).
- mart_query_s: the same two answers from the warehouse an analyst queries: open a read-only
  connection to the built file, aging by bucket from `ar_aging` and the company's countback DSO from
  `kpi_monthly`. speedup_vs_pandas = pandas_s / mart_query_s.
- daily_build_vs_pandas = pandas_s / incremental_build_s: the pipeline's daily build (which
  refreshes every mart for every question, not these two) against one recomputation by hand.
- dbt_tests_passed: data and unit tests passed in the full build (any failure raises).
- full_build_nodes / incremental_build_nodes: summed node seconds (threads overlap, so more than the
  wall time), the tests' share and the slowest nodes of each build, from dbt's run_results.json;
  for the daily build also the date each incremental ledger mart recomputed from (dbt's log).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from huikuan.contracts import CONTRACTS
from huikuan.dbt import run_dbt
from huikuan.generate import ERP_CLEARING_LAG_DAYS
from huikuan.settings import SEEDS_DIR
from pipelines.dbt.assets import DAILY_ARGS, DAILY_EXCLUDE, DAILY_VARS

AS_OF = dt.date(2026, 6, 30)
SEED = 7


def _prepare_raw(invoices: int, workdir: Path) -> tuple[Path, dict]:
    """Generate and ingest once per workdir; returns the ingested file and the step timings."""
    from huikuan.generate import generate
    from huikuan.ingest.load import ingest_paths

    timings: dict = {}
    gen = workdir / "generated"
    manifest = gen / "manifest.json"
    if not manifest.exists() or json.loads(manifest.read_text()).get("counts", {}).get("invoices") not in (
        None,
        invoices,
    ):
        shutil.rmtree(gen, ignore_errors=True)
        t = time.perf_counter()
        generate(out=gen, invoices=invoices, seed=SEED, as_of=AS_OF)
        timings["generate_s"] = round(time.perf_counter() - t, 2)
    ingested = workdir / f"ingested_{invoices}.duckdb"
    if not ingested.exists():
        t = time.perf_counter()
        results = ingest_paths([gen / "landing"], ingested, landing_root=gen / "landing")
        timings["ingest_s"] = round(time.perf_counter() - t, 2)
        timings["files_ingested"] = len(results)
    return ingested, timings


HELD = "bench_held"  # schema of the rows held back from the full build


def hold_back_last_day(warehouse: Path, as_of: dt.date) -> dict[str, int]:
    """Turn the raw tables into what was loaded by the day before `as_of`; keep the rest in HELD.

    Arriving on `as_of`: invoices issued that day (and the billing of their milestones), lifecycle
    events of that day, bank lines booked that day, and the ERP clearings the register shows for the
    first time (the ERP applies a payment ERP_CLEARING_LAG_DAYS after its booking, so a clearing
    dated `as_of` - lag is new). The day before, an invoice with such a clearing (or with a
    cancellation / write-off event of `as_of`) stood uncleared with status issued; its register row
    of `as_of` arrives as a new version. Returns the held-back rows per table.
    """
    day = f"date '{as_of.isoformat()}'"
    first_new_clearing = f"date '{(as_of - dt.timedelta(days=ERP_CLEARING_LAG_DAYS)).isoformat()}'"
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(f"create schema {HELD}")
        con.execute(f"create table {HELD}.invoice_events as select * from raw.invoice_events"
                    f" where cast(event_at as date) = {day}")
        changed = (f"i.cleared_date >= {first_new_clearing} or exists (select 1 from {HELD}.invoice_events as e"
                   " where e.invoice_no = i.invoice_no and e.event_type = i.status"
                   " and e.event_type in ('cancelled', 'written_off'))")
        con.execute(f"create table {HELD}.invoices as select * from raw.invoices as i"
                    f" where i.issue_date = {day} or ({changed})")
        con.execute(f"create table {HELD}.bank_transactions as select * from raw.bank_transactions"
                    f" where booking_date = {day}")
        con.execute(f"create table {HELD}.payment_milestones as select * from raw.payment_milestones"
                    f" where invoice_no in (select invoice_no from raw.invoices where issue_date = {day})")
        con.execute(f"delete from raw.invoices where issue_date = {day}")
        con.execute(f"""update raw.invoices as i set
                            cleared_date = case when i.cleared_date >= {first_new_clearing} then null
                                else i.cleared_date end,
                            cleared_amount = case when i.cleared_date >= {first_new_clearing} then null
                                else i.cleared_amount end,
                            status = 'issued'
                        where {changed}""")
        con.execute(f"delete from raw.invoice_events where cast(event_at as date) = {day}")
        con.execute(f"delete from raw.bank_transactions where booking_date = {day}")
        con.execute(f"update raw.payment_milestones set invoice_no = null"
                    f" where milestone_id in (select milestone_id from {HELD}.payment_milestones)")
        return {
            table: con.execute(f"select count(*) from {HELD}.{table}").fetchone()[0]
            for table in ("invoices", "invoice_events", "bank_transactions", "payment_milestones")
        }
    finally:
        con.close()


def deliver_held_back(warehouse: Path) -> None:
    """Load the held-back rows as the as-of date's extracts: appended, loaded a day after the rest
    (so a register row of that day is the newest version of its invoice)."""
    con = duckdb.connect(str(warehouse))
    try:
        for table in ("invoices", "invoice_events", "bank_transactions", "payment_milestones"):
            con.execute(f"insert into raw.{table} select * replace (loaded_at + interval 1 day as loaded_at)"
                        f" from {HELD}.{table}")
        con.execute(f"drop schema {HELD} cascade")
    finally:
        con.close()


def raw_scan(warehouse: Path) -> float:
    """Seconds for one pass over every raw table, hashing each whole row."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        t = time.perf_counter()
        for entity in CONTRACTS:
            con.execute(f"select count(*), sum(hash(t)) from raw.{entity} as t").fetchall()
        return time.perf_counter() - t
    finally:
        con.close()


def _seed(name: str) -> pd.DataFrame:
    with open(SEEDS_DIR / f"{name}.csv", encoding="utf-8", newline="") as f:
        return pd.DataFrame(list(csv.DictReader(f)))


def pandas_aging_and_dso(warehouse: Path, as_of: dt.date) -> dict:
    """The analyst's way: pull the raw tables into pandas and compute aging and countback DSO."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        inv = con.execute("select * from raw.invoices").df()
        events = con.execute("select invoice_no, event_type, event_at from raw.invoice_events").df()
    finally:
        con.close()
    as_of_ts = pd.Timestamp(as_of)
    inv = inv.sort_values("loaded_at").drop_duplicates("invoice_no", keep="last")
    for col in ("issue_date", "due_date", "cleared_date"):
        inv[col] = pd.to_datetime(inv[col])
    for col in ("gross_amount", "cleared_amount"):
        inv[col] = inv[col].astype(float)
    inv = inv[(inv["issue_date"] <= as_of_ts) & (inv["status"].fillna("issued") != "draft")]

    exits = events[events["event_type"].isin(["cancelled", "written_off"])].copy()
    exits["event_at"] = pd.to_datetime(exits["event_at"])
    exited = set(exits.loc[exits["event_at"].dt.normalize() <= as_of_ts, "invoice_no"])
    exited |= set(
        inv.loc[
            inv["status"].isin(["cancelled", "written_off"])
            & ~inv["invoice_no"].isin(set(exits["invoice_no"])),
            "invoice_no",
        ]
    )

    paid = np.where(
        inv["cleared_date"].notna() & (inv["cleared_date"] <= as_of_ts), inv["cleared_amount"].fillna(0), 0
    )
    inv["open"] = inv["gross_amount"] - paid
    is_cn = (inv["gross_amount"] < 0) & inv["original_invoice_no"].isin(set(inv["invoice_no"]))
    # a credit note with an original moves that invoice by what is still open on the note itself
    credits = inv[is_cn & ~inv["invoice_no"].isin(exited)].groupby("original_invoice_no")["open"].sum()
    items = inv[~is_cn].set_index("invoice_no")
    items["open"] = items["open"].add(credits, fill_value=0).loc[items.index]
    items = items[~items.index.isin(exited) & (items["open"] != 0)]

    buckets = _seed("aging_buckets")
    upper = pd.to_numeric(buckets["upper_bound_days"], errors="coerce").fillna(10**9).tolist()
    age = (as_of_ts - items["due_date"].fillna(items["issue_date"])).dt.days
    items["bucket"] = pd.cut(age, bins=[-(10**9)] + upper, labels=buckets["bucket_key"].tolist())

    fx = _seed("fx_rates")
    fx["rate"] = fx["rate"].astype(float)
    fx["month"] = pd.to_datetime(fx["rate_month"]).dt.to_period("M")
    last_month = fx["month"].max()

    def to_cny(df: pd.DataFrame, amount: str, when: pd.Series) -> pd.Series:
        month = when.dt.to_period("M").where(when.dt.to_period("M") <= last_month, last_month)
        key = pd.DataFrame({"currency": df["currency"].str.upper().values, "month": month.values})
        rates = key.merge(fx[["currency", "month", "rate"]], how="left", on=["currency", "month"])["rate"]
        rates = rates.where(key["currency"] != "CNY", 1.0).fillna(1.0).values
        return df[amount].values * rates

    items["open_cny"] = to_cny(items, "open", pd.Series(as_of_ts, index=items.index))
    aging = items.groupby(["bucket"], observed=True)["open_cny"].sum()

    sales = inv[~inv["invoice_no"].isin(exited) | (inv["status"] == "written_off")].copy()
    sales["cny"] = to_cny(sales, "gross_amount", sales["issue_date"])
    monthly = sales.groupby(sales["issue_date"].dt.to_period("M"))["cny"].sum().sort_index(ascending=False)
    monthly = monthly[monthly.index <= as_of_ts.to_period("M")].head(12)
    remaining, dso = float(aging.sum()), 0.0
    for month, amount in monthly.items():
        days = month.days_in_month
        if amount <= 0:
            dso += days
            continue
        if remaining >= amount:
            dso += days
            remaining -= amount
        else:
            dso += remaining / amount * days
            break
    by_currency = items.groupby("currency")["open"].sum().round(2).to_dict()
    return {
        "aging_cny": aging.round(2).to_dict(),
        "countback_dso": round(dso, 1),
        "open_by_currency": by_currency,
    }


def _tests_passed(target: Path) -> int:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return sum(
        1 for r in results if r["unique_id"].split(".")[0] in ("test", "unit_test") and r["status"] == "pass"
    )


def node_timings(target: Path, top: int = 12) -> dict:
    """Where a dbt run's time went, from its run_results.json: the slowest nodes and the tests' share."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    timed = sorted(((float(r.get("execution_time") or 0), r["unique_id"]) for r in results), reverse=True)
    tests = [t for t, uid in timed if uid.split(".")[0] in ("test", "unit_test")]
    return {
        "nodes": len(timed),
        "node_seconds": round(sum(t for t, _ in timed), 2),
        "test_seconds": round(sum(tests), 2),
        "tests": len(tests),
        "slowest": {uid.split(".", 2)[-1]: round(t, 2) for t, uid in timed[:top]},
    }


def ledger_reopened_from(log: Path) -> dict[str, str]:
    """Per incremental ledger mart, the date its last incremental build recomputed from, as
    macros/ledger_state.sql logs it ("unchanged": only new periods added; "everything": no saved
    state), read from a dbt log file."""
    found = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        match = re.search(r"(\w+): (ledger changed from (\S+),|ledger unchanged|no saved ledger state)", line)
        if match:
            model, what, date = match.groups()
            found[model] = date or ("everything" if what.startswith("no saved") else "unchanged")
    return found


def run(invoices: int, workdir: Path) -> dict:
    workdir = Path(workdir)
    ingested, prep = _prepare_raw(invoices, workdir)
    warehouse = workdir / "bench_wh" / "warehouse.duckdb"
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    warehouse.parent.mkdir(parents=True)
    shutil.copyfile(ingested, warehouse)
    target = workdir / "dbt_target"

    scan_s = raw_scan(warehouse)
    held_back = hold_back_last_day(warehouse, AS_OF)

    day_before = (AS_OF - dt.timedelta(days=1)).isoformat()
    t = time.perf_counter()
    run_dbt(
        ["build", "--quiet", "--full-refresh"], warehouse, target_path=target, vars={"as_of_date": day_before}
    )
    full_s = time.perf_counter() - t
    tests_passed = _tests_passed(target)
    full_nodes = node_timings(target)

    deliver_held_back(warehouse)
    log = target / "logs" / "dbt.log"
    log.unlink(missing_ok=True)
    t = time.perf_counter()
    run_dbt(["build", "--quiet", "--exclude", DAILY_EXCLUDE, *DAILY_ARGS], warehouse, target_path=target,
            vars={"as_of_date": AS_OF.isoformat(), **DAILY_VARS})
    incremental_s = time.perf_counter() - t
    incremental_nodes = node_timings(target)
    incremental_nodes["reopened_from"] = ledger_reopened_from(log)

    t = time.perf_counter()
    analyst = pandas_aging_and_dso(warehouse, AS_OF)
    pandas_s = time.perf_counter() - t

    t = time.perf_counter()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(
            "select bucket_key, sum(open_amount_rpt) from marts.ar_aging where basis = 'due_date' group by 1"
        ).fetchall()
        (warehouse_dso,) = con.execute(
            "select countback_dso from marts.kpi_monthly where dimension = 'company' and month_end = ?",
            [AS_OF],
        ).fetchone()
        query_s = time.perf_counter() - t
        warehouse_open = {
            c: round(float(v), 2)
            for c, v in con.execute(
                "select currency, sum(open_amount) from marts.ar_aging where basis = 'due_date' group by 1"
            ).fetchall()
        }
        n_invoices = con.execute("select count(*) from marts.fct_invoice").fetchone()[0]
    finally:
        con.close()
    pandas_open = {c: round(float(v), 2) for c, v in analyst["open_by_currency"].items()}
    return {
        "invoices": invoices,
        "fct_invoice_rows": int(n_invoices),
        **prep,
        "daily_new_rows": held_back,
        "full_build_s": round(full_s, 2),
        "incremental_build_s": round(incremental_s, 2),
        "incremental_vs_full": round(incremental_s / full_s, 3),
        "raw_scan_s": round(scan_s, 3),
        "full_build_vs_raw_scan": round(full_s / scan_s, 1),
        "pandas_s": round(pandas_s, 2),
        "mart_query_s": round(query_s, 4),
        "speedup_vs_pandas": round(pandas_s / query_s, 1),
        "daily_build_vs_pandas": round(pandas_s / incremental_s, 2),
        "dbt_tests_passed": tests_passed,
        "countback_dso_warehouse": float(warehouse_dso) if warehouse_dso is not None else None,
        "countback_dso_pandas": analyst["countback_dso"],
        "open_ar_matches_pandas": warehouse_open == pandas_open,
        "full_build_nodes": full_nodes,
        "incremental_build_nodes": incremental_nodes,
    }
