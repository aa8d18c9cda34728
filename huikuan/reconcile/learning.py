"""Alias learning: a match confirmed by a person teaches which customer stands behind a payer name or account."""

from __future__ import annotations

import pandas as pd

from huikuan import opstore
from huikuan.reconcile.engine import _Decisions, _norm_account, _str_col
from huikuan.reconcile.names import normalize_company_name


def learn_aliases(
    ops_path,
    bank: pd.DataFrame,
    invoices: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    created_by: str = "reconcile",
) -> list[int]:
    """Add payer aliases for confirmed matches (confirm / manual_match) whose payer is not yet known.

    The name or account on the bank line maps to the customer of the confirmed invoice. Nothing is
    added when the customer master or an existing alias already resolves it, or when the same name
    or account was confirmed for different customers (an ambiguous payer teaches nothing).
    Returns the new alias ids.
    """
    decisions = opstore.read_table(ops_path, "reconciliation_decisions")
    existing = opstore.read_table(ops_path, "payer_aliases")
    latest = _Decisions(decisions)
    inv_customer = dict(zip(_str_col(invoices, "invoice_no"), _str_col(invoices, "customer_id")))
    lines = {
        k: (n, a)
        for k, n, a in zip(
            _str_col(bank, "bank_txn_key"), _str_col(bank, "counterparty_name"), _str_col(bank, "counterparty_account")
        )
    }
    known_names: dict[str, set[str]] = {}
    if customers is not None:
        for cid, nm in zip(_str_col(customers, "customer_id"), _str_col(customers, "customer_name")):
            known_names.setdefault(normalize_company_name(nm), set()).add(cid)
    for cid, nm in zip(_str_col(existing, "customer_id"), _str_col(existing, "payer_name")):
        if nm:
            known_names.setdefault(normalize_company_name(nm), set()).add(cid)
    known_accounts = {_norm_account(a): c for a, c in zip(_str_col(existing, "counterparty_account"),
                                                            _str_col(existing, "customer_id")) if a}

    # (normalized name or account) -> {customer: (raw name, raw account, decision id)}
    learned_names: dict[str, dict[str, tuple]] = {}
    learned_accounts: dict[str, dict[str, tuple]] = {}
    for key, rows in sorted(latest.pairs.items()):
        for row in rows:
            if row["decision"] not in ("confirm", "manual_match") or key not in lines:
                continue
            cid = inv_customer.get(str(row["invoice_no"]).strip())
            if not cid:
                continue
            name, account = lines[key]
            norm = normalize_company_name(name)
            if norm:
                learned_names.setdefault(norm, {}).setdefault(cid, (name, row.get("decision_id")))
            acct = _norm_account(account)
            if acct:
                learned_accounts.setdefault(acct, {}).setdefault(cid, (account, row.get("decision_id")))
    new_ids = []
    for norm, by_cust in sorted(learned_names.items()):
        if len(by_cust) != 1:
            continue
        (cid, (name, decision_id)), = by_cust.items()
        if cid in known_names.get(norm, set()) or known_names.get(norm):
            continue  # already resolved (or deliberately ambiguous in the master): nothing to learn
        new_ids.append(opstore.add_alias(ops_path, customer_id=cid, payer_name=name, created_by=created_by,
                                         learned_from=f"decision:{decision_id}"))
        known_names[norm] = {cid}
    for acct, by_cust in sorted(learned_accounts.items()):
        if len(by_cust) != 1 or acct in known_accounts:
            continue
        (cid, (account, decision_id)), = by_cust.items()
        new_ids.append(opstore.add_alias(ops_path, customer_id=cid, counterparty_account=account,
                                         created_by=created_by, learned_from=f"decision:{decision_id}"))
        known_accounts[acct] = cid
    return new_ids
