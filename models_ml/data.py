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

PAID_TOLERANCE = 0.005  # cleared within 0.5 % of gross counts as settled (bank fees, rounding)


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
    for c in ("project_id", "contract_id", "milestone_id", "currency"):
        if c in inv.columns:
            h[c] = inv[c].astype("string").astype(object).where(inv[c].notna(), None)
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
    obs = pd.Timestamp(observed_until) if observed_until is not None else h["paid_date"].max()
    if pd.isna(obs):
        obs = h["issue_date"].max()
    if "_written_off_status" in h.columns:
        # Written off by status only, without a dated event: off the books as of the extract's date
        # (not earlier: a backtest must not learn of a write-off before it happened).
        undated = h["_written_off_status"] & h["written_off_date"].isna()
        h.loc[undated, "written_off_date"] = obs.normalize()
        h = h.drop(columns="_written_off_status")
    plan = milestone_plan(milestones, invoices, contracts, customers) if milestones is not None else _empty_plan()
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
    """Read the source tables from the warehouse: `raw.*` (contract columns, the latest version of
    each key), read-only."""
    import duckdb

    from huikuan.contracts import CONTRACTS

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        have = {
            (s, t)
            for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }

        def table(name: str, where: str = "") -> pd.DataFrame | None:
            # Lineage columns (a file name and hash per row) would take most of the memory of a
            # large history as Python strings; the models never read them. A key delivered again
            # is a newer version: the latest loaded wins, as in the warehouse's staging models. Rows
            # come in load order (files, then lines), as the table holds them.
            if ("raw", name) not in have:
                return None
            latest = (
                f"qualify row_number() over (partition by {', '.join(CONTRACTS[name].key)} "
                "order by loaded_at desc, source_file desc, source_row desc) = 1 "
                "order by loaded_at, source_file, source_row"
            )
            return con.execute(f"select * exclude ({', '.join(LINEAGE)}) from raw.{name} {where} {latest}").df()

        if ("raw", "invoices") not in have:
            raise ValueError(f"{warehouse}: no raw.invoices table: run ingestion first")
        invoices = table("invoices")
        load = history_from_tables(
            invoices,
            table("customers"),
            table("projects"),
            table("salespeople"),
            table("payment_milestones"),
            table("invoice_events", f"where event_type in ({', '.join(repr(e) for e in EVENTS_USED)})"),
            table("contracts"),
            observed_until,
            has_events=("raw", "invoice_events") in have
            and con.execute("select count(*) > 0 from (select 1 from raw.invoice_events limit 1)").fetchone()[0],
        )
        if ("marts", "fct_invoice") in have:
            load = _apply_fct_invoice_payments(con, load)
        return load
    finally:
        con.close()


def _apply_fct_invoice_payments(con, load: HistoryLoad) -> HistoryLoad:
    """Take settlement dates and reporting-currency amounts from `marts.fct_invoice` where the
    warehouse has them (it also knows receipts applied from the bank, not only ERP clearing)."""
    cols = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema='marts' and table_name='fct_invoice'"
    ).fetchall()}  # fmt: skip
    wanted = [c for c in ("settled_date", "gross_amount_rpt") if c in cols]
    if "invoice_no" not in cols or not wanted:
        return load
    f = con.execute(f"select invoice_no, {', '.join(wanted)} from marts.fct_invoice").df()
    f = f.drop_duplicates("invoice_no", keep="last")
    f.index = f["invoice_no"].astype(str).to_numpy()
    h = load.history
    if "settled_date" in wanted:
        settled = h["invoice_no"].map(_dates(f["settled_date"]))
        h["paid_date"] = settled.where(settled.notna(), h["paid_date"])
    if "gross_amount_rpt" in wanted:
        amount = h["invoice_no"].map(_num(f["gross_amount_rpt"]))
        h["amount"] = amount.where(amount.notna() & (amount > 0), h["amount"])
    paid_max = h["paid_date"].max()
    if pd.notna(paid_max):
        load.observed_until = max(load.observed_until, pd.Timestamp(paid_max).normalize())
    return load
