"""Invoice history for the models, from contract-shaped tables: extract CSVs or the warehouse.

`history_from_tables` turns the canonical source tables (huikuan/contracts.py) into the history
frame of `models_ml.features`. It keeps receivables only (standard and debit notes with a positive
amount, not cancelled); an invoice counts as paid on its clearing date once the cleared amount
reaches its gross amount (within 0.5 %, the short-payment tolerance), otherwise it is open (or
written off: then it never pays). Every row it leaves out is counted in `HistoryLoad.excluded`
with the reason, so nothing disappears silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from models_ml.features import text_objects

PAID_TOLERANCE = 0.005  # cleared within 0.5 % of gross counts as settled (bank fees, rounding)


# id columns the models read as categories, held as Python strings (None where missing)
_OBJECT_COLUMNS = ("project_id", "contract_id", "milestone_id", "currency")


@dataclass
class HistoryLoad:
    history: pd.DataFrame
    milestones: pd.DataFrame  # payment plan with billing state, for the cash forecast
    observed_until: pd.Timestamp
    excluded: dict[str, int] = field(default_factory=dict)


def _dates(s: pd.Series) -> pd.Series:
    """Dates or timestamps; ISO text (what extracts and the warehouse hold) parses on the fast path."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.astype("datetime64[ns]")
    try:
        return pd.to_datetime(s, format="ISO8601").astype("datetime64[ns]")
    except (ValueError, TypeError):
        return pd.to_datetime(s, errors="coerce", format="mixed").astype("datetime64[ns]")


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype(float)


def _first_event(events: pd.DataFrame, event_type: str, invoice_no: pd.Series) -> pd.Series:
    """Date of each invoice's first event of `event_type` (NaT without one)."""
    sel = events[events["event_type"].astype(str) == event_type]
    first = _dates(sel["event_at"]).dt.normalize().groupby(sel["invoice_no"].astype(str)).min()
    if first.empty:
        return pd.Series(pd.NaT, index=invoice_no.index, dtype="datetime64[ns]")
    return invoice_no.map(first)


def history_from_tables(
    invoices: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    projects: pd.DataFrame | None = None,
    salespeople: pd.DataFrame | None = None,
    milestones: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    contracts: pd.DataFrame | None = None,
    observed_until: pd.Timestamp | None = None,
    *,
    has_events: bool | None = None,
) -> HistoryLoad:
    """Build the history frame (and the milestone plan) from contract-shaped source tables.

    `has_events`: whether the instance records lifecycle events at all, when `events` holds only
    the types read here (default: `events` is not empty)."""
    inv = invoices.copy()
    excluded: dict[str, int] = {}
    typ = inv.get("invoice_type", pd.Series("standard", index=inv.index)).fillna("standard").astype(str)
    status = inv.get("status", pd.Series("", index=inv.index)).fillna("").astype(str)
    gross = _num(inv["gross_amount"])
    keep = pd.Series(True, index=inv.index)
    for reason, mask in (
        ("credit_note", typ.eq("credit_note")),
        ("cancelled", status.eq("cancelled")),
        ("non_positive_amount", gross.isna() | (gross <= 0)),
        ("no_issue_date", _dates(inv["issue_date"]).isna()),
    ):
        n = int((mask & keep).sum())
        if n:
            excluded[reason] = n
        keep &= ~mask
    inv, gross = inv[keep], gross[keep]
    issue = _dates(inv["issue_date"])
    due = _dates(inv["due_date"]) if "due_date" in inv.columns else issue
    no_due = due.isna()
    if no_due.any():
        excluded["due_date_missing_set_to_issue_date"] = int(no_due.sum())  # kept, with 0 days terms
    due = due.where(~no_due, issue)
    cleared_date = _dates(inv["cleared_date"]) if "cleared_date" in inv.columns else pd.Series(pd.NaT, index=inv.index)
    cleared_amount = _num(inv["cleared_amount"]) if "cleared_amount" in inv.columns else pd.Series(0.0, index=inv.index)
    settled = cleared_date.notna() & (cleared_amount.fillna(0) >= gross * (1 - PAID_TOLERANCE))
    h = pd.DataFrame(
        {
            "invoice_no": inv["invoice_no"].astype(str),
            "customer_id": inv["customer_id"].astype(str),
            "issue_date": issue,
            "due_date": due,
            "amount": gross,
            "paid_date": cleared_date.where(settled),
            "invoice_type": typ[keep],
        },
        index=inv.index,
    )
    for c in _OBJECT_COLUMNS:
        if c in inv.columns:
            h[c] = text_objects(inv[c])
    if events is not None and (len(events) if has_events is None else has_events):
        h["first_dispute_date"] = _first_event(events, "disputed", h["invoice_no"])
        h["written_off_date"] = _first_event(events, "written_off", h["invoice_no"])
    status_off = status[keep].eq("written_off")
    if status_off.any():
        h["_written_off_status"] = status_off
        if "written_off_date" not in h.columns:
            h["written_off_date"] = pd.Series(pd.NaT, index=h.index, dtype="datetime64[ns]")
    if milestones is not None and "milestone_id" in h.columns and len(milestones):
        mt = milestones.set_index(milestones["milestone_id"].astype(str))["milestone_type"]
        h["milestone_type"] = h["milestone_id"].map(mt)
    if customers is not None and len(customers):
        c = customers.set_index(customers["customer_id"].astype(str))
        for src, dst in (("customer_type", "customer_type"), ("region", "region"), ("industry", "industry"),
                         ("salesperson_id", "salesperson_id")):  # fmt: skip
            if src in c.columns:
                h[dst] = h["customer_id"].map(c[src])
        if "credit_limit" in c.columns:
            h["credit_limit"] = h["customer_id"].map(_num(c["credit_limit"]))
        if "payment_terms_days" in c.columns:
            h["customer_terms_days"] = h["customer_id"].map(_num(c["payment_terms_days"]))
    if projects is not None and "project_id" in h.columns and len(projects):
        p = projects.set_index(projects["project_id"].astype(str))
        if "contract_value" in p.columns:
            h["project_contract_value"] = h["project_id"].map(_num(p["contract_value"]))
        if "start_date" in p.columns:
            h["project_start_date"] = h["project_id"].map(_dates(p["start_date"]))
    if salespeople is not None and "salesperson_id" in h.columns and len(salespeople):
        s = salespeople.set_index(salespeople["salesperson_id"].astype(str))
        if "team" in s.columns:
            h["salesperson_team"] = h["salesperson_id"].map(s["team"])
    dup = h["invoice_no"].duplicated(keep="last")
    if dup.any():
        excluded["duplicate_invoice_no_kept_last"] = int(dup.sum())
        h = h[~dup]
    h = h.sort_values(["issue_date", "invoice_no"], kind="stable").reset_index(drop=True)
    plan = milestone_plan(milestones, invoices, contracts, customers) if milestones is not None else _empty_plan()
    return _finish(h, plan, excluded, observed_until)


def _finish(
    h: pd.DataFrame, plan: pd.DataFrame, excluded: dict[str, int], observed_until: pd.Timestamp | None
) -> HistoryLoad:
    """The history's end (`observed_until`, else its last payment or issue date) and the write-offs
    known by status alone, on a frame sorted by issue date and invoice number."""
    obs = pd.Timestamp(observed_until) if observed_until is not None else h["paid_date"].max()
    if pd.isna(obs):
        obs = h["issue_date"].max()
    if "_written_off_status" in h.columns:
        # Written off by status only, without a dated event: off the books as of the extract's date
        # (not earlier: a backtest must not learn of a write-off before it happened).
        undated = h["_written_off_status"] & h["written_off_date"].isna()
        h.loc[undated, "written_off_date"] = obs.normalize()
        h = h.drop(columns="_written_off_status")
    return HistoryLoad(h, plan, obs.normalize(), excluded)


def _empty_plan() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "milestone_id": pd.Series(dtype=object),
            "customer_id": pd.Series(dtype=object),
            "amount": pd.Series(dtype=float),
            "planned_date": pd.Series(dtype="datetime64[ns]"),
            "billed_date": pd.Series(dtype="datetime64[ns]"),
            "terms_days": pd.Series(dtype=float),
        }
    )


def milestone_plan(
    milestones: pd.DataFrame,
    invoices: pd.DataFrame,
    contracts: pd.DataFrame | None,
    customers: pd.DataFrame | None,
) -> pd.DataFrame:
    """Payment plan rows with customer, amount, planned date, the date billed (issue date of the
    invoice that billed it, NaT if not yet), the contractual terms and the contract's signing date
    (a forecast as of an earlier date only knows the contracts signed by then)."""
    if milestones is None or not len(milestones):
        return _empty_plan()
    m = milestones.copy()
    m["milestone_id"] = m["milestone_id"].astype(str)
    inv = invoices.assign(invoice_no=invoices["invoice_no"].astype(str))
    issue_by_no = _dates(inv.set_index("invoice_no")["issue_date"])
    billed = None
    if "invoice_no" in m.columns:
        billed = (m["invoice_no"].astype("string").map(issue_by_no) if len(issue_by_no)
                  else pd.Series(pd.NaT, index=m.index, dtype="datetime64[ns]"))  # nothing billed yet
    if "milestone_id" in inv.columns:
        by_ms = inv[inv["milestone_id"].notna()].groupby(inv["milestone_id"].astype(str))["issue_date"].min()
        billed2 = m["milestone_id"].map(_dates(by_ms))
        billed = billed2 if billed is None else billed.fillna(billed2)
    plan = pd.DataFrame(
        {
            "milestone_id": m["milestone_id"],
            "amount": _num(m["amount"]),
            "planned_date": _dates(m["planned_date"]),
            "billed_date": pd.to_datetime(billed).astype("datetime64[ns]") if billed is not None else pd.NaT,
        }
    )
    terms = pd.Series(np.nan, index=m.index)
    cust = pd.Series(None, index=m.index, dtype=object)
    if contracts is not None and len(contracts):
        c = contracts.set_index(contracts["contract_id"].astype(str))
        cid = m["contract_id"].astype(str)
        cust = cid.map(c["customer_id"].astype(str))
        if "payment_terms_days" in c.columns:
            terms = cid.map(_num(c["payment_terms_days"]))
        if "signed_date" in c.columns:
            plan["signed_date"] = pd.to_datetime(cid.map(_dates(c["signed_date"]))).astype("datetime64[ns]")
    if customers is not None and len(customers) and "payment_terms_days" in customers.columns:
        ct = _num(customers.set_index(customers["customer_id"].astype(str))["payment_terms_days"])
        terms = terms.fillna(cust.map(ct))
    plan["customer_id"] = cust
    plan["terms_days"] = terms
    return plan[plan["amount"].notna() & (plan["amount"] > 0) & plan["planned_date"].notna()].reset_index(drop=True)


EXTRACT_FILES = {
    "customers": "erp/customers.csv",
    "salespeople": "erp/salespeople.csv",
    "projects": "erp/projects.csv",
    "contracts": "erp/contracts.csv",
    "payment_milestones": "erp/payment_milestones.csv",
    "invoices": "invoicing/invoices.csv",
    "invoice_events": "invoicing/invoice_events.csv",
}


def read_extracts(landing: Path) -> dict[str, pd.DataFrame]:
    """The ERP and invoicing CSV extracts of a landing folder (generated layout), as text tables."""
    landing = Path(landing)
    tables = {}
    for name, rel in EXTRACT_FILES.items():
        path = landing / rel
        if not path.exists():
            if name == "invoices":
                raise FileNotFoundError(f"{path}: the invoice register is required")
            continue
        try:
            tables[name] = pd.read_csv(
                path, dtype=str, encoding="utf-8-sig", keep_default_na=False, na_values=[""], engine="pyarrow"
            )
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise ValueError(f"{path}: cannot read: {exc}") from exc
    return tables


def history_from_extracts(landing: Path, observed_until: pd.Timestamp | None = None) -> HistoryLoad:
    t = read_extracts(landing)
    return history_from_tables(
        t["invoices"],
        t.get("customers"),
        t.get("projects"),
        t.get("salespeople"),
        t.get("payment_milestones"),
        t.get("invoice_events"),
        t.get("contracts"),
        observed_until,
    )


LINEAGE = ("source_file", "source_row", "file_hash", "loaded_at")
EVENTS_USED = ("disputed", "written_off")  # the lifecycle events `history_from_tables` reads


def history_from_warehouse(warehouse: Path, observed_until: pd.Timestamp | None = None) -> HistoryLoad:
    """The history frame of `history_from_tables`, built inside the warehouse (read-only) from
    `raw.*` (contract columns, the latest version of each key) and, where the warehouse has built
    it, `marts.fct_invoice`'s settlement dates and reporting-currency amounts (it also knows
    receipts applied from the bank, not only the ERP's clearing).

    DuckDB does the filtering and the joins and hands over only the frame's columns: done in pandas
    on a 10M-invoice history, the intermediate copies needed several times the frame's memory."""
    import duckdb

    # DuckDB keeps what it read cached up to its memory limit (80 % of RAM by default): bounded here,
    # so the frames built next have the memory (a larger query spills to a temporary directory).
    # Every query that returns rows orders them itself.
    con = duckdb.connect(str(warehouse), read_only=True,
                         config={"memory_limit": READ_MEMORY_LIMIT, "preserve_insertion_order": False})
    try:
        have = {
            t for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
            if s == "raw"
        }  # fmt: skip
        if "invoices" not in have:
            raise ValueError(f"{warehouse}: no raw.invoices table: run ingestion first")
        # a table without rows adds no columns, as in history_from_tables
        has = {t for t in have if t in _HISTORY_TABLES and con.execute(f"select count(*) from raw.{t}").fetchall()[0][0]}
        fct = {r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema='marts' and table_name='fct_invoice'"
        ).fetchall()}  # fmt: skip
        fct_wanted = [c for c in ("settled_date", "gross_amount_rpt") if c in fct] if "invoice_no" in fct else []
        counts = con.execute(_history_counts_sql()).fetchall()[0]
        excluded = {r: int(n) for r, n in zip(_EXCLUSIONS, counts[:4], strict=True) if n}
        if counts[4]:
            excluded["due_date_missing_set_to_issue_date"] = int(counts[4])  # kept, with 0 days terms
        h = _apply_fct_invoice_payments(_fetch(con, _history_sql(has, fct_wanted, written_off_status=counts[5] > 0)))
        for c in _OBJECT_COLUMNS:
            h[c] = text_objects(h[c])

        plan = _fetch(con, _plan_sql(has)) if "payment_milestones" in has else _empty_plan()
        load = _finish(h, plan, excluded, observed_until)
        if fct_wanted and pd.notna(paid_max := load.history["paid_date"].max()):
            load.observed_until = max(load.observed_until, pd.Timestamp(paid_max).normalize())
        return load
    finally:
        con.close()


READ_MEMORY_LIMIT = "6GB"  # DuckDB's share while the history is read; measured on 10M invoices
_HISTORY_TABLES = ("invoices", "customers", "projects", "salespeople", "payment_milestones", "invoice_events", "contracts")
_EXCLUSIONS = ("credit_note", "cancelled", "non_positive_amount", "no_issue_date")


def _latest(name: str, where: str = "", *, lineage: bool = False) -> str:
    """The latest version of each key of `raw.<name>`: a key delivered again is a newer version, as
    in the warehouse's staging models. Without `lineage`, the lineage columns are left out (a file
    name and hash per row: the models never read them)."""
    from huikuan.contracts import CONTRACTS

    columns = "*" if lineage else f"* exclude ({', '.join(LINEAGE)})"
    return (
        f"select {columns} from raw.{name} {where} "
        f"qualify row_number() over (partition by {', '.join(CONTRACTS[name].key)} "
        "order by loaded_at desc, source_file desc, source_row desc) = 1"
    )


def _plan_sql(has: set[str]) -> str:
    """The query giving `milestone_plan`'s frame (its columns, rows and order) from the raw tables
    that have rows (`has`)."""
    cols = ["m.milestone_id", "cast(m.amount as double) as amount", "m.planned_date",
            # billed: the issue date of the invoice the milestone names, else of the first invoice naming it
            "coalesce(inv.issue_date, first_billed.issue_date) as billed_date"]  # fmt: skip
    joins = [
        "left join inv on inv.invoice_no = m.invoice_no",
        (
            "left join (select milestone_id, min(issue_date) as issue_date from inv where milestone_id is not null "
            "group by milestone_id) as first_billed on first_billed.milestone_id = m.milestone_id"
        ),
    ]
    terms = []
    if "contracts" in has:
        cols.append("ct.signed_date")
        joins.append(f"left join ({_latest('contracts')}) as ct on ct.contract_id = m.contract_id")
        terms.append("cast(ct.payment_terms_days as double)")
    cols.append("ct.customer_id" if "contracts" in has else "cast(null as varchar) as customer_id")
    if "customers" in has and "contracts" in has:
        joins.append(f"left join ({_latest('customers')}) as cu on cu.customer_id = ct.customer_id")
        terms.append("cast(cu.payment_terms_days as double)")
    cols.append(f"coalesce({', '.join(terms)}) as terms_days" if terms else "cast(null as double) as terms_days")
    newline = "\n        "
    return f"""
        with inv as (select invoice_no, issue_date, milestone_id from ({_latest("invoices")}))
        select {("," + newline).join(cols)}
        from ({_latest("payment_milestones", lineage=True)}) as m
        {newline.join(joins)}
        where m.amount is not null and m.amount > 0 and m.planned_date is not null
        order by m.loaded_at, m.source_file, m.source_row
    """


def _kept_invoices_sql() -> str:
    """The latest invoices, each with the reason `history_from_tables` leaves it out (null: kept)."""
    return f"""
        select *,
            coalesce(invoice_type, 'standard') as _typ,
            coalesce(status, '') as _status,
            cast(gross_amount as double) as _gross,
            case
                when coalesce(invoice_type, 'standard') = 'credit_note' then 'credit_note'
                when coalesce(status, '') = 'cancelled' then 'cancelled'
                when gross_amount is null or gross_amount <= 0 then 'non_positive_amount'
                when issue_date is null then 'no_issue_date'
            end as _excluded
        from ({_latest("invoices")})
    """


def _history_counts_sql() -> str:
    """Invoices left out per reason (in `_EXCLUSIONS`' order), kept without a due date, and kept
    with a written-off status."""
    return f"""
        select {", ".join(f"count(*) filter (where _excluded = '{r}')" for r in _EXCLUSIONS)},
            count(*) filter (where _excluded is null and due_date is null),
            count(*) filter (where _excluded is null and _status = 'written_off')
        from ({_kept_invoices_sql()})
    """


def _history_sql(has: set[str], fct_wanted: list[str], *, written_off_status: bool) -> str:
    """The query giving `history_from_tables`' frame (its columns, in its order) from the raw tables
    that have rows (`has`)."""
    cols = [
        "k.invoice_no", "k.customer_id", "k.issue_date", "coalesce(k.due_date, k.issue_date) as due_date",
        "k._gross as amount",
        # settled once the cleared amount reaches the gross amount within the tolerance
        (
            "case when k.cleared_date is not null and coalesce(cast(k.cleared_amount as double), 0)"
            f" >= k._gross * cast({1 - PAID_TOLERANCE!r} as double) then k.cleared_date end as paid_date"
        ),
        "k._typ as invoice_type", "k.project_id", "k.contract_id", "k.milestone_id", "k.currency",
    ]  # fmt: skip
    joins = []
    if "invoice_events" in has:
        cols += ["ev.first_dispute_date", "ev.written_off_date"]
        joins.append(f"""left join (
            select invoice_no,
                min(case when event_type = 'disputed' then cast(event_at as date) end) as first_dispute_date,
                min(case when event_type = 'written_off' then cast(event_at as date) end) as written_off_date
            from ({_latest("invoice_events", f"where event_type in ({', '.join(map(repr, EVENTS_USED))})")})
            group by invoice_no
        ) as ev on ev.invoice_no = k.invoice_no""")
    if written_off_status:
        cols.append("k._status = 'written_off' as _written_off_status")
        if "invoice_events" not in has:
            cols.append("cast(null as date) as written_off_date")
    if "payment_milestones" in has:
        cols.append("ms.milestone_type")
        joins.append(f"left join ({_latest('payment_milestones')}) as ms on ms.milestone_id = k.milestone_id")
    if "customers" in has:
        cols += ["c.customer_type", "c.region", "c.industry", "c.salesperson_id",
                 "cast(c.credit_limit as double) as credit_limit",
                 "cast(c.payment_terms_days as double) as customer_terms_days"]  # fmt: skip
        joins.append(f"left join ({_latest('customers')}) as c on c.customer_id = k.customer_id")
    if "projects" in has:
        cols += ["cast(p.contract_value as double) as project_contract_value", "p.start_date as project_start_date"]
        joins.append(f"left join ({_latest('projects')}) as p on p.project_id = k.project_id")
    if "salespeople" in has and "customers" in has:
        cols.append("s.team as salesperson_team")
        joins.append(f"left join ({_latest('salespeople')}) as s on s.salesperson_id = c.salesperson_id")
    if fct_wanted:  # one row per invoice in fct_invoice (a tested key)
        cols += [f"f.{c} as _fct_{c}" for c in fct_wanted]
        joins.append("left join marts.fct_invoice as f on f.invoice_no = k.invoice_no")
    newline = "\n        "
    return f"""
        select {("," + newline).join(cols)}
        from ({_kept_invoices_sql()}) as k
        {newline.join(joins)}
        where k._excluded is null
        order by k.issue_date, k.invoice_no
    """


def _fetch(con, sql: str) -> pd.DataFrame:
    """Run `sql` and return its rows as DuckDB's `.df()` would, with decimals as floats (not through
    Python objects) and dates as nanosecond timestamps."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # streamed in batches: a result held whole inside DuckDB would count against its memory limit
    table = con.sql(sql).to_arrow_reader(batch_size=1_000_000).read_all()
    pending = {name: table.column(name) for name in table.column_names}
    del table  # each Arrow column is freed once converted
    columns = {}
    for name in list(pending):
        col = pending.pop(name)
        if pa.types.is_decimal(col.type):
            col = pc.cast(col, pa.float64())
        elif pa.types.is_date(col.type) or (pa.types.is_timestamp(col.type) and col.type.tz is None):
            col = pc.cast(col, pa.timestamp("ns"))
        columns[name] = col.to_pandas()
    frame = pd.DataFrame(columns, columns=list(columns))
    pa.default_memory_pool().release_unused()  # Arrow buffers freed by the conversion, back to the system
    return frame


def _apply_fct_invoice_payments(h: pd.DataFrame) -> pd.DataFrame:
    """Settlement dates and reporting-currency amounts from `marts.fct_invoice` (the `_fct_*`
    columns the warehouse query joined) where the warehouse has them."""
    if "_fct_settled_date" in h.columns:
        settled = h["_fct_settled_date"]
        h["paid_date"] = settled.where(settled.notna(), h["paid_date"])
    if "_fct_gross_amount_rpt" in h.columns:
        amount = h["_fct_gross_amount_rpt"]
        h["amount"] = amount.where(amount.notna() & (amount > 0), h["amount"])
    return h.drop(columns=[c for c in h.columns if c.startswith("_fct_")])
