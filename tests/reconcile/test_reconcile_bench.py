"""The benchmark's replication: copies are disjoint and exactly as hard as the original."""

from __future__ import annotations

import pandas as pd

from bench.reconcile import disguise, naive_exact_amount, replicate
from huikuan.reconcile import reconcile
from huikuan.reconcile.remittance import rf_make
from huikuan.reconcile.scoring import score


def _inputs():
    customers = pd.DataFrame([
        ("C1", "北京华建工程有限公司", None, None), ("C2", "上海申通物流有限公司", None, None),
        ("P1", "华东能源集团有限公司", None, None), ("S1", "华东能源苏州电力有限公司", "P1", None),
    ], columns=["customer_id", "customer_name", "parent_customer_id", "tax_id"])
    items = pd.DataFrame([
        ("INV-2026-0000101", "C1", "CNY", 10000.0, "2026-01-05"), ("INV-2026-0000102", "C1", "CNY", 25000.0, "2026-01-20"),
        ("INV-2026-0000201", "C2", "CNY", 5000.0, "2026-01-10"), ("INV-2026-0000301", "S1", "CNY", 88000.0, "2026-01-15"),
    ], columns=["invoice_no", "customer_id", "currency", "open_amount", "issue_date"])
    items["due_date"] = items["issue_date"]
    items["original_invoice_no"] = None
    bank = pd.DataFrame([
        ("K1", "2026-03-01", 25000.0, "北京华建工程有限公司", None, "支付 2026-0000102 工程款", None),
        ("K2", "2026-03-02", 35000.0, "北京华建工程(集团)有限公司", None, "货款", None),
        ("K3", "2026-03-03", 88000.0, "华东能源集团有限公司", "6222", "代付", None),
        ("K4", "2026-03-04", 5000.0, "上海申通物流有限公司", None, "", rf_make("INV20260000201")),
        ("K5", "2026-03-05", 12.5, "某银行", None, "结息", None),
    ], columns=["bank_txn_key", "booking_date", "amount", "counterparty_name", "counterparty_account",
                "remittance_text", "structured_reference"])
    bank["currency"], bank["is_reversal"], bank["end_to_end_id"] = "CNY", False, None
    truth = pd.DataFrame([("K1", "INV-2026-0000102"), ("K2", "INV-2026-0000101"), ("K2", "INV-2026-0000102"),
                          ("K3", "INV-2026-0000301"), ("K4", "INV-2026-0000201")], columns=["bank_txn_key", "invoice_no"])
    return {"bank": bank, "open_items": items, "customers": customers}, truth


def test_copies_are_disjoint_and_score_like_the_original():
    inputs, truth = _inputs()
    one = score(reconcile(inputs["bank"], inputs["open_items"], inputs["customers"]), truth, 5)
    big, big_truth = replicate(inputs, truth, 3)
    assert big["bank"].bank_txn_key.is_unique and big["open_items"].invoice_no.is_unique
    assert big["customers"].customer_id.is_unique and big["customers"].customer_name.is_unique
    three = score(reconcile(big["bank"], big["open_items"], big["customers"]), big_truth, 15)
    for key in ("payment_match_rate", "invoice_match_rate", "precision", "review_share"):
        assert three[key] == one[key], key
    assert three["auto_links"] == 3 * one["auto_links"]


def test_disguise_keeps_what_the_engine_reads():
    s = pd.Series(["北京华建工程有限公司北京分公司", "济南市财政局国库支付中心", "支付INV-2025-0001234工程款", "活期结息", None])
    out = disguise(s, 5)
    assert out[0] != s[0] and out[0].endswith("有限公司" + out[0][:2] + "分公司")
    assert out[1].endswith("市财政局国库支付中心") and out[2].startswith("支付INV-2025-0001234") and out[3].endswith("结息")
    assert out[4] is None or pd.isna(out[4])
    assert disguise(s, 0).equals(s)


def test_naive_baseline_links_unique_amounts_only():
    inputs, _ = _inputs()
    m = naive_exact_amount(inputs["bank"], inputs["open_items"])
    assert sorted(zip(m.bank_txn_key, m.invoice_no)) == [
        ("K1", "INV-2026-0000102"), ("K3", "INV-2026-0000301"), ("K4", "INV-2026-0000201")]


def test_noise_shares_are_read_from_the_manifest_against_the_required_minimum(tmp_path):
    import json

    from bench.reconcile import REQUIRED_NOISE, noise_shares

    shares = {k: (v or 0.3) + 0.001 for k, v in REQUIRED_NOISE.items()}
    (tmp_path / "manifest.json").write_text(json.dumps({"shares": shares}), encoding="utf-8")
    got = noise_shares(tmp_path)
    assert got["all_ok"] and got["receipts_combined"] == {"measured": 0.101, "required_at_least": 0.1, "ok": True}
    shares["receipts_combined"] = 0.0956
    (tmp_path / "manifest.json").write_text(json.dumps({"shares": shares}), encoding="utf-8")
    got = noise_shares(tmp_path)
    assert not got["all_ok"] and not got["receipts_combined"]["ok"] and got["receipts_fee_short"]["ok"]
