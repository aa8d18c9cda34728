"""Planning and rendering: who gets which reminder, in which language, with what table and statement."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from openpyxl import load_workbook

from huikuan import opstore
from huikuan.dunning import DEFAULT_POLICY, CompanyProfile, assess_open_items, format_amount, plan_dunning

from .conftest import AS_OF, COMPANY, EXPECTED


def _plan(open_items, customers, ops_path, salespeople=None, **kwargs):
    kwargs.setdefault("company", COMPANY)
    return plan_dunning(open_items, customers, ops_path, AS_OF, DEFAULT_POLICY,
                        salespeople=salespeople, **kwargs)


def _by_key(messages):
    return {(m.customer_id, m.stage.key): m for m in messages}


def test_one_message_per_customer_and_stage(open_items, customers, salespeople, ops_path):
    messages = _plan(open_items, customers, ops_path, salespeople)
    assert {k: m.invoice_nos for k, m in _by_key(messages).items()} == EXPECTED


def test_languages_and_recipients(open_items, customers, salespeople, ops_path):
    m = _by_key(_plan(open_items, customers, ops_path, salespeople))
    assert m["C001", "stage_1"].language == "zh"  # default
    assert m["C002", "stage_3"].language == "en"  # foreign customer
    assert m["C004", "stage_2"].language == "en"  # language column wins over customer type
    assert m["C001", "stage_1"].recipient == "ap@huajian.example"
    assert m["C001", "stage_1"].metadata["recipient_source"] == "customer"
    # No customer email: the salesperson's, and the message says so.
    c3 = m["C003", "stage_1"]
    assert c3.recipient == "li.wei@huikuan.example"
    assert c3.metadata["recipient_source"] == "salesperson"
    assert any("salesperson" in w for w in c3.metadata["warnings"])


def test_only_some_stages(open_items, customers, ops_path):
    messages = _plan(open_items, customers, ops_path, only_stages=["stage_2", "stage_3"])
    assert {(m.customer_id, m.stage.key) for m in messages} == {
        k for k in EXPECTED if k[1] in ("stage_2", "stage_3")
    }
    with pytest.raises(KeyError, match="no dunning stage 'stage_9'"):
        _plan(open_items, customers, ops_path, only_stages=["stage_9"])


def test_fallback_and_missing_recipient(open_items, customers, ops_path):
    with_fallback = _by_key(_plan(open_items, customers, ops_path, fallback_email="ar@huikuan.example"))
    assert with_fallback["C003", "stage_1"].recipient == "ar@huikuan.example"
    assert with_fallback["C003", "stage_1"].metadata["recipient_source"] == "fallback"
    without = _by_key(_plan(open_items, customers, ops_path))
    assert without["C003", "stage_1"].recipient is None
    assert without["C003", "stage_1"].metadata["recipient_source"] == "none"


def test_chinese_body_has_the_invoice_table_total_and_bank_details(open_items, customers, ops_path):
    m = _by_key(_plan(open_items, customers, ops_path))["C001", "stage_1"]
    assert m.subject == "【付款提醒】汇款工程：2 张发票已逾期（合计 CNY 150,000.00）"
    assert m.text.startswith("尊敬的上海华建工程有限公司：")
    table_rows = [line.split() for line in m.text.splitlines() if line.startswith(("A1", "A3"))]
    assert table_rows == [
        ["A3", "2026-05-21", "2026-06-20", "10", "30,000.00", "CNY"],
        ["A1", "2026-05-26", "2026-06-25", "5", "120,000.00", "CNY"],
    ]
    assert "合计：CNY 150,000.00" in m.text
    assert "账号：1001 2233 4455 6677 889" in m.text
    assert "A2" not in m.text and "A4" not in m.text  # other stage / not yet in a stage
    assert "<td>A1</td>" in m.html and '<td style="text-align: right;">120,000.00</td>' in m.html
    assert "CNY 150,000.00" in m.html


def test_english_body_and_tone_escalates(open_items, customers, ops_path):
    m = _by_key(_plan(open_items, customers, ops_path))
    pre, demand = m["C002", "pre_reminder"], m["C002", "stage_3"]
    assert pre.subject.startswith("Payment reminder")
    assert "Dear Northwind Trading Ltd," in pre.text
    assert "not yet due" in pre.text and "USD 12,345.67" in pre.text
    assert demand.subject.startswith("Final demand")
    assert "hold new orders" in demand.text and "EUR 9,000.00" in demand.text
    formal = m["C004", "stage_2"]
    assert "Total: CNY 2,000,000.00" in formal.text


def test_statement_attachments_list_all_open_items(open_items, customers, ops_path):
    m = _by_key(_plan(open_items, customers, ops_path))["C001", "stage_2"]
    names = [a.filename for a in m.attachments]
    assert names == ["对账单_C001_20260630.csv", "对账单_C001_20260630.xlsx"]
    raw = m.attachments[0].content
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["发票号", "项目", "开票日期", "到期日",
                       "逾期天数", "币种", "未付金额", "催收阶段"]
    # Every item with something open, credit notes included; the paid one (F1) left out.
    assert [r[0] for r in rows[1:]] == ["A5", "A2", "A3", "A1", "A4"]
    assert rows[2] == ["A2", "P-01", "2026-05-11", "2026-06-10", "20", "CNY", "80500.50", "stage_2"]
    assert rows[1][6] == "-5000.00" and rows[5][4] == "-60"  # credit note; not yet due
    assert sum(Decimal(r[6]) for r in rows[1:]) == Decimal("275500.50")

    wb = load_workbook(io.BytesIO(m.attachments[1].content))
    ws = wb.active
    assert ws.title == "对账单"
    values = list(ws.iter_rows(min_row=3, values_only=True))
    assert [v[0] for v in values] == ["A5", "A2", "A3", "A1", "A4"]
    assert values[1][2].date() == date(2026, 5, 11) and values[1][6] == pytest.approx(80500.50)
    assert ws.cell(4, 7).number_format == "#,##0.00"


def test_html_escapes_customer_text(open_items, ops_path):
    customers = pd.DataFrame([{"customer_id": "C001", "customer_name": "A&B <Holdings>",
                               "customer_type": "private", "email": "x@example.com"}])
    m = _plan(open_items[open_items.customer_id == "C001"], customers, ops_path)[0]
    assert "A&amp;B &lt;Holdings&gt;" in m.html and "<Holdings>" not in m.html


def test_already_sent_invoices_are_skipped_per_stage(open_items, customers, ops_path):
    con = opstore.connect(ops_path)
    con.execute("INSERT INTO dunning_log (invoice_no, customer_id, stage, channel, recipient, message_id,"
                " status, sent_at) VALUES ('A1', 'C001', 'stage_1', 'email', 'x', 'm', 'sent', 'now')")
    con.execute("INSERT INTO dunning_log (invoice_no, customer_id, stage, channel, recipient, message_id,"
                " status, sent_at) VALUES ('A2', 'C001', 'stage_1', 'email', 'x', 'm', 'sent', 'now')")
    con.execute("INSERT INTO dunning_log (invoice_no, customer_id, stage, channel, recipient, message_id,"
                " status, sent_at) VALUES ('A3', 'C001', 'stage_1', 'dry_run', 'x', 'm', 'dry_run', 'now')")
    con.close()
    m = _by_key(_plan(open_items, customers, ops_path))
    assert m["C001", "stage_1"].invoice_nos == ("A3",)  # A1 sent; a dry run does not count
    assert m["C001", "stage_2"].invoice_nos == ("A2",)  # A2 was sent at an earlier stage only
    assert m["C001", "stage_1"].subject.endswith("（合计 CNY 30,000.00）")


def test_promise_to_pay_pauses_until_its_date(open_items, customers, ops_path):
    opstore.record_promise(ops_path, invoice_no="A1", promised_date=date(2026, 7, 10), recorded_by="clerk")
    opstore.record_promise(ops_path, invoice_no="A3", promised_date=date(2026, 6, 29), recorded_by="clerk")
    opstore.record_promise(ops_path, invoice_no="E1", promised_date=AS_OF, recorded_by="clerk")
    m = _by_key(_plan(open_items, customers, ops_path))
    assert m["C001", "stage_1"].invoice_nos == ("A3",)  # A3's promise is broken: dun again
    assert ("C004", "stage_2") not in m  # a promise for today still holds
    outcomes = assess_open_items(open_items, ops_path, AS_OF, DEFAULT_POLICY).set_index("invoice_no")
    assert outcomes.loc["A1", "outcome"] == "paused_promise"
    # Later: the promised date has passed without payment.
    later = plan_dunning(open_items, customers, ops_path, date(2026, 7, 11), DEFAULT_POLICY, company=COMPANY)
    assert any("A1" in msg.invoice_nos for msg in later)


def test_open_dispute_pauses_and_resolution_resumes(open_items, customers, ops_path):
    opstore.record_dispute(ops_path, invoice_no="D1", recorded_by="clerk", reason="quantity")
    opstore.record_dispute(ops_path, invoice_no="E1", recorded_by="clerk", reason="price")
    m = _by_key(_plan(open_items, customers, ops_path))
    assert ("C003", "stage_1") not in m and ("C004", "stage_2") not in m
    assert m["C003", "stage_2"].invoice_nos == ("D2",)
    opstore.record_dispute(ops_path, invoice_no="E1", recorded_by="clerk", status="resolved")
    m = _by_key(_plan(open_items, customers, ops_path))
    assert m["C004", "stage_2"].invoice_nos == ("E1",)
    assert ("C003", "stage_1") not in m


def test_multi_currency_totals_are_not_added_together(ops_path):
    items = pd.DataFrame([
        {"invoice_no": "X1", "customer_id": "K", "currency": "USD", "open_amount": "1000.5",
         "issue_date": "2026-05-01", "due_date": "2026-06-20"},
        {"invoice_no": "X2", "customer_id": "K", "currency": "cny", "open_amount": 2500,
         "issue_date": "2026-05-01", "due_date": "2026-06-21"},
    ])
    customers = pd.DataFrame([{"customer_id": "K", "customer_name": "K Co", "customer_type": "foreign",
                               "email": "k@example.com"}])
    (m,) = plan_dunning(items, customers, ops_path, AS_OF, DEFAULT_POLICY, company=COMPANY)
    assert m.totals == {"CNY": Decimal("2500.00"), "USD": Decimal("1000.50")}
    assert "Total: CNY 2,500.00; USD 1,000.50" in m.text


def test_unknown_customer_still_gets_a_message_with_a_warning(open_items, ops_path):
    customers = pd.DataFrame(columns=["customer_id", "customer_name", "customer_type"])
    messages = plan_dunning(open_items, customers, ops_path, AS_OF, DEFAULT_POLICY, company=COMPANY,
                            fallback_email="ar@huikuan.example")
    assert {m.customer_id for m in messages} == {"C001", "C002", "C003", "C004"}
    assert all(any("not in the customer master" in w for w in m.metadata["warnings"]) for m in messages)


def test_missing_bank_details_are_flagged(open_items, customers, ops_path):
    messages = _plan(open_items, customers, ops_path, company=CompanyProfile(name="X"))
    assert all("company bank details are not configured" in m.metadata["warnings"] for m in messages)
    assert "（收款账户信息请与我司财务联系）" in messages[0].text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.drop(columns=["due_date"]), "missing columns \\['due_date'\\]"),
        (lambda df: df.assign(open_amount=["x"] + [1] * (len(df) - 1)), "invoice A1: open_amount"),
        (lambda df: df.assign(due_date=["soon"] + ["2026-06-01"] * (len(df) - 1)),
         "invoice A1: due_date is not a date"),
        (lambda df: pd.concat([df, df.head(1)]), "duplicate invoice_no \\['A1'\\]"),
        (lambda df: df.assign(customer_id=[None] + ["C001"] * (len(df) - 1)),
         "invoice A1: customer_id is empty"),
    ],
)
def test_bad_open_items_name_the_invoice_and_cause(open_items, customers, ops_path, change, message):
    with pytest.raises(ValueError, match=message):
        _plan(change(open_items), customers, ops_path)


def test_format_amount():
    assert format_amount(Decimal("1234567.891"), "CNY") == "CNY 1,234,567.89"
    assert format_amount(Decimal("-5000"), "USD") == "USD -5,000.00"
    assert format_amount(Decimal("0.5"), "EUR") == "EUR 0.50"
