"""Remittance clues weaker than an invoice number: parsing, and how the engine uses them."""

from __future__ import annotations

import json

import pandas as pd

from huikuan.reconcile import reconcile
from huikuan.reconcile.clues import bigrams, named_projects, parse_clues
from huikuan.reconcile.remittance import RefIndex

CONTRACTS = RefIndex.build(["HT2023000001", "HT2023000002", "HT2023000003", "HT2023000004"], min_digits=99)


def month(y: int, m: int) -> int:
    return (y - 1970) * 12 + m - 1


def test_milestone_words_months_and_contracts_are_read():
    c = parse_clues("2024年3月进度款", CONTRACTS)
    assert c.milestone_types == {"progress"} and c.periods == {month(2024, 3)} and not c.contracts
    c = parse_clues("合同号HT2023000002 质保金", CONTRACTS)
    assert c.milestone_types == {"retention"} and c.contracts == {"HT2023000002"}
    c = parse_clues("合同HT2023000001、HT2023000004 工程款", CONTRACTS)
    assert c.contracts == {"HT2023000001", "HT2023000004"} and not c.milestone_types
    # 工程进度款 is progress, 预付 advance; English words survive MT940 line wrapping.
    assert parse_clues("三期工程进度款").milestone_types == {"progress"}
    assert parse_clues("首付款").milestone_types == {"advance"} and parse_clues("尾款").milestone_types == {"final"}
    assert parse_clues("CONTRACT HT2023000003 PROGRESS PAYME NT", CONTRACTS).milestone_types == {"progress"}
    assert parse_clues("CONTRACT HT2023000003 PROGRESS PAYME NT", CONTRACTS).contracts == {"HT2023000003"}
    for generic in ("网银转账", "货款", "往来款", "", None):
        assert parse_clues(generic, CONTRACTS).empty, generic


def test_project_names_in_full_shortened_or_listed():
    projects = {
        "P1": bigrams("武汉东盛三期道路改造工程"),
        "P2": bigrams("武汉东盛一期道路改造工程"),
        "P3": bigrams("武汉东盛北区市政管网工程"),
    }
    assert named_projects(parse_clues("三期道路改造工程预付款"), projects) == {"P1"}
    assert named_projects(parse_clues("武汉东盛北区市政管网工程验收款"), projects) == {"P3"}
    # Shortened to what two projects share: both are named; listed with 、: each one is.
    assert named_projects(parse_clues("道路改造工程进度款"), projects) == {"P1", "P2"}
    assert named_projects(parse_clues("一期道路改造工程、北区市政管网工程工程款"), projects) == {"P2", "P3"}
    assert named_projects(parse_clues("工程款"), projects) == set()


CUSTOMERS = pd.DataFrame(
    [
        ("C1", "北京华建工程有限公司", None, "private"),
        ("G1", "北京市朝阳区教育局", None, "government"),
        ("G2", "北京市朝阳区卫生健康委员会", None, "government"),
    ],
    columns=["customer_id", "customer_name", "parent_customer_id", "customer_type"],
)


def open_items(*rows):
    cols = ["invoice_no", "customer_id", "open_amount", "issue_date", "due_date", "contract_id", "project_id",
            "project_name", "milestone_type"]
    df = pd.DataFrame(list(rows), columns=cols)
    df["currency"], df["gross_amount"] = "CNY", df["open_amount"]
    return df


def receipt(amount, text, name="北京华建工程有限公司", day="2026-03-20"):
    return pd.DataFrame([{
        "bank_txn_key": "B1", "booking_date": day, "amount": amount, "currency": "CNY", "counterparty_name": name,
        "counterparty_account": None, "remittance_text": text, "is_reversal": False, "account_id": "A1",
    }])


def auto(result):
    m = result.matches[result.matches.status == "auto"]
    return sorted(m.invoice_no), sorted(set(m.rule))


SAME_AMOUNT = open_items(
    ("INV-1", "C1", 50000.0, "2026-01-05", "2026-03-05", "HT2023000001", "P1", "北京华建一期综合楼工程", "progress"),
    ("INV-2", "C1", 50000.0, "2026-01-10", "2026-03-10", "HT2023000002", "P2", "北京华建二期厂房建设工程", "acceptance"),
)


def test_milestone_word_picks_one_of_two_items_with_the_amount():
    assert auto(reconcile(receipt(50000.0, "网银转账"), SAME_AMOUNT, CUSTOMERS)) == ([], [])
    assert auto(reconcile(receipt(50000.0, "验收款"), SAME_AMOUNT, CUSTOMERS)) == (["INV-2"], ["payer_exact_text"])
    assert auto(reconcile(receipt(50000.0, "一期综合楼工程进度款"), SAME_AMOUNT, CUSTOMERS)) == (
        ["INV-1"], ["payer_exact_text"])
    # A word that fits neither (质保金) or both (工程款) chooses nothing.
    assert auto(reconcile(receipt(50000.0, "质保金"), SAME_AMOUNT, CUSTOMERS)) == ([], [])


TWO_COMBINATIONS = open_items(
    ("INV-1", "C1", 100000.0, "2026-01-05", "2026-03-05", "HT2023000001", "P1", "北京华建一期综合楼工程", "progress"),
    ("INV-2", "C1", 200000.0, "2026-01-06", "2026-03-06", "HT2023000002", "P1", "北京华建一期综合楼工程", "progress"),
    ("INV-3", "C1", 150000.0, "2026-01-07", "2026-03-07", "HT2023000003", "P2", "北京华建二期厂房建设工程", "final"),
    ("INV-4", "C1", 150000.0, "2026-01-08", "2026-03-08", "HT2023000004", "P2", "北京华建二期厂房建设工程", "final"),
)


def test_contract_numbers_choose_between_combinations():
    # 300 000 is INV-1 + INV-2 or INV-3 + INV-4: the amount alone leaves it to a person.
    assert auto(reconcile(receipt(300000.0, "工程款"), TWO_COMBINATIONS, CUSTOMERS))[0] == []
    got = reconcile(receipt(300000.0, "合同HT2023000003、HT2023000004 工程款"), TWO_COMBINATIONS, CUSTOMERS)
    assert auto(got) == (["INV-3", "INV-4"], ["payer_combination_text"])
    ev = json.loads(got.matches.evidence.iloc[0])
    assert ev["text"]["contracts"] == ["HT2023000003", "HT2023000004"] and ev["text"]["firm"]
    # The milestone word alone (结算款 = final) picks the same pair among the two solutions.
    assert auto(reconcile(receipt(300000.0, "结算款"), TWO_COMBINATIONS, CUSTOMERS))[0] == ["INV-3", "INV-4"]


def test_contract_number_identifies_the_payer_when_the_name_does_not():
    items = open_items(
        ("INV-9", "G2", 81000.0, "2026-01-05", "2026-03-05", "HT2023000001", "P9", "朝阳区医院改造工程", "progress"),
        ("INV-8", "G1", 81000.0, "2026-01-05", "2026-03-05", "HT2023000002", "P8", "朝阳区学校改造工程", "progress"),
    )
    # The treasury pays for both public bodies: the amount fits each, only the contract tells.
    treasury = "北京市财政局国库支付中心"
    assert auto(reconcile(receipt(81000.0, "进度款", name=treasury), items, CUSTOMERS))[0] == []
    got = reconcile(receipt(81000.0, "合同号HT2023000001 进度款", name=treasury), items, CUSTOMERS)
    assert auto(got)[0] == ["INV-9"]
    assert json.loads(got.matches.evidence.iloc[0])["payer"]["method"] == "contract_in_text"


def test_treasury_combination_only_when_one_public_body_has_exactly_one():
    items = open_items(
        ("INV-1", "G1", 120000.0, "2026-02-01", "2026-03-01", "HT2023000001", "P1", "朝阳区学校改造工程", "progress"),
        ("INV-2", "G1", 35000.5, "2026-02-05", "2026-03-05", "HT2023000002", "P1", "朝阳区学校改造工程", "acceptance"),
        ("INV-3", "G2", 90000.0, "2026-02-03", "2026-03-03", "HT2023000003", "P2", "朝阳区医院改造工程", "progress"),
        ("INV-4", "G2", 10000.0, "2026-02-04", "2026-03-04", "HT2023000004", "P2", "朝阳区医院改造工程", "final"),
    )
    treasury = "北京市财政局国库支付中心"
    got = reconcile(receipt(155000.5, "网银转账", name=treasury), items, CUSTOMERS)
    assert auto(got) == (["INV-1", "INV-2"], ["payer_set_combination"])
    # 100 000 is INV-3 + INV-4 of G2, but it is long before they are expected: nothing applied.
    late = reconcile(receipt(100000.0, "网银转账", name=treasury, day="2026-09-30"), items, CUSTOMERS)
    assert auto(late)[0] == []
