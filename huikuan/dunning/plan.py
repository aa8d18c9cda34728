"""Dunning plan: which customers get which reminder today, after skipping what was sent or is paused."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from huikuan import opstore
from huikuan.dunning.policy import DunningPolicy, Stage, load_policy, stage_for
from huikuan.dunning.render import (
    ATTACHMENT_FORMATS,
    CompanyProfile,
    InvoiceLine,
    Message,
    render,
)

OPEN_ITEM_COLUMNS = ("invoice_no", "customer_id", "currency", "open_amount", "issue_date", "due_date")
CUSTOMER_COLUMNS = ("customer_id", "customer_name", "customer_type")

# Per-invoice outcome of the assessment, in the order they are checked.
SEND = "send"
NOT_OPEN = "not_open"  # nothing owed (paid, or a credit note)
NO_STAGE = "no_stage"  # not yet in the pre-reminder window, or outside every stage
ALREADY_SENT = "already_sent"
PAUSED_DISPUTE = "paused_dispute"
PAUSED_PROMISE = "paused_promise"

# Log states that mean "do not send again": sent, or claimed by a send whose outcome is unknown.
BLOCKING_STATUSES = ("sent", "pending")
EMAIL = "email"

_LANG_ALIASES = {
    "zh": "zh", "zh-cn": "zh", "zh_cn": "zh", "cn": "zh", "chinese": "zh", "中文": "zh", "zh-hans": "zh",
    "en": "en", "en-us": "en", "en-gb": "en", "english": "en", "英文": "en", "英语": "en",
}


def _require(df: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing}; have {list(df.columns)}")


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _date(value, *, invoice_no: str, column: str) -> date | None:
    if _blank(value):
        return None
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise ValueError(f"open items: invoice {invoice_no}: {column} is not a date: {value!r}") from None


def _decimal(value, *, invoice_no: str) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValueError(
            f"open items: invoice {invoice_no}: open_amount is not a number: {value!r}"
        ) from None


def _latest(df: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """Latest row per invoice: the store is append-only, so a later row supersedes earlier ones."""
    if df.empty:
        return df
    return df.sort_values(id_column).groupby("invoice_no", as_index=False).tail(1)


def paused_invoices(ops_path: str | Path, as_of: date) -> dict[str, str]:
    """invoice_no → pause reason: an open dispute (latest row), or a promise to pay not yet due."""
    paused: dict[str, str] = {}
    promises = _latest(opstore.read_table(ops_path, "promises_to_pay"), "promise_id")
    for row in promises.itertuples():
        promised = _date(row.promised_date, invoice_no=row.invoice_no, column="promised_date")
        if promised is not None and promised >= as_of:
            paused[str(row.invoice_no)] = PAUSED_PROMISE
    disputes = _latest(opstore.read_table(ops_path, "disputes"), "dispute_id")
    for row in disputes.itertuples():
        if row.status == "open":
            paused[str(row.invoice_no)] = PAUSED_DISPUTE  # a dispute outranks a promise
    return paused


def sent_stages(ops_path: str | Path, channel: str = EMAIL) -> set[tuple[str, str]]:
    """(invoice_no, stage) pairs already sent, or claimed by a send whose outcome is unknown."""
    log = opstore.read_table(ops_path, "dunning_log")
    log = log[(log["channel"] == channel) & log["status"].isin(BLOCKING_STATUSES)]
    return {(str(i), str(s)) for i, s in zip(log["invoice_no"], log["stage"])}


def assess_open_items(
    open_items: pd.DataFrame, ops_path: str | Path, as_of: date, policy: DunningPolicy | None = None
) -> pd.DataFrame:
    """Every open item with its days overdue, stage and outcome (send, already_sent, paused_*, ...)."""
    policy = policy or load_policy()
    _require(open_items, OPEN_ITEM_COLUMNS, "open items")
    dupes = open_items["invoice_no"].astype(str)[open_items["invoice_no"].astype(str).duplicated()]
    if not dupes.empty:
        raise ValueError(f"open items: duplicate invoice_no {sorted(set(dupes))[:5]}")
    sent = sent_stages(ops_path)
    paused = paused_invoices(ops_path, as_of)
    has_project = "project_id" in open_items.columns
    rows = []
    for rec in open_items.to_dict("records"):
        inv = str(rec["invoice_no"]).strip()
        if not inv:
            raise ValueError("open items: a row has an empty invoice_no")
        for column in ("customer_id", "currency"):
            if _blank(rec[column]):
                raise ValueError(f"open items: invoice {inv}: {column} is empty")
        amount = _decimal(rec["open_amount"], invoice_no=inv)
        issue = _date(rec["issue_date"], invoice_no=inv, column="issue_date")
        # Without agreed terms an invoice is payable on receipt.
        due = _date(rec["due_date"], invoice_no=inv, column="due_date") or issue
        if due is None:
            raise ValueError(f"open items: invoice {inv} has neither due_date nor issue_date")
        days = (as_of - due).days
        stage: Stage | None = stage_for(days, policy)
        if amount <= 0:
            outcome = NOT_OPEN
        elif stage is None:
            outcome = NO_STAGE
        elif (inv, stage.key) in sent:
            outcome = ALREADY_SENT
        elif inv in paused:
            outcome = paused[inv]
        else:
            outcome = SEND
        project = rec.get("project_id") if has_project else None
        rows.append({
            "invoice_no": inv,
            "customer_id": str(rec["customer_id"]).strip(),
            "currency": str(rec["currency"]).strip().upper(),
            "open_amount": amount,
            "issue_date": issue,
            "due_date": due,
            "project_id": None if _blank(project) else str(project),
            "days_overdue": days,
            "stage_key": stage.key if stage else None,
            "stage_order": stage.order if stage else None,
            "outcome": outcome,
        })
    columns = ["invoice_no", "customer_id", "currency", "open_amount", "issue_date", "due_date",
               "project_id", "days_overdue", "stage_key", "stage_order", "outcome"]
    return pd.DataFrame(rows, columns=columns)


def _language(customer: dict, default: str) -> tuple[str, str | None]:
    """(language, warning): the customer's `language` column if set, else English for foreign customers."""
    raw = customer.get("language")
    if not _blank(raw):
        lang = _LANG_ALIASES.get(str(raw).strip().lower())
        if lang:
            return lang, None
        fallback = "en" if customer.get("customer_type") == "foreign" else default
        return fallback, f"unknown language {raw!r}; used {fallback}"
    return ("en" if customer.get("customer_type") == "foreign" else default), None


def _email_list(value) -> str | None:
    if _blank(value):
        return None
    addresses = [a.strip() for a in re.split(r"[;,，；\s]+", str(value)) if a.strip()]
    return ", ".join(addresses) or None


def _recipient(customer: dict, salesperson_emails: dict, fallback: str | None) -> tuple[str | None, str]:
    """(address, source): the customer's email, else their salesperson's, else the configured fallback."""
    if email := _email_list(customer.get("email")):
        return email, "customer"
    if email := _email_list(customer.get("salesperson_email")):
        return email, "salesperson"
    if email := _email_list(salesperson_emails.get(str(customer.get("salesperson_id")))):
        return email, "salesperson"
    if email := _email_list(fallback):
        return email, "fallback"
    return None, "none"


@dataclass(frozen=True)
class _Lines:
    send: list[InvoiceLine]
    statement: list[InvoiceLine]


def _line(row: dict) -> InvoiceLine:
    return InvoiceLine(
        invoice_no=row["invoice_no"], issue_date=row["issue_date"], due_date=row["due_date"],
        days_overdue=int(row["days_overdue"]), open_amount=row["open_amount"], currency=row["currency"],
        project_id=row["project_id"], stage_key=row["stage_key"],
    )


def plan_dunning(
    open_items: pd.DataFrame,
    customers: pd.DataFrame,
    ops_path: str | Path,
    as_of: date,
    policy: DunningPolicy | None = None,
    *,
    company: CompanyProfile | None = None,
    salespeople: pd.DataFrame | None = None,
    fallback_email: str | None = None,
    default_language: str = "zh",
    attachment_formats: tuple[str, ...] = ATTACHMENT_FORMATS,
    only_stages: Collection[str] | None = None,
) -> list[Message]:
    """One rendered message per customer and stage, for the invoices due a reminder on `as_of`.

    Skips invoices already sent at their stage (dunning_log, channel email), paused by an open dispute
    or a promise to pay dated on or after `as_of`, with nothing open, or outside every stage.
    Every stage gets an email (its `channel` names the main action, e.g. the owner's call, which the
    email accompanies); `only_stages` restricts the emails to some stage keys.
    """
    policy = policy or load_policy()
    stages = policy.stages
    if only_stages is not None:
        stages = tuple(policy.by_key(key) for key in only_stages)
    company = company or CompanyProfile.from_env()
    if default_language not in ("zh", "en"):
        raise ValueError(f"default_language must be zh or en, not {default_language!r}")
    _require(customers, ("customer_id",), "customers")
    items = assess_open_items(open_items, ops_path, as_of, policy)

    cust = customers.copy()
    cust["customer_id"] = cust["customer_id"].astype(str).str.strip()
    by_id = {r["customer_id"]: r for r in cust.to_dict("records")}
    sp_emails: dict = {}
    if salespeople is not None and {"salesperson_id", "email"} <= set(salespeople.columns):
        sp_emails = {str(k): v for k, v in zip(salespeople["salesperson_id"], salespeople["email"])}

    per_customer: dict[str, _Lines] = {}
    for row in items.sort_values(["customer_id", "due_date", "invoice_no"]).to_dict("records"):
        lines = per_customer.setdefault(row["customer_id"], _Lines([], []))
        if row["open_amount"] != 0:
            lines.statement.append(_line(row))
        if row["outcome"] == SEND:
            lines.send.append(_line(row))

    messages = []
    for customer_id, lines in sorted(per_customer.items()):
        if not lines.send:
            continue
        customer = by_id.get(customer_id)
        warnings = []
        if customer is None:
            warnings.append(f"customer {customer_id} is not in the customer master")
            customer = {"customer_id": customer_id}
        name = customer.get("customer_name")
        # Collapse whitespace: a line break from an ERP export would be illegal in the Subject header.
        name = customer_id if _blank(name) else " ".join(str(name).split())
        language, warn = _language(customer, default_language)
        if warn:
            warnings.append(warn)
        recipient, source = _recipient(customer, sp_emails, fallback_email)
        if source == "salesperson":
            warnings.append("customer has no email; sent to the salesperson to forward")
        elif source == "fallback":
            warnings.append("customer and salesperson have no email; sent to the fallback address")
        elif source == "none":
            warnings.append("no recipient: customer, salesperson and fallback email are all missing")
        if not company.has_bank_details:
            warnings.append("company bank details are not configured")
        for stage in stages:
            at_stage = tuple(line for line in lines.send if line.stage_key == stage.key)
            if not at_stage:
                continue
            message = Message(
                customer_id=customer_id, customer_name=name, stage=stage, language=language, as_of=as_of,
                recipient=recipient, recipient_source=source, invoices=at_stage,
                statement=tuple(lines.statement), company=company,
                metadata={"recipient_source": source, "warnings": list(warnings),
                          "stage_action": stage.action_zh if language == "zh" else stage.action_en,
                          "owner_role": stage.owner_role, "stage_channel": stage.channel},
            )
            messages.append(render(message, attachment_formats))
    return messages
