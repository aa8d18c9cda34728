"""Scoring against ground truth: payment-level and invoice-level auto-match rate, precision, review share.

Definitions (docs/reconciliation.md): a receivable receipt is a credit that truly pays at least one
invoice. Payment level: receipts whose automatic links are exactly their true invoices, over all
receivable receipts. Invoice level: true (receipt, invoice) links applied automatically, over all
true links. Precision: automatic links that are true, over all automatic links. Review share: lines
left for a person (proposed, no candidate) over all credits.
"""

from __future__ import annotations

from collections import Counter

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


def twin_classes(open_items: pd.DataFrame) -> dict[str, tuple]:
    """Invoice number → its interchangeability class: (customer, currency, contract, gross amount).

    Items of one contract with the same customer, currency and amount (equal milestone instalments)
    are interchangeable for cash application; an invoice without a contract is a class of its own.
    """
    df = open_items
    contract = df["contract_id"] if "contract_id" in df.columns else pd.Series(None, index=df.index)
    gross = pd.to_numeric(df["gross_amount"], errors="coerce").round(2)
    out = {}
    for no, cust, cur, con, g in zip(df["invoice_no"].astype(str), df["customer_id"].astype(str),
                                      df["currency"].astype(str).str.upper(), contract, gross):
        out[no] = (cust, cur, str(con), float(g)) if isinstance(con, str) and con.strip() else ("invoice", no)
    return out


def score_interchangeable(result: ReconcileResult, truth_links: pd.DataFrame, open_items: pd.DataFrame,
                          credits: int) -> dict:
    """Like `score`, but an automatic link to an interchangeable twin of a true invoice counts as right.

    Per receipt, the applied and the true invoices are compared as multisets of twin classes
    (`twin_classes`); a receipt that truly paid one of two equal instalments of a contract and was
    applied to the other is right here and wrong in `score`. Reported next to the strict figures.
    """
    cls = twin_classes(open_items)
    truth = truth_links[["bank_txn_key", "invoice_no"]].astype(str).drop_duplicates()
    auto = result.matches.loc[result.matches.status == "auto", ["bank_txn_key", "invoice_no"]].astype(str)
    auto = auto.drop_duplicates()

    def bags(df: pd.DataFrame) -> dict[str, Counter]:
        out: dict[str, Counter] = {}
        for k, no in zip(df["bank_txn_key"], df["invoice_no"]):
            out.setdefault(k, Counter())[cls.get(no, ("invoice", no))] += 1
        return out

    t_bags, a_bags = bags(truth), bags(auto)
    correct = sum(sum((t_bags.get(k, Counter()) & a).values()) for k, a in a_bags.items())
    fully = sum(1 for k, t in t_bags.items() if a_bags.get(k) == t)
    n_true, n_auto = len(truth), len(auto)
    return {
        "receivable_receipts": len(t_bags),
        "payment_match_rate": round(fully / len(t_bags), 4) if t_bags else None,
        "invoice_match_rate": round(correct / n_true, 4) if n_true else None,
        "precision": round(correct / n_auto, 4) if n_auto else None,
        "auto_links": n_auto,
        "wrong_auto_links": n_auto - correct,
    }
