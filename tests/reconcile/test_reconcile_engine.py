"""The engine's rules on hand-made cases: one behaviour per test, with the expected rule and amounts."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from huikuan.reconcile import ReconcileConfig, reconcile

CUSTOMERS = pd.DataFrame(
    [
        ("C1", "北京华建工程有限公司", None, "91110000000000001X"),
        ("C2", "上海申通物流有限公司", None, None),
        ("P1", "华东能源集团有限公司", None, None),
        ("S1", "华东能源苏州电力有限公司", "P1", None),
        ("S2", "华东能源杭州热力有限公司", "P1", None),
        ("F1", "ACME Engineering Co., Ltd.", None, None),
    ],
    columns=["customer_id", "customer_name", "parent_customer_id", "tax_id"],
)


def items(*rows):
    return pd.DataFrame(
        [(no, cid, cur, amt, issue, issue) for no, cid, cur, amt, issue in rows],
        columns=["invoice_no", "customer_id", "currency", "open_amount", "issue_date", "due_date"],
    )


def bank(*rows):
    out = []
    for k, r in enumerate(rows):
        base = {"bank_txn_key": f"B{k + 1}", "booking_date": "2026-03-01", "currency": "CNY", "counterparty_name": None,
                "counterparty_account": None, "remittance_text": None, "is_reversal": False, "account_id": "A1"}
        base.update(r)
        out.append(base)
    return pd.DataFrame(out)


def run(b, o, decisions=None, aliases=None, **cfg):
    return reconcile(b, o, CUSTOMERS, decisions, aliases, config=ReconcileConfig(**cfg))


def applied(result, status="auto"):
    m = result.matches[result.matches.status == status]
    return sorted((r.bank_txn_key, r.invoice_no, r.applied_amount) for r in m.itertuples())


OPEN = items(
    ("INV-2026-0000101", "C1", "CNY", 10000.00, "2026-01-05"),
    ("INV-2026-0000102", "C1", "CNY", 25000.00, "2026-01-20"),
    ("INV-2026-0000103", "C1", "CNY", 7300.50, "2026-02-01"),
    ("INV-2026-0000201", "C2", "CNY", 5000.00, "2026-01-10"),
    ("INV-2026-0000202", "C2", "CNY", 5000.00, "2026-02-10"),
    ("INV-2026-0000301", "S1", "CNY", 88000.00, "2026-01-15"),
    ("INV-2026-0000401", "F1", "USD", 12000.00, "2026-01-15"),
)


def test_reference_in_chinese_text_exact_amount():
    r = run(bank({"amount": 25000.00, "remittance_text": "支付INV-2026-0000102工程款"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000102", 25000.0)]
    m = r.matches.iloc[0]
    assert m.rule == "reference_exact" and m.confidence >= 0.9
    assert json.loads(m.evidence)["references"] == ["INV-2026-0000102"]


def test_several_references_summed():
    r = run(bank({"amount": 35000.00, "remittance_text": "inv 2026 0000101 / INV20260000102 进度款"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000101", 10000.0), ("B1", "INV-2026-0000102", 25000.0)]


def test_reference_with_bank_fee_written_off():
    r = run(bank({"amount": 24985.00, "remittance_text": "INV-2026-0000102"}), OPEN)
    m = r.matches.iloc[0]
    assert (m.rule, m.applied_amount, m.written_off_amount) == ("reference_short_payment", 24985.0, 15.0)
    assert "fee" in m.write_off_reason


def test_reference_partial_payment():
    r = run(bank({"amount": 5000.00, "remittance_text": "INV-2026-0000102 部分付款"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000102", 5000.0)]
    assert r.matches.iloc[0].rule == "reference_partial"


def test_reference_overpayment_kept_as_credit():
    r = run(bank({"amount": 26000.00, "remittance_text": "INV-2026-0000102"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000102", 25000.0)]
    assert r.unapplied.amount.tolist() == [1000.0]


def test_payer_by_name_variant_exact_amount():
    r = run(bank({"amount": 7300.50, "counterparty_name": "北京华建工程(集团)有限公司北京分公司"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000103", 7300.5)]
    assert r.matches.iloc[0].rule == "payer_exact"


def test_payer_combination_subset_sum():
    r = run(bank({"amount": 17300.50, "counterparty_name": "北京华建工程有限责任公司"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000101", 10000.0), ("B1", "INV-2026-0000103", 7300.5)]
    assert r.matches.iloc[0].rule == "payer_combination"


def test_payer_short_payment_within_tolerance():
    r = run(bank({"amount": 7290.50, "counterparty_name": "北京华建工程有限公司"}), OPEN)
    m = r.matches.iloc[0]
    assert (m.invoice_no, m.rule, m.written_off_amount) == ("INV-2026-0000103", "payer_short_payment", 10.0)


def test_equal_amounts_go_to_the_item_due_nearest_the_payment():
    # Due 2026-01-10 and 2026-02-10, paid 2026-03-01: 19 against 50 days is too close to call.
    r = run(bank({"amount": 5000.00, "counterparty_name": "上海申通物流有限公司"}), OPEN)
    assert applied(r) == []
    assert r.proposals.invoice_no.tolist() == ["INV-2026-0000202"]
    assert r.unmatched.reason.tolist() == ["proposed"]
    # Paid two days after one due date and 92 after the other: the nearer one is applied.
    r = run(bank({"amount": 5000.00, "counterparty_name": "上海申通物流有限公司", "booking_date": "2026-04-12"}),
            items(("INV-2026-0000201", "C2", "CNY", 5000.00, "2026-01-10"),
                  ("INV-2026-0000202", "C2", "CNY", 5000.00, "2026-04-10")))
    assert applied(r) == [("B1", "INV-2026-0000202", 5000.0)]
    assert json.loads(r.matches.evidence.iloc[0])["next_candidate_days_further"] >= 45


def test_partial_round_share_of_one_invoice():
    # 30 % of the 10 000.00 invoice, and a round share of no other open item.
    r = run(bank({"amount": 3000.00, "counterparty_name": "北京华建工程有限公司"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000101", 3000.0)]
    assert r.matches.iloc[0].rule == "payer_partial_share"


def test_partial_payment_with_several_open_items_is_proposed_oldest_first():
    r = run(bank({"amount": 3123.45, "counterparty_name": "北京华建工程有限公司"}), OPEN)
    assert applied(r) == []
    assert r.proposals.iloc[0].invoice_no == "INV-2026-0000101"
    assert r.proposals.iloc[0].rule == "payer_partial"


def test_parent_company_pays_for_subsidiary():
    r = run(bank({"amount": 88000.00, "counterparty_name": "华东能源集团有限公司"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000301", 88000.0)]
    assert r.matches.iloc[0].rule == "group_payer_exact"


def test_foreign_currency_and_english_name():
    r = run(bank({"amount": 12000.00, "currency": "USD", "counterparty_name": "ACME ENGINEERING COMPANY LIMITED"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000401", 12000.0)]


def test_lines_that_are_not_receipts_are_explained():
    r = run(
        bank(
            {"amount": -500.00},
            {"amount": 0},
            {"amount": 300.00, "currency": "JPY"},
            {"amount": 12.34, "remittance_text": "活期结息"},
            {"amount": 999.99, "counterparty_name": "某个陌生公司"},
        ),
        OPEN,
    )
    assert dict(zip(r.unmatched.bank_txn_key, r.unmatched.reason)) == {
        "B1": "debit", "B2": "zero_amount", "B3": "no_open_items_in_currency", "B4": "not_receivable",
        "B5": "no_candidate",
    }
    assert r.matches.empty


def test_reversal_cancels_the_original_receipt():
    r = run(
        bank(
            {"amount": 7300.50, "counterparty_name": "北京华建工程有限公司", "booking_date": "2026-03-01"},
            {"amount": -7300.50, "counterparty_name": "北京华建工程有限公司", "booking_date": "2026-03-02",
             "is_reversal": True},
        ),
        OPEN,
    )
    assert r.matches.empty
    assert dict(zip(r.unmatched.bank_txn_key, r.unmatched.reason)) == {"B1": "reversed", "B2": "reversal"}


def test_unknown_payer_gets_suggestions_not_matches():
    r = run(bank({"amount": 25000.00, "counterparty_name": "无关公司"}), OPEN)
    assert r.matches.empty
    assert r.proposals.invoice_no.tolist() == ["INV-2026-0000102"]
    assert json.loads(r.unmatched.iloc[0].suggestions)[0]["invoice_no"] == "INV-2026-0000102"


def test_invoice_issued_after_the_receipt_is_not_a_candidate():
    r = run(bank({"amount": 7300.50, "counterparty_name": "北京华建工程有限公司", "booking_date": "2026-01-25"}), OPEN)
    assert applied(r) == []


def test_open_amounts_are_consumed_in_booking_order():
    r = run(
        bank(
            {"amount": 10000.00, "counterparty_name": "北京华建工程有限公司", "booking_date": "2026-03-02"},
            {"amount": 10000.00, "remittance_text": "INV-2026-0000101", "booking_date": "2026-03-01"},
        ),
        OPEN,
    )
    # The referenced payment came first and took the invoice; the second one no longer fits it.
    assert ("B2", "INV-2026-0000101", 10000.0) in applied(r)
    assert "INV-2026-0000101" not in set(r.matches[r.matches.bank_txn_key == "B1"].invoice_no)


def decisions(*rows):
    return pd.DataFrame(
        [{"decision_id": k + 1, "bank_txn_key": key, "invoice_no": inv, "amount": amt, "decision": d, "decided_by": "wang",
              "decided_at": "2026-03-05T00:00:00", "reason": None} for k, (key, inv, amt, d) in enumerate(rows)]
    )


def test_person_decision_wins_over_the_rules():
    b = bank({"amount": 25000.00, "remittance_text": "INV-2026-0000102"})
    r = run(b, OPEN, decisions(("B1", "INV-2026-0000101", 10000.0, "manual_match")))
    assert applied(r, "manual") == [("B1", "INV-2026-0000101", 10000.0)]
    assert applied(r) == []
    assert r.matches.iloc[0].rule == "decision"
    assert r.unapplied.amount.tolist() == [15000.0]


def test_rejected_pair_is_never_proposed_again():
    b = bank({"amount": 25000.00, "remittance_text": "INV-2026-0000102"})
    r = run(b, OPEN, decisions(("B1", "INV-2026-0000102", None, "reject")))
    assert applied(r) == []
    assert "INV-2026-0000102" not in set(r.proposals.invoice_no)


def test_latest_decision_wins():
    b = bank({"amount": 25000.00, "remittance_text": "INV-2026-0000102"})
    r = run(b, OPEN, decisions(("B1", "INV-2026-0000102", None, "reject"), ("B1", "INV-2026-0000102", 25000.0, "confirm")))
    assert applied(r, "manual") == [("B1", "INV-2026-0000102", 25000.0)]


def test_not_receivable_decision():
    b = bank({"amount": 25000.00, "remittance_text": "INV-2026-0000102"})
    r = run(b, OPEN, decisions(("B1", None, None, "not_receivable")))
    assert r.matches.empty and r.unmatched.reason.tolist() == ["not_receivable"]


def test_decision_consumes_the_open_amount_before_rules_run():
    b = bank(
        {"amount": 10000.00, "remittance_text": "INV-2026-0000101", "booking_date": "2026-03-01"},
        {"amount": 10000.00, "booking_date": "2026-03-03"},
    )
    r = run(b, OPEN, decisions(("B2", "INV-2026-0000101", 10000.0, "manual_match")))
    assert applied(r, "manual") == [("B2", "INV-2026-0000101", 10000.0)]
    assert applied(r) == []


def test_alias_identifies_payer_by_account_and_name():
    aliases = pd.DataFrame([
        {"alias_id": 1, "payer_name": None, "counterparty_account": "6222 0000 1111", "customer_id": "C1",
             "learned_from": "decision:1", "created_by": "x", "created_at": "2026-01-01"},
        {"alias_id": 2, "payer_name": "老华建", "counterparty_account": None, "customer_id": "C1",
             "learned_from": "decision:2", "created_by": "x", "created_at": "2026-01-01"},
    ])
    b = bank({"amount": 7300.50, "counterparty_name": "张三", "counterparty_account": "622200001111"},
             {"amount": 10000.00, "counterparty_name": "老华建"})
    r = run(b, OPEN, aliases=aliases)
    assert applied(r) == [("B1", "INV-2026-0000103", 7300.5), ("B2", "INV-2026-0000101", 10000.0)]
    methods = [json.loads(e)["payer"]["method"] for e in r.matches.evidence]
    assert methods == ["account", "alias"]


def test_threshold_controls_auto_versus_proposed():
    b = bank({"amount": 7300.50, "counterparty_name": "北京华建工程有限公司"})
    assert not run(b, OPEN, auto_threshold=0.999).proposals.empty
    assert run(b, OPEN, auto_threshold=0.999).matches.empty


def test_missing_columns_and_duplicate_keys_are_errors():
    with pytest.raises(ValueError, match="missing columns"):
        reconcile(pd.DataFrame({"bank_txn_key": ["x"]}), OPEN, CUSTOMERS)
    b = pd.concat([bank({"amount": 1.0}), bank({"amount": 2.0})])
    with pytest.raises(ValueError, match="unique"):
        reconcile(b, OPEN, CUSTOMERS)


def test_every_bank_line_is_accounted_for():
    b = bank(
        {"amount": 25000.00, "remittance_text": "INV-2026-0000102"},
        {"amount": -1.0},
        {"amount": 5000.00, "counterparty_name": "上海申通物流有限公司"},
        {"amount": 123.0},
    )
    r = run(b, OPEN)
    seen = set(r.matches.bank_txn_key) | set(r.unmatched.bank_txn_key)
    assert seen == set(b.bank_txn_key)
    assert not set(r.matches.bank_txn_key) & set(r.unmatched.bank_txn_key)


def test_scoring_definitions():
    from huikuan.reconcile.scoring import score

    b = bank(
        {"amount": 35000.00, "remittance_text": "INV-2026-0000101 INV-2026-0000102"},  # right
        {"amount": 7300.50, "counterparty_name": "北京华建工程有限公司"},  # right
        {"amount": 88000.00, "counterparty_name": "华东能源集团有限公司"},  # wrong per the truth below
        {"amount": 5000.00, "counterparty_name": "上海申通物流有限公司"},  # proposed only
        {"amount": 1.23},  # a credit that belongs to no invoice
    )
    r = run(b, OPEN)
    truth = pd.DataFrame(
        [("B1", "INV-2026-0000101"), ("B1", "INV-2026-0000102"), ("B2", "INV-2026-0000103"),
         ("B3", "INV-2026-0000999"), ("B4", "INV-2026-0000202")],
        columns=["bank_txn_key", "invoice_no"],
    )
    s = score(r, truth, credits=5)
    assert s["receivable_receipts"] == 4
    assert s["payment_match_rate"] == 0.5  # B1, B2 of B1..B4
    assert s["invoice_match_rate"] == 0.6  # 3 of 5 true links
    assert s["precision"] == 0.75  # 3 of 4 automatic links
    assert s["review_share"] == 0.4  # B4 proposed, B5 no candidate, of 5 credits


def test_invoice_paid_net_of_its_credit_note():
    o = pd.concat([OPEN, items(("CN-2026-0000009", "C1", "CNY", -2000.00, "2026-02-10"))], ignore_index=True)
    o["original_invoice_no"] = [None] * len(OPEN) + ["INV-2026-0000102"]
    r = run(bank({"amount": 23000.00, "remittance_text": "INV-2026-0000102"},
                 {"amount": 23000.00, "counterparty_name": "北京华建工程有限公司", "booking_date": "2026-03-05"}), o)
    assert applied(r) == [("B1", "CN-2026-0000009", -2000.0), ("B1", "INV-2026-0000102", 25000.0)]
    o2 = o.copy()
    r2 = run(bank({"amount": 23000.00, "counterparty_name": "北京华建工程有限公司"}), o2)
    assert applied(r2) == [("B1", "CN-2026-0000009", -2000.0), ("B1", "INV-2026-0000102", 25000.0)]
    assert set(r2.matches.rule) == {"payer_exact_net_of_credit"}


def test_account_seen_with_a_known_name_identifies_other_lines():
    r = run(bank({"amount": 10000.00, "counterparty_name": "北京华建工程有限公司", "counterparty_account": "6222 01"},
                 {"amount": 7300.50, "counterparty_name": "华建老账户", "counterparty_account": "622201"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000101", 10000.0), ("B2", "INV-2026-0000103", 7300.5)]
    assert json.loads(r.matches.evidence.iloc[1])["payer"]["method"] == "account_seen"


def test_city_treasury_pays_for_a_public_body():
    cust = pd.concat([CUSTOMERS, pd.DataFrame([
        ("G1", "苏州市第三人民医院", None, None, "government"),
        ("G2", "苏州市交通运输局", None, None, "government"),
        ("G3", "杭州市交通运输局", None, None, "government"),
    ], columns=["customer_id", "customer_name", "parent_customer_id", "tax_id", "customer_type"])], ignore_index=True)
    o = pd.concat([OPEN, items(("INV-2026-0000501", "G2", "CNY", 61000.00, "2026-01-15"),
                               ("INV-2026-0000502", "G3", "CNY", 62000.00, "2026-01-15"))], ignore_index=True)
    r = reconcile(bank({"amount": 61000.00, "counterparty_name": "苏州市财政局国库支付中心"},
                       {"amount": 62000.00, "counterparty_name": "苏州市财政局国库支付中心"}), o, cust)
    # Only Suzhou's public bodies are candidates: the Hangzhou invoice is only an amount-only suggestion.
    found = pd.concat([r.matches[["bank_txn_key", "invoice_no", "rule"]], r.proposals[["bank_txn_key", "invoice_no", "rule"]]])
    rules = {(k, i): rule for k, i, rule in found.itertuples(index=False)}
    assert rules[("B1", "INV-2026-0000501")] == "payer_set_exact"
    assert rules[("B2", "INV-2026-0000502")] == "amount_only"


def test_deposit_refund_from_a_customer_is_not_applied_to_invoices():
    r = run(bank({"amount": 10000.00, "counterparty_name": "北京华建工程有限公司", "remittance_text": "投标保证金退还"}), OPEN)
    assert r.matches.empty and r.unmatched.reason.tolist() == ["not_receivable"]


def test_retention_money_is_a_receipt_although_it_says_deposit():
    r = run(bank({"amount": 7300.50, "counterparty_name": "北京华建工程有限公司", "remittance_text": "支付工程质量保证金"}),
            OPEN)
    assert r.unmatched.empty and [row[0] for row in applied(r)] == ["B1"]


def test_payer_name_at_the_start_of_the_text_when_the_statement_has_no_name_field():
    r = run(bank({"amount": 12000.00, "currency": "USD", "remittance_text": "ACME ENGINEERING CO LTD TRADE SETTLEMENT"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000401", 12000.0)]
    assert json.loads(r.matches.evidence.iloc[0])["payer"]["method"] == "name_in_text"


def test_combination_prefers_items_due_when_the_payer_pays():
    o = items(
        ("INV-2025-0000001", "C2", "CNY", 1000.00, "2025-01-10"),
        ("INV-2025-0000002", "C2", "CNY", 2000.00, "2025-01-10"),
        ("INV-2026-0000003", "C2", "CNY", 1000.00, "2026-02-20"),
        ("INV-2026-0000004", "C2", "CNY", 2000.00, "2026-02-25"),
    )
    r = run(bank({"amount": 3000.00, "counterparty_name": "上海申通物流有限公司"}), o)
    # Two combinations add up; the recent pair is due around the payment, the old pair a year ago.
    assert applied(r) == [("B1", "INV-2026-0000003", 1000.0), ("B1", "INV-2026-0000004", 2000.0)]


def test_fully_reversed_invoice_is_not_open():
    o = pd.concat([OPEN, items(("CN-2026-0000010", "C1", "CNY", -7300.50, "2026-02-05"))], ignore_index=True)
    o["original_invoice_no"] = [None] * len(OPEN) + ["INV-2026-0000103"]
    r = run(bank({"amount": 7300.50, "counterparty_name": "北京华建工程有限公司"}), o)
    assert "INV-2026-0000103" not in set(r.matches.invoice_no)


def test_names_differing_only_in_legal_form_are_two_customers():
    cust = pd.concat([CUSTOMERS, pd.DataFrame([
        ("E1", "Sterling Resources China GmbH", None, None), ("E2", "Sterling Resources China S.r.l.", None, None),
    ], columns=["customer_id", "customer_name", "parent_customer_id", "tax_id"])], ignore_index=True)
    o = items(("INV-2026-0000601", "E1", "EUR", 21300.00, "2026-01-15"), ("INV-2026-0000602", "E2", "EUR", 21300.00, "2026-01-15"))
    r = reconcile(bank({"amount": 21300.00, "currency": "EUR", "counterparty_name": "sterling resources china gmbh"},
                       {"amount": 21300.00, "currency": "EUR", "remittance_text": "Sterling Resources China S.r.l. TRADE SETTLEMENT"}),
                  o, cust)
    assert applied(r) == [("B1", "INV-2026-0000601", 21300.0), ("B2", "INV-2026-0000602", 21300.0)]


def test_reference_beats_a_disagreeing_payer_name_only_when_exact():
    b = bank({"amount": 25000.00, "remittance_text": "INV-2026-0000102", "counterparty_name": "上海申通物流有限公司"},
             {"amount": 5000.00, "remittance_text": "INV-2026-0000103", "counterparty_name": "上海申通物流有限公司"})
    r = run(b, OPEN)
    assert applied(r) == [("B1", "INV-2026-0000102", 25000.0)]
    assert json.loads(r.matches.evidence.iloc[0])["payer_conflict"] is True
    assert r.proposals.bank_txn_key.tolist() == ["B2"]  # a partial payment by someone else: a person looks


def test_a_brand_alone_names_its_group():
    # 华东 appears only in the 华东能源 group's names: the head pays, a subsidiary's item fits.
    r = run(bank({"amount": 88000.00, "counterparty_name": "华东"}), OPEN)
    assert applied(r) == [("B1", "INV-2026-0000301", 88000.0)]
    assert json.loads(r.matches.evidence.iloc[0])["payer"]["method"] == "group_brand"


def test_an_account_used_for_several_group_companies_is_the_group_head():
    b = bank({"amount": 10.0, "remittance_text": "INV-2026-0000301", "counterparty_account": "9001"},
             {"amount": 20.0, "remittance_text": "INV-2026-0000777", "counterparty_account": "9001"},
             {"amount": 88000.00 - 10.0, "counterparty_account": "9001", "booking_date": "2026-03-09"})
    o = pd.concat([OPEN, items(("INV-2026-0000777", "S2", "CNY", 500.00, "2026-01-15"))], ignore_index=True)
    r = run(b, o)
    m = r.matches[r.matches.bank_txn_key == "B3"]
    assert m.invoice_no.tolist() == ["INV-2026-0000301"]
    assert json.loads(m.evidence.iloc[0])["payer"]["method"] == "account_seen_group"


def _contract_items(*rows):
    """Open items with a contract: (invoice_no, customer, amount, due_date, contract_id)."""
    return pd.DataFrame(
        [(no, cid, "CNY", amt, "2025-12-01", due, contract) for no, cid, amt, due, contract in rows],
        columns=["invoice_no", "customer_id", "currency", "open_amount", "issue_date", "due_date", "contract_id"],
    )


def test_equal_instalments_of_one_contract_are_settled_by_the_habits_lean():
    payment = bank({"amount": 5000.00, "counterparty_name": "上海申通物流有限公司"})
    # Due 50 and 19 days before the payment: a 31-day lean, too weak between unrelated invoices but
    # enough between twins of one contract, where either settles the same receivable.
    twins = _contract_items(("INV-2026-0000201", "C2", 5000.00, "2026-01-10", "HT1"),
                            ("INV-2026-0000202", "C2", 5000.00, "2026-02-10", "HT1"))
    r = run(payment, twins)
    assert applied(r) == [("B1", "INV-2026-0000202", 5000.0)]
    assert r.matches.rule.tolist() == ["payer_exact_twin"]
    assert json.loads(r.matches.evidence.iloc[0])["interchangeable_twins"] == 2
    # Two contracts: not interchangeable, a person decides.
    other = twins.assign(contract_id=["HT1", "HT2"])
    r = run(payment, other)
    assert applied(r) == [] and r.unmatched.reason.tolist() == ["proposed"]
    # No contract known: nothing is a twin.
    r = run(payment, twins.assign(contract_id=None))
    assert applied(r) == []
    # A lean under twin_gap_days (19 against 9 days) is a coin flip: proposed.
    close = _contract_items(("INV-2026-0000201", "C2", 5000.00, "2026-02-10", "HT1"),
                            ("INV-2026-0000202", "C2", 5000.00, "2026-02-20", "HT1"))
    r = run(payment, close)
    assert applied(r) == [] and r.proposals.rule.tolist() == ["payer_exact"]
    assert applied(run(payment, close, twin_gap_days=5)) == [("B1", "INV-2026-0000202", 5000.0)]


def test_combination_whose_solutions_are_all_the_same_twins_is_applied():
    payment = bank({"amount": 3000.00, "counterparty_name": "上海申通物流有限公司"})
    o = _contract_items(("INV-2026-0000201", "C2", 1000.00, "2026-02-01", "HT1"),
                        ("INV-2026-0000202", "C2", 2000.00, "2026-02-03", "HT1"),
                        ("INV-2026-0000203", "C2", 1000.00, "2026-02-05", "HT1"))
    r = run(payment, o)
    # Either 1 000 instalment with the 2 000 one: the same receivable; the best date fit is taken.
    assert applied(r) == [("B1", "INV-2026-0000202", 2000.0), ("B1", "INV-2026-0000203", 1000.0)]
    assert r.matches.rule.unique().tolist() == ["payer_combination_twin"]
    assert json.loads(r.matches.evidence.iloc[0])["interchangeable"] is True
    # The two 1 000 items belong to different contracts: two different settlements, proposed.
    r = run(payment, o.assign(contract_id=["HT1", "HT1", "HT2"]))
    assert applied(r) == [] and r.unmatched.reason.tolist() == ["proposed"]


def test_interchangeable_scoring_counts_a_twin_and_keeps_strict_apart():
    from huikuan.reconcile.scoring import score, score_interchangeable

    o = _contract_items(("INV-2026-0000201", "C2", 5000.00, "2026-01-10", "HT1"),
                        ("INV-2026-0000202", "C2", 5000.00, "2026-02-10", "HT1"),
                        ("INV-2026-0000203", "C2", 5000.00, "2026-02-10", "HT2")).assign(gross_amount=5000.00)
    r = run(bank({"amount": 5000.00, "counterparty_name": "上海申通物流有限公司"}), o.iloc[:2])
    assert applied(r) == [("B1", "INV-2026-0000202", 5000.0)]
    twin_truth = pd.DataFrame([("B1", "INV-2026-0000201")], columns=["bank_txn_key", "invoice_no"])
    assert score(r, twin_truth, 1)["precision"] == 0.0
    s = score_interchangeable(r, twin_truth, o, 1)
    figures = (s["precision"], s["invoice_match_rate"], s["payment_match_rate"], s["wrong_auto_links"])
    assert figures == (1.0, 1.0, 1.0, 0)
    # Same amount under another contract is no twin: wrong under both scorings.
    other_truth = pd.DataFrame([("B1", "INV-2026-0000203")], columns=["bank_txn_key", "invoice_no"])
    assert score_interchangeable(r, other_truth, o, 1)["precision"] == 0.0


def test_combination_that_is_the_only_run_of_consecutive_items_and_fits_best_is_applied():
    payment = bank({"amount": 2800.00, "counterparty_name": "上海申通物流有限公司"})
    o = _contract_items(("INV-2026-0000201", "C2", 1300.00, "2026-01-05", None),
                        ("INV-2026-0000202", "C2", 1000.00, "2026-02-01", None),
                        ("INV-2026-0000203", "C2", 1800.00, "2026-02-10", None),
                        ("INV-2026-0000204", "C2", 1500.00, "2026-02-20", None))
    # 1 000 + 1 800 are consecutive by due date and fit the payment date best (28 against 55 days);
    # 1 300 + 1 500 skip two items. The date fit alone (27 days apart) would not decide.
    r = run(payment, o)
    assert applied(r) == [("B1", "INV-2026-0000202", 1000.0), ("B1", "INV-2026-0000203", 1800.0)]
    assert json.loads(r.matches.evidence.iloc[0])["consecutive_run"] is True
    # Both solutions consecutive (the 1 300 item due last): nothing tells them apart, proposed.
    r = run(payment, o.assign(due_date=["2026-02-25", "2026-02-01", "2026-02-10", "2026-02-20"]))
    assert applied(r) == [] and r.unmatched.reason.tolist() == ["proposed"]


def test_credit_note_settles_the_invoice_it_names_even_with_look_alikes():
    o = items(("INV-2026-0000201", "C2", "CNY", 5000.00, "2026-01-10"),
              ("INV-2026-0000202", "C2", "CNY", 5000.00, "2026-01-20"),
              ("CN-2026-0000009", "C2", "CNY", -800.00, "2026-02-01"))
    o["original_invoice_no"] = [None, None, "INV-2026-0000202"]
    r = run(bank({"amount": 4200.00, "counterparty_name": "上海申通物流有限公司"}), o)
    # Either 5 000 invoice nets to 4 200 with the credit note, but the note corrects INV-…202.
    assert applied(r) == [("B1", "CN-2026-0000009", -800.0), ("B1", "INV-2026-0000202", 5000.0)]
    ev = json.loads(r.matches.evidence.iloc[0])
    assert ev["credit_note_corrects_it"] is True and ev["candidates_net_of_credit"] == 2
    # A credit note for neither of them (its invoice is not open here): a person decides.
    o2 = o.assign(original_invoice_no=[None, None, "INV-2026-0000999"])
    r = run(bank({"amount": 4200.00, "counterparty_name": "上海申通物流有限公司"}), o2)
    assert applied(r) == []
