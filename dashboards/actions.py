"""User actions from the dashboard, written to the operational store with who and when — never to DuckDB.

Each function checks, on the server, that the user's role may act and that the invoice is within
their scope before writing; a refused action raises PermissionError and writes nothing.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboards import data
from dashboards.auth import User
from dashboards.data import Scope
from huikuan import opstore
from huikuan.settings import load_settings


def _ops():
    return load_settings().ops_path


def _check(user: User, scope: Scope, invoice_no: str | None = None, company_wide: bool = False) -> None:
    if not user.can_act:
        raise PermissionError(f"role {user.role} may read but not act")
    if company_wide and scope.restricted:
        raise PermissionError(f"{user.username} may not decide on company-wide bank lines")
    if invoice_no is not None and not data.invoice_in_scope(scope, invoice_no):
        raise PermissionError(f"invoice {invoice_no} is outside {user.username}'s customers")


def promise_to_pay(user: User, scope: Scope, *, invoice_no: str, customer_id: str | None, promised_date: date,
                   promised_amount: float | None, note: str | None = None) -> int:
    _check(user, scope, invoice_no)
    return opstore.record_promise(_ops(), invoice_no=invoice_no, customer_id=customer_id,
                                  promised_date=promised_date, promised_amount=promised_amount, note=note or None,
                                  recorded_by=user.username)


def dispute(user: User, scope: Scope, *, invoice_no: str, reason: str, status: str = "open") -> int:
    _check(user, scope, invoice_no)
    return opstore.record_dispute(_ops(), invoice_no=invoice_no, status=status, reason=reason or None,
                                  recorded_by=user.username)


def note(user: User, scope: Scope, *, text: str, invoice_no: str | None = None, customer_id: str | None = None,
         kind: str = "note", channel: str | None = None) -> int:
    _check(user, scope, invoice_no)
    if customer_id is not None and data.customer_detail(scope, customer_id) is None:
        raise PermissionError(f"customer {customer_id} is outside {user.username}'s customers")
    return opstore.record_note(_ops(), text=text, kind=kind, channel=channel, invoice_no=invoice_no,
                               customer_id=customer_id, recorded_by=user.username)


def notes_for(scope: Scope, *, customer_id: str | None = None, invoice_nos: list[str] | None = None):
    """Notes and contacts recorded for a customer or invoices (the caller has checked the scope)."""
    df = opstore.read_table(_ops(), "collection_notes")
    keep = df["customer_id"].eq(customer_id) if customer_id else pd.Series(False, index=df.index)
    if invoice_nos:
        keep = keep | df["invoice_no"].isin(invoice_nos)
    return df[keep].sort_values("recorded_at", ascending=False)


def promises() -> pd.DataFrame:
    """Every promise to pay recorded so far (the worklist keeps the latest per invoice)."""
    return opstore.read_table(_ops(), "promises_to_pay")


def accept_match(user: User, scope: Scope, *, bank_txn_key: str, allocations: list[tuple[str, float]],
                 customer_id: str | None = None, payer_name: str | None = None, reason: str | None = None) -> list[int]:
    """Confirm a proposal (one row per invoice); teaches the payer's name as an alias of the customer."""
    _check(user, scope, company_wide=True)
    ids = [opstore.record_decision(_ops(), bank_txn_key=bank_txn_key, decision="confirm", invoice_no=inv,
                                   amount=float(amount), decided_by=user.username, reason=reason)
           for inv, amount in allocations]
    if customer_id and payer_name:
        opstore.add_alias(_ops(), customer_id=customer_id, payer_name=payer_name, created_by=user.username,
                          learned_from=f"decision:{ids[0]}")
    return ids


def reject_match(user: User, scope: Scope, *, bank_txn_key: str, invoice_nos: list[str], reason: str | None = None
                 ) -> list[int]:
    _check(user, scope, company_wide=True)
    return [opstore.record_decision(_ops(), bank_txn_key=bank_txn_key, decision="reject", invoice_no=inv,
                                    decided_by=user.username, reason=reason) for inv in invoice_nos]


def split_match(user: User, scope: Scope, *, bank_txn_key: str, line_amount: float,
                allocations: list[tuple[str, float]], reason: str | None = None) -> list[int]:
    """Apply one receipt to several invoices by hand; the parts must not exceed the receipt."""
    _check(user, scope, company_wide=True)
    parts = [(inv, round(float(a), 2)) for inv, a in allocations if inv and a and float(a) > 0]
    if not parts:
        raise ValueError("a split needs at least one invoice with a positive amount")
    if sum(a for _, a in parts) > round(float(line_amount), 2) + 0.005:
        raise ValueError(f"the parts sum to {sum(a for _, a in parts):,.2f}, more than the receipt {line_amount:,.2f}")
    return [opstore.record_decision(_ops(), bank_txn_key=bank_txn_key, decision="manual_match", invoice_no=inv,
                                    amount=a, decided_by=user.username, reason=reason) for inv, a in parts]


def not_receivable(user: User, scope: Scope, *, bank_txn_key: str, reason: str) -> int:
    _check(user, scope, company_wide=True)
    return opstore.record_decision(_ops(), bank_txn_key=bank_txn_key, decision="not_receivable",
                                   decided_by=user.username, reason=reason)
