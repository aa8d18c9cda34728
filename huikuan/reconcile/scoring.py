"""Scoring against ground truth: payment-level and invoice-level auto-match rate, precision, review share.

Definitions (docs/reconciliation.md): a receivable receipt is a credit that truly pays at least one
invoice. Payment level: receipts whose automatic links are exactly their true invoices, over all
receivable receipts. Invoice level: true (receipt, invoice) links applied automatically, over all
true links. Precision: automatic links that are true, over all automatic links. Review share: lines
left for a person (proposed, no candidate) over all credits.
"""

from __future__ import annotations

import pandas as pd

from huikuan.reconcile.engine import ReconcileResult

REVIEW_REASONS = ("proposed", "no_candidate", "rejected")


def score(result: ReconcileResult, truth_links: pd.DataFrame, credits: int) -> dict:
    """Figures for `result` given true (bank_txn_key, invoice_no) links and the number of credit lines."""
    truth = truth_links[["bank_txn_key", "invoice_no"]].astype(str).drop_duplicates()
    auto = result.matches.loc[result.matches.status == "auto", ["bank_txn_key", "invoice_no"]].astype(str)
    auto = auto.drop_duplicates()
    true_pairs = set(map(tuple, truth.to_numpy()))
    auto_pairs = set(map(tuple, auto.to_numpy()))
    correct = true_pairs & auto_pairs
    by_key_true = truth.groupby("bank_txn_key")["invoice_no"].agg(frozenset)
    by_key_auto = auto.groupby("bank_txn_key")["invoice_no"].agg(frozenset)
    joined = by_key_true.to_frame("truth").join(by_key_auto.rename("auto"), how="left")
    fully = int(sum(1 for t, a in zip(joined["truth"], joined["auto"]) if isinstance(a, frozenset) and a == t))
    receivable = len(by_key_true)
    review = int(result.unmatched.reason.isin(REVIEW_REASONS).sum())
    wrong = auto_pairs - true_pairs
    return {
        "receivable_receipts": receivable,
        "credits": int(credits),
        "payment_match_rate": round(fully / receivable, 4) if receivable else None,
        "invoice_match_rate": round(len(correct) / len(true_pairs), 4) if true_pairs else None,
        "precision": round(len(correct) / len(auto_pairs), 4) if auto_pairs else None,
        "review_share": round(review / credits, 4) if credits else None,
        "auto_links": len(auto_pairs),
        "wrong_auto_links": len(wrong),
    }


def errors_by_rule(result: ReconcileResult, truth_links: pd.DataFrame) -> pd.DataFrame:
    """Automatic links per rule with how many were wrong: where precision is lost."""
    truth = set(map(tuple, truth_links[["bank_txn_key", "invoice_no"]].astype(str).to_numpy()))
    auto = result.matches[result.matches.status == "auto"].copy()
    auto["correct"] = [(k, i) in truth for k, i in zip(auto.bank_txn_key.astype(str), auto.invoice_no.astype(str))]
    return auto.groupby("rule").agg(links=("correct", "size"), wrong=("correct", lambda s: int((~s).sum())))
