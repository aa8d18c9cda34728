"""Benchmark: cash application on generated data, scored against the generator's ground truth.

Generates a dataset, loads its bank files and invoices with the real ingestion, runs the engine,
and scores payment-level and invoice-level auto-match rate, precision and review share. A naive
exact-amount matcher is measured in the same run as the baseline. The scaling curve (10k / 100k /
1M receipts) replicates the generated data with fresh keys, names and accounts, so every copy is
as hard as the original and payers stay as dense as generated.
"""

from __future__ import annotations

import os
import re
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from huikuan.reconcile import ReconcileConfig, load_inputs, reconcile
from huikuan.reconcile import engine as _engine
from huikuan.reconcile import names as _names
from huikuan.reconcile.clues import MILESTONE_WORDS
from huikuan.reconcile.engine import to_cents
from huikuan.reconcile.remittance import rf_make, skeleton
from huikuan.reconcile.scoring import errors_by_rule, score, score_interchangeable

AS_OF = date(2026, 6, 30)
SEED = 11
SCALING_POINTS = (10_000, 100_000, 1_000_000)
_YEAR_SEQ = re.compile(r"(20\d\d)([ \-/]?)(\d{7})(?!\d)")
_CONTRACT = re.compile(r"(HT20\d\d)(\d{6})(?!\d)")  # the generator's contract numbers


def naive_exact_amount(bank: pd.DataFrame, open_items: pd.DataFrame) -> pd.DataFrame:
    """Baseline: a credit is linked when exactly one open item in its currency has the same amount."""
    b = bank.assign(cents=to_cents(bank["amount"]))
    b = b[(b.cents > 0) & ~b["is_reversal"].fillna(False).astype(bool)]
    o = open_items.assign(cents=to_cents(open_items["open_amount"]))
    o = o[o.cents > 0]
    counts = o.groupby(["currency", "cents"]).invoice_no.agg(["size", "first"]).reset_index()
    unique = counts[counts["size"] == 1].rename(columns={"first": "invoice_no"})
    m = b.merge(unique[["currency", "cents", "invoice_no"]], on=["currency", "cents"])
    return pd.DataFrame({"bank_txn_key": m.bank_txn_key, "invoice_no": m.invoice_no, "status": "auto"})


class _Frame:
    """Only what scoring reads: a result-like object for the baseline."""

    def __init__(self, matches, unmatched):
        self.matches, self.unmatched = matches, unmatched


def _credits(bank: pd.DataFrame) -> int:
    return int((to_cents(bank["amount"]) > 0).sum())


# Characters and words the engine reads for meaning (legal forms, branches, treasuries, non-receivable
# words, invoice prefixes) stay as they are when names are disguised for a copy.
_PROTECTED_CJK = set(
    "".join(_names._CN_LEGAL) + "分公司分行支行办事处项目部营业部分部中华人民共和国有限责任股份集团"
    + "市省区县局院财政国库集中支付中心第一二三四五六七八九十" + "".join(_engine.NON_RECEIVABLE_WORDS)
    + "".join(w for ws in MILESTONE_WORDS.values() for w in ws) + "年月合同号"
)
_PROTECTED_WORDS = {w.upper() for w in (
    "INV", "co", "ltd", "limited", "company", "inc", "corp", "corporation", "llc", "plc", "gmbh", "ag", "sa",
    "bv", "nv", "srl", "spa", "sarl", "kg", "oy", "ab", "pte", "pty", "the", "group", "holdings", "holding",
    "branch", "payment", "for", "invoice", "settlement", "HT", "contract", "progress", "acceptance", "advance",
    "final", "retention", "down",
)} | {w for phrase in _engine.NON_RECEIVABLE_WORDS if phrase.isascii() for w in phrase.split()}
_CJK = [chr(u) for u in range(0x4E00, 0xA000) if chr(u) not in _PROTECTED_CJK]
_CJK_POS = {ch: k for k, ch in enumerate(_CJK)}
_WORD = re.compile(r"[A-Za-z]{2,}")


def disguise(values: pd.Series, copy: int) -> pd.Series:
    """Names and texts of copy `copy`: a per-copy substitution of CJK characters and of letters in
    ordinary words, so every copy's payers are as distinct from each other's as real companies are,
    while legal forms, branches, treasury names and invoice prefixes read the same."""
    if copy == 0:
        return values
    shift = (copy * 7919) % len(_CJK)
    table = {ord(ch): _CJK[(k + shift) % len(_CJK)] for ch, k in _CJK_POS.items()}
    rng = np.random.default_rng(copy)
    perm = rng.permutation(26)
    lower = {ord("a") + i: chr(ord("a") + int(p)) for i, p in enumerate(perm)}
    upper = {ord("A") + i: chr(ord("A") + int(p)) for i, p in enumerate(perm)}

    def word(m):
        w = m.group(0)
        return w if w.upper() in _PROTECTED_WORDS else w.translate(lower).translate(upper)

    def one(v):
        if not isinstance(v, str):
            return v
        return _WORD.sub(word, v.translate(table))

    return values.map(one)


def replicate(inputs: dict, truth: pd.DataFrame, copies: int) -> tuple[dict, pd.DataFrame]:
    """`copies` disjoint copies of the data: fresh bank keys, invoice numbers, customers, names, accounts.

    Invoice numbers INV-YYYY-NNNNNNN become INV-YYYY-CCNNNNNNN and every written reference in the
    remittance text is rewritten the same way, so references stay exactly as hard to read; contract
    numbers HTYYYYNNNNNN become HTYYYYCCNNNNNN likewise; names, project names and texts are
    disguised per copy (see `disguise`).
    """
    banks, items, custs, truths = [], [], [], []
    bank, oi, cu = inputs["bank"], inputs["open_items"], inputs["customers"]
    for c in range(copies):
        tag = f"{c:02d}"

        def inv(s, c=c, tag=tag):
            return s if c == 0 else s.str.replace(r"^(.*-\d{4}-)", r"\g<1>" + tag, regex=True)

        def name(s, c=c):
            return disguise(s, c)

        def text(s, c=c, tag=tag):
            if c == 0:
                return s
            s = s.fillna("").str.replace(_YEAR_SEQ, lambda m: m.group(1) + m.group(2) + tag + m.group(3), regex=True)
            return contract(s)

        def contract(s, c=c, tag=tag):
            return s if c == 0 else s.str.replace(_CONTRACT, lambda m: m.group(1) + tag + m.group(2), regex=True)

        b = bank.copy()
        b["bank_txn_key"] = b["bank_txn_key"] + (f"~{tag}" if c else "")
        b["counterparty_name"] = name(b["counterparty_name"])
        b["counterparty_account"] = b["counterparty_account"].where(b["counterparty_account"].isna(),
                                                                    b["counterparty_account"].astype(str) + (tag if c else ""))
        for col in ("remittance_text", "end_to_end_id"):
            b[col] = text(b[col]) if c else b[col]
        b["remittance_text"] = disguise(b["remittance_text"], c)
        if c:
            sr = b["structured_reference"]
            has = sr.notna() & sr.astype(str).str.startswith("RF")
            b.loc[has, "structured_reference"] = [_rf_copy(v, tag) for v in sr[has]]
        o = oi.copy()
        o["invoice_no"] = inv(o["invoice_no"])
        if "original_invoice_no" in o.columns:
            o["original_invoice_no"] = o["original_invoice_no"].where(o["original_invoice_no"].isna(),
                                                                      inv(o["original_invoice_no"].fillna("")))
        o["customer_id"] = o["customer_id"] + (f"~{tag}" if c else "")
        # Contracts and project names read by the remittance clues change with the copy too.
        if "contract_id" in o.columns:
            o["contract_id"] = o["contract_id"].where(o["contract_id"].isna(), contract(o["contract_id"].fillna("")))
        if "project_id" in o.columns:
            o["project_id"] = o["project_id"].where(o["project_id"].isna(), o["project_id"] + (f"~{tag}" if c else ""))
        if "project_name" in o.columns:
            o["project_name"] = name(o["project_name"])
        k = cu.copy()
        k["customer_id"] = k["customer_id"] + (f"~{tag}" if c else "")
        k["parent_customer_id"] = k["parent_customer_id"].where(k["parent_customer_id"].isna(),
                                                                k["parent_customer_id"] + (f"~{tag}" if c else ""))
        k["customer_name"] = name(k["customer_name"])
        t = truth.copy()
        t["bank_txn_key"] = t["bank_txn_key"] + (f"~{tag}" if c else "")
        t["invoice_no"] = inv(t["invoice_no"])
        banks.append(b), items.append(o), custs.append(k), truths.append(t)
    out = dict(inputs)
    out.update(bank=pd.concat(banks, ignore_index=True), open_items=pd.concat(items, ignore_index=True),
               customers=pd.concat(custs, ignore_index=True))
    return out, pd.concat(truths, ignore_index=True)


def _rf_copy(reference: str, tag: str) -> str:
    """The RF reference of the copied invoice: payload INVYYYYNNNNNNN becomes INVYYYYCCNNNNNNN."""
    payload = skeleton(reference)[4:]
    return rf_make(payload[:7] + tag + payload[7:]) if payload.startswith("INV") else reference


def _take_receipts(inputs: dict, truth: pd.DataFrame, receipts: int) -> tuple[dict, pd.DataFrame]:
    """Replicate enough copies for `receipts` credit lines, then cut the bank lines to that count."""
    per_copy = max(_credits(inputs["bank"]), 1)
    copies = max(1, -(-receipts // per_copy))
    big, big_truth = replicate(inputs, truth, copies) if copies > 1 else (inputs, truth)
    bank = big["bank"]
    credit = to_cents(bank["amount"]) > 0
    keep = np.flatnonzero(credit)[:receipts]
    bank = bank.iloc[np.sort(np.r_[keep, np.flatnonzero(~credit)[: len(keep) // 3]])].reset_index(drop=True)
    big = dict(big, bank=bank)
    return big, big_truth[big_truth.bank_txn_key.isin(set(bank.bank_txn_key))]


def run(invoices: int, workdir: Path, scaling: bool = True, max_receipts: int = SCALING_POINTS[-1],
        seed: int = SEED) -> dict:
    from huikuan.generate import generate
    from huikuan.ingest.load import ingest_paths

    workdir = Path(workdir)
    out = workdir / "generated"
    t0 = time.perf_counter()
    generate(out=out, invoices=invoices, seed=seed, as_of=AS_OF)
    t_gen = time.perf_counter() - t0
    wh = workdir / "warehouse.duckdb"
    t0 = time.perf_counter()
    results = ingest_paths([out / "landing"], wh, landing_root=out / "landing")
    t_ingest = time.perf_counter() - t0
    rejected = [r.file for r in results if r.status == "rejected"]
    con = duckdb.connect(str(wh), read_only=True)
    try:
        inputs = load_inputs(con)
    finally:
        con.close()
    truth = pd.read_csv(out / "truth" / "payment_links.csv", dtype=str)
    noise = noise_shares(out)

    t0, c0 = time.perf_counter(), time.process_time()
    result = reconcile(inputs["bank"], inputs["open_items"], inputs["customers"], config=ReconcileConfig())
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    credits = _credits(inputs["bank"])
    figures = score(result, truth, credits)
    twins = score_interchangeable(result, truth, inputs["open_items"], credits)

    t0 = time.perf_counter()
    base_matches = naive_exact_amount(inputs["bank"], inputs["open_items"])
    base_seconds = time.perf_counter() - t0
    linked = set(base_matches.bank_txn_key)
    b = inputs["bank"]
    base_unmatched = pd.DataFrame({"reason": ["no_candidate"] * int(
        ((to_cents(b["amount"]) > 0) & ~b["bank_txn_key"].isin(linked)).sum())})
    baseline = score(_Frame(base_matches, base_unmatched), truth, credits)

    rules = errors_by_rule(result, truth).reset_index().to_dict("records")
    reasons = result.unmatched.reason.value_counts().to_dict()
    res = {
        "invoices": invoices,
        "seed": seed,
        "receipts": figures["credits"],
        "receivable_receipts": figures["receivable_receipts"],
        "payment_match_rate": figures["payment_match_rate"],
        "invoice_match_rate": figures["invoice_match_rate"],
        "precision": figures["precision"],
        "review_share": figures["review_share"],
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "auto_links": figures["auto_links"],
        "wrong_auto_links": figures["wrong_auto_links"],
        # The figures above are strict: only the generator's very invoice counts. Here a link to an
        # interchangeable twin (same customer, currency, contract and amount) counts as right too.
        "interchangeable_aware": {
            "rule": "a link to an invoice of the same customer, currency, contract and gross amount as a "
                    "true one counts as right (per receipt, as multisets of such classes)",
            **{k: twins[k] for k in ("payment_match_rate", "invoice_match_rate", "precision", "auto_links",
                                     "wrong_auto_links")},
        },
        "by_rule": rules,
        "missed_links": missed_links(result, truth),
        "unmatched_reasons": {k: int(v) for k, v in reasons.items()},
        "baseline": {"name": "exact amount only, unique open item in the currency", **baseline,
                     "seconds": round(base_seconds, 3)},
        "ratio": {
            "payment_match_rate": _ratio(figures["payment_match_rate"], baseline["payment_match_rate"]),
            "precision": _ratio(figures["precision"], baseline["precision"]),
        },
        "generate_seconds": round(t_gen, 2),
        "ingest_seconds": round(t_ingest, 2),
        "rejected_files": rejected,
        "targets": {"precision": 0.995, "payment_match_rate": 0.95, "invoice_match_rate": 0.97},
        "noise": noise,
    }
    if scaling:
        curve = []
        for n in (p for p in SCALING_POINTS if p <= max_receipts):
            big, big_truth = _take_receipts(inputs, truth, n)
            t0, c0 = time.perf_counter(), time.process_time()
            r = reconcile(big["bank"], big["open_items"], big["customers"])
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
            s = score(r, big_truth, _credits(big["bank"]))
            curve.append({"receipts": s["credits"], "open_items": len(big["open_items"]),
                          "seconds": round(secs, 2), "cpu_seconds": round(cpu, 2),
                          "load_1min": round(os.getloadavg()[0], 1), "payment_match_rate": s["payment_match_rate"],
                          "precision": s["precision"], "invoice_match_rate": s["invoice_match_rate"],
                          "precision_interchangeable": score_interchangeable(
                              r, big_truth, big["open_items"], s["credits"])["precision"]})
            del big, r
        res["scaling"] = curve
    return res


# The noise the issue requires of the generated data (at least these shares), by manifest key.
REQUIRED_NOISE = {
    "receipts_without_invoice_ref": 0.20,
    "receipts_combined": 0.10,
    "invoices_paid_in_parts": 0.05,
    "receipts_fee_short": 0.03,
    "receipts_payer_name_variant": None,  # required to exist; no share given
    "credit_lines_non_receivable": 0.05,
}


def noise_shares(generated: Path) -> dict:
    """The generator's measured noise shares (manifest.json) next to the required minimum, and
    what share of the receipts without an invoice number name a milestone, project or contract."""
    import json

    shares = json.loads((Path(generated) / "manifest.json").read_text(encoding="utf-8"))["shares"]
    out = {k: {"measured": shares.get(k), "required_at_least": v,
               "ok": shares.get(k) is not None and (v is None and shares[k] > 0 or v is not None and shares[k] >= v)}
           for k, v in REQUIRED_NOISE.items()}
    out["all_ok"] = all(v["ok"] for v in out.values())
    return out


def missed_links(result, truth: pd.DataFrame) -> dict:
    """True links not applied automatically, by the generator's link kind and what the engine did
    with the receipt instead (proposed by which rule, or why unmatched): where the rate is lost."""
    auto = result.matches[result.matches.status == "auto"]
    applied = set(zip(auto.bank_txn_key.astype(str), auto.invoice_no.astype(str)))
    t = truth.copy()
    t = t[[(k, i) not in applied for k, i in zip(t.bank_txn_key, t.invoice_no)]]
    first = result.proposals[result.proposals["rank"] == 1].drop_duplicates("bank_txn_key").set_index("bank_txn_key").rule
    reason = result.unmatched.set_index("bank_txn_key").reason
    matched = set(auto.bank_txn_key)
    outcome = [
        f"proposed:{first[k]}" if k in first.index and reason.get(k) == "proposed"
        else (f"unmatched:{reason[k]}" if k in reason.index else ("other_invoice" if k in matched else "absent"))
        for k in t.bank_txn_key
    ]
    kind = t["link_kind"] if "link_kind" in t.columns else pd.Series("link", index=t.index)
    counts = pd.Series(1, index=pd.MultiIndex.from_arrays([kind.to_numpy(), outcome])).groupby(level=[0, 1]).sum()
    return {f"{k}|{o}": int(v) for (k, o), v in counts.sort_values(ascending=False).head(25).items()}


def _ratio(a, b):
    return round(a / b, 3) if a is not None and b else None
