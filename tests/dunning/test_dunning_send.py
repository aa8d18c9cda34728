"""Sending against a real SMTP server on loopback (aiosmtpd): once per invoice and stage, logged, retried."""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from email import message_from_bytes, policy

import pandas as pd
import pytest
from aiosmtpd.smtp import AuthResult

from huikuan import opstore
from huikuan.dunning import (
    DEFAULT_POLICY,
    CompanyProfile,
    SmtpConfig,
    notify_failure,
    plan_dunning,
    resolve_pending,
    send_messages,
)
from tests.conftest import free_port

from .conftest import AS_OF, COMPANY, EXPECTED, SmtpServer


def _plan(open_items, customers, salespeople, ops_path, as_of=AS_OF):
    return plan_dunning(open_items, customers, ops_path, as_of, DEFAULT_POLICY, company=COMPANY,
                        salespeople=salespeople)


def _log(ops_path):
    return opstore.read_table(ops_path, "dunning_log")


def _body(msg, subtype):
    return msg.get_body(preferencelist=(subtype,)).get_content()


def test_sends_each_customer_stage_once_with_table_attachment_and_log(
    smtp_server, open_items, customers, salespeople, ops_path
):
    results = send_messages(_plan(open_items, customers, salespeople, ops_path), smtp_server.config(),
                            ops_path)
    assert [r.status for r in results] == ["sent"] * len(EXPECTED)
    received = {(m["X-Huikuan-Customer"], m["X-Huikuan-Stage"]): m for m in smtp_server.messages}
    assert {k: tuple(m["X-Huikuan-Invoices"].split(", ")) for k, m in received.items()} == EXPECTED
    rcpt = {(m["X-Huikuan-Customer"], m["X-Huikuan-Stage"]): e.rcpt_tos
            for m, e in zip(smtp_server.messages, smtp_server.handler.envelopes)}
    assert rcpt["C001", "stage_1"] == ["ap@huajian.example"]
    assert rcpt["C003", "stage_1"] == ["li.wei@huikuan.example"]  # salesperson forwards

    zh = received["C001", "stage_1"]
    assert zh["Subject"] == "【付款提醒】汇款工程：2 张发票已逾期（合计 CNY 150,000.00）"
    assert zh["From"] == "ar@huikuan.example"
    text, html = _body(zh, "plain"), _body(zh, "html")
    assert "合计：CNY 150,000.00" in text and "120,000.00" in text and "30,000.00" in text
    assert "<td>A3</td><td>2026-05-21</td><td>2026-06-20</td>" in html
    attachments = {a.get_filename(): a for a in zh.iter_attachments()}
    assert set(attachments) == {"对账单_C001_20260630.csv", "对账单_C001_20260630.xlsx"}
    raw = attachments["对账单_C001_20260630.csv"].get_content()
    raw = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["A5", "A2", "A3", "A1", "A4"]

    en = received["C004", "stage_2"]
    assert en["Subject"] == "Second notice from 汇款工程: 1 overdue invoice(s) (total CNY 2,000,000.00)"
    assert "Total: CNY 2,000,000.00" in _body(en, "plain")

    log = _log(ops_path)
    assert sorted(log["invoice_no"]) == ["A1", "A2", "A3", "B1", "B2", "D1", "D2", "E1"]
    assert set(log["status"]) == {"sent"} and set(log["channel"]) == {"email"}
    row = log.set_index(["invoice_no", "stage"]).loc[("A1", "stage_1")]
    assert row["message_id"] == zh["Message-ID"] and row["recipient"] == "ap@huajian.example"
    assert row["customer_id"] == "C001"


def test_second_run_sends_nothing(smtp_server, open_items, customers, salespeople, ops_path):
    first = _plan(open_items, customers, salespeople, ops_path)
    send_messages(first, smtp_server.config(), ops_path)
    count, log_rows = len(smtp_server.messages), len(_log(ops_path))
    assert _plan(open_items, customers, salespeople, ops_path) == []
    # Even re-sending the very same planned messages (a retried job) goes nowhere.
    again = send_messages(first, smtp_server.config(), ops_path)
    assert {r.status for r in again} == {"skipped"}
    assert len(smtp_server.messages) == count and len(_log(ops_path)) == log_rows


def test_next_stage_is_sent_when_the_invoice_escalates(smtp_server, open_items, customers, salespeople,
                                                       ops_path):
    send_messages(_plan(open_items, customers, salespeople, ops_path), smtp_server.config(), ops_path)
    later = _plan(open_items, customers, salespeople, ops_path, as_of=date(2026, 7, 30))
    keys = {(m.customer_id, m.stage.key): m.invoice_nos for m in later}
    # A3, A1 (stage 1) and A2 (stage 2) are all over 30 days now: one stage-3 letter for the three.
    # B2 was already in stage 3 and got its letter: nothing new.
    assert keys[("C001", "stage_3")] == ("A2", "A3", "A1")
    assert all("B2" not in invs for invs in keys.values())


def test_invoice_sent_meanwhile_is_dropped_from_the_message(smtp_server, open_items, customers,
                                                           salespeople, ops_path):
    messages = _plan(open_items, customers, salespeople, ops_path)
    opstore.connect(ops_path).execute(
        "INSERT INTO dunning_log (invoice_no, customer_id, stage, channel, recipient, message_id, status,"
        " sent_at) VALUES ('A1', 'C001', 'stage_1', 'email', 'x', 'm', 'sent', 'now')"
    )
    results = {(r.customer_id, r.stage): r for r in send_messages(messages, smtp_server.config(), ops_path)}
    assert results["C001", "stage_1"].invoice_nos == ("A3",)
    (msg,) = [m for m in smtp_server.messages if m["X-Huikuan-Stage"] == "stage_1"
              and m["X-Huikuan-Customer"] == "C001"]
    assert msg["X-Huikuan-Invoices"] == "A3" and "CNY 30,000.00" in msg["Subject"]


def test_promise_and_dispute_pause_then_resume(smtp_server, open_items, customers, salespeople, ops_path):
    opstore.record_promise(ops_path, invoice_no="E1", promised_date="2026-07-15", recorded_by="clerk")
    opstore.record_dispute(ops_path, invoice_no="B2", recorded_by="clerk", reason="wrong price")
    send_messages(_plan(open_items, customers, salespeople, ops_path), smtp_server.config(), ops_path)
    sent = {(m["X-Huikuan-Customer"], m["X-Huikuan-Stage"]) for m in smtp_server.messages}
    assert ("C004", "stage_2") not in sent and ("C002", "stage_3") not in sent
    assert set(_log(ops_path)["invoice_no"]).isdisjoint({"E1", "B2"})

    opstore.record_dispute(ops_path, invoice_no="B2", recorded_by="clerk", status="resolved")
    results = send_messages(_plan(open_items, customers, salespeople, ops_path), smtp_server.config(),
                            ops_path)
    assert [(r.customer_id, r.stage, r.invoice_nos, r.status) for r in results] == [
        ("C002", "stage_3", ("B2",), "sent")
    ]  # the promise for E1 still holds


def test_dry_run_writes_eml_files_and_sends_nothing(smtp_server, open_items, customers, salespeople,
                                                   ops_path, tmp_path):
    out = tmp_path / "outbox"
    messages = _plan(open_items, customers, salespeople, ops_path)
    results = send_messages(messages, smtp_server.config(), ops_path, dry_run_dir=out)
    assert {r.status for r in results} == {"dry_run"}
    assert smtp_server.messages == []
    files = sorted(p.name for p in out.glob("*.eml"))
    assert files == sorted(f"20260630_{c}_{s}.eml" for c, s in EXPECTED)
    eml = message_from_bytes((out / "20260630_C001_stage_1.eml").read_bytes(), policy=policy.default)
    assert eml["To"] == "ap@huajian.example" and "150,000.00" in _body(eml, "plain")
    assert len(list(eml.iter_attachments())) == 2
    log = _log(ops_path)
    assert set(log["channel"]) == {"dry_run"} and set(log["status"]) == {"dry_run"}
    # A preview does not count as a send: the real run still sends everything.
    real = send_messages(_plan(open_items, customers, salespeople, ops_path), smtp_server.config(), ops_path)
    assert [r.status for r in real] == ["sent"] * len(EXPECTED)


def test_smtp_down_records_failures_and_a_later_run_retries(open_items, customers, salespeople, ops_path):
    port = free_port()  # nothing listens here yet
    down = SmtpConfig(host="127.0.0.1", port=port, sender="ar@huikuan.example", timeout=2)
    results = send_messages(_plan(open_items, customers, salespeople, ops_path), down, ops_path)
    assert {r.status for r in results} == {"failed"}
    assert all("cannot connect" in r.error for r in results)
    log = _log(ops_path)
    assert set(log["status"]) == {"failed"} and len(log) == 8

    server = SmtpServer(port=port).start()
    try:
        retry = send_messages(_plan(open_items, customers, salespeople, ops_path), down, ops_path)
        assert [r.status for r in retry] == ["sent"] * len(EXPECTED)
        assert len(server.messages) == len(EXPECTED)
    finally:
        server.stop()
    log = _log(ops_path)
    assert set(log["status"]) == {"sent"} and len(log) == 8  # the failed rows became sent, no duplicates


def test_customer_name_with_a_line_break_is_sent(smtp_server, open_items, ops_path):
    customers = pd.DataFrame([{"customer_id": "C001", "customer_name": "上海华建\n工程有限公司",
                               "customer_type": "soe", "email": "ap@huajian.example"}])
    items = open_items[open_items.customer_id == "C001"]
    messages = plan_dunning(items, customers, ops_path, AS_OF, DEFAULT_POLICY, company=COMPANY)
    results = send_messages(messages, smtp_server.config(), ops_path)
    assert {r.status for r in results} == {"sent"}
    assert "尊敬的上海华建 工程有限公司：" in _body(smtp_server.messages[0], "plain")


def test_sender_address_is_required(ops_path):
    with pytest.raises(ValueError, match="HUIKUAN_SMTP_FROM"):
        send_messages([], SmtpConfig(sender=""), ops_path)


def test_message_without_recipient_is_logged_failed(smtp_server, open_items, customers, ops_path):
    results = send_messages(
        plan_dunning(open_items, customers, ops_path, AS_OF, DEFAULT_POLICY, company=COMPANY),
        smtp_server.config(), ops_path,
    )
    failed = [(r.customer_id, r.error) for r in results if r.status == "failed"]
    assert failed == [("C003", "no recipient address")] * 2
    assert not any(m["X-Huikuan-Customer"] == "C003" for m in smtp_server.messages)


def test_pending_rows_from_a_crash_block_resend_until_resolved(smtp_server, open_items, customers,
                                                               salespeople, ops_path):
    # A crash between claiming the log rows and sending leaves them pending: the outcome is unknown.
    opstore.connect(ops_path).execute(
        "INSERT INTO dunning_log (invoice_no, customer_id, stage, channel, recipient, message_id, status,"
        " sent_at) VALUES ('E1', 'C004', 'stage_2', 'email', 'finance@gzsz.example', '<m@x>', 'pending',"
        " 'now')"
    )
    keys = {(m.customer_id, m.stage.key) for m in _plan(open_items, customers, salespeople, ops_path)}
    assert ("C004", "stage_2") not in keys
    assert resolve_pending(ops_path, invoice_no="E1", stage="stage_2", sent=False) == 1
    results = send_messages(_plan(open_items, customers, salespeople, ops_path), smtp_server.config(),
                            ops_path)
    assert ("C004", "stage_2", "sent") in {(r.customer_id, r.stage, r.status) for r in results}


def test_login_is_used_when_configured(open_items, customers, salespeople, ops_path):
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        ok = auth_data.login == b"ar" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # handled=False: the server replies 535 itself

    server = SmtpServer(authenticator=authenticator, auth_require_tls=False).start()
    try:
        ok = server.config(user="ar", password="s3cret")
        assert "s3cret" not in repr(ok)
        results = send_messages(_plan(open_items, customers, salespeople, ops_path)[:1], ok, ops_path)
        assert results[0].status == "sent" and seen == [(b"ar", b"s3cret")]
        bad = send_messages(_plan(open_items, customers, salespeople, ops_path)[:1],
                            server.config(user="ar", password="wrong"), ops_path)
        assert bad[0].status == "failed" and "Authentication" in bad[0].error
    finally:
        server.stop()


def test_notify_failure_delivers_and_never_raises(smtp_server):
    assert notify_failure("huikuan daily build failed", "dbt build: 2 errors\nsee alerts.log",
                          smtp_server.config(), ["ops@huikuan.example", "cfo@huikuan.example"])
    (msg,) = smtp_server.messages
    assert msg["Subject"] == "huikuan daily build failed"
    assert smtp_server.handler.envelopes[0].rcpt_tos == ["ops@huikuan.example", "cfo@huikuan.example"]
    assert "dbt build: 2 errors" in msg.get_content()

    down = SmtpConfig(host="127.0.0.1", port=free_port(), timeout=2)
    assert notify_failure("x", "y", down, ["ops@huikuan.example"]) is False
    assert notify_failure("x", "y", smtp_server.config(), []) is False


def test_config_from_env(monkeypatch):
    env = {"HUIKUAN_SMTP_HOST": "smtp.example.com", "HUIKUAN_SMTP_FROM": "ar@example.com",
           "HUIKUAN_SMTP_USER": "ar", "HUIKUAN_SMTP_PASSWORD": "pw", "HUIKUAN_SMTP_STARTTLS": "true"}
    cfg = SmtpConfig.from_env(env)
    assert (cfg.host, cfg.port, cfg.sender, cfg.user, cfg.password, cfg.starttls, cfg.ssl) == (
        "smtp.example.com", 587, "ar@example.com", "ar", "pw", True, False)
    assert SmtpConfig.from_env({"HUIKUAN_SMTP_SSL": "1"}).port == 465
    assert SmtpConfig.from_env({"HUIKUAN_SMTP_PORT": "2525"}, host="h").host == "h"
    monkeypatch.setenv("HUIKUAN_SMTP_PORT", "2526")
    assert SmtpConfig.from_env().port == 2526


def test_config_rejects_bad_port():
    with pytest.raises(ValueError):
        SmtpConfig.from_env({"HUIKUAN_SMTP_PORT": "twenty-five"})


def test_two_concurrent_senders_send_each_reminder_once(smtp_server, open_items, customers, salespeople,
                                                       ops_path):
    # Two runs overlapping (a manual run during the scheduled one) with the same plan.
    messages = _plan(open_items, customers, salespeople, ops_path)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: send_messages(messages, smtp_server.config(), ops_path), range(2)))
    sent = [(r.customer_id, r.stage) for run in runs for r in run if r.status == "sent"]
    assert sorted(sent) == sorted(EXPECTED)
    received = sorted((m["X-Huikuan-Customer"], m["X-Huikuan-Stage"]) for m in smtp_server.messages)
    assert received == sorted(EXPECTED)
    assert len(_log(ops_path)) == 8


def test_company_profile_from_env():
    profile = CompanyProfile.from_env({"HUIKUAN_COMPANY_NAME": "汇款工程",
                                       "HUIKUAN_COMPANY_BANK_NAME": "工行",
                                       "HUIKUAN_COMPANY_BANK_ACCOUNT": "1001"})
    assert (profile.name, profile.bank_name, profile.bank_account, profile.has_bank_details) == (
        "汇款工程", "工行", "1001", True)
    assert CompanyProfile.from_env({}).has_bank_details is False
