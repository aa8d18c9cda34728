"""Fixtures for dunning tests: a real SMTP server on loopback and a small book of open items."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy

import pandas as pd
import pytest
from aiosmtpd.controller import Controller

from huikuan.dunning import CompanyProfile, SmtpConfig
from tests.conftest import free_port

AS_OF = date(2026, 6, 30)

COMPANY = CompanyProfile(
    name="汇款工程",
    account_name="上海汇款工程有限公司",
    bank_name="中国工商银行上海浦东分行",
    bank_account="1001 2233 4455 6677 889",
    swift="ICBKCNBJSHI",
)



class Capture:
    """aiosmtpd handler keeping every accepted message, parsed."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self):
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


class SmtpServer:
    def __init__(self, port: int | None = None, **kwargs) -> None:
        self.port = port or free_port()
        self.handler = Capture()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def config(self, **overrides) -> SmtpConfig:
        values = {"host": "127.0.0.1", "port": self.port, "sender": "ar@huikuan.example", "timeout": 5.0}
        values.update(overrides)
        return SmtpConfig(**values)

    @property
    def messages(self):
        return self.handler.messages


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def ops_path(tmp_path):
    return tmp_path / "ops" / "ops.sqlite"


@pytest.fixture
def customers():
    return pd.DataFrame(
        [
            {"customer_id": "C001", "customer_name": "上海华建工程有限公司", "customer_type": "soe",
             "email": "ap@huajian.example", "salesperson_id": "S1", "language": None},
            {"customer_id": "C002", "customer_name": "Northwind Trading Ltd", "customer_type": "foreign",
             "email": "payables@northwind.example", "salesperson_id": "S2", "language": None},
            {"customer_id": "C003", "customer_name": "深圳云启信息技术有限公司",
             "customer_type": "private", "email": None, "salesperson_id": "S1", "language": None},
            {"customer_id": "C004", "customer_name": "广州市政建设集团",
             "customer_type": "government", "email": "finance@gzsz.example", "salesperson_id": "S2",
             "language": "English"},
        ]
    )


@pytest.fixture
def salespeople():
    return pd.DataFrame(
        [
            {"salesperson_id": "S1", "name": "李伟", "email": "li.wei@huikuan.example"},
            {"salesperson_id": "S2", "name": "王芳", "email": "wang.fang@huikuan.example"},
        ]
    )


def _item(inv, cust, ccy, amount, issue, due, project="P-01"):
    return {"invoice_no": inv, "customer_id": cust, "currency": ccy, "open_amount": amount,
            "issue_date": issue, "due_date": due, "project_id": project}


@pytest.fixture
def open_items():
    """Days overdue at AS_OF are in the comments; stages per DESIGN.md §5 defaults."""
    return pd.DataFrame(
        [
            _item("A1", "C001", "CNY", 120000.00, "2026-05-26", "2026-06-25"),  # 5   stage_1
            _item("A2", "C001", "CNY", 80500.50, "2026-05-11", "2026-06-10"),   # 20  stage_2
            _item("A3", "C001", "CNY", 30000.00, "2026-05-21", "2026-06-20"),   # 10  stage_1
            _item("A4", "C001", "CNY", 50000.00, "2026-06-30", "2026-08-29"),   # -60 not in a stage
            _item("A5", "C001", "CNY", -5000.00, "2026-06-01", "2026-06-01"),   # credit note
            _item("B1", "C002", "USD", 12345.67, "2026-06-05", "2026-07-05", None),  # -5 pre_reminder
            _item("B2", "C002", "EUR", 9000.00, "2026-04-01", "2026-05-01", None),   # 60 stage_3
            _item("D1", "C003", "CNY", 45000.00, "2026-05-16", "2026-06-15"),   # 15  stage_1
            _item("D2", "C003", "CNY", 10000.00, "2026-05-15", "2026-06-14"),   # 16  stage_2
            _item("E1", "C004", "CNY", 2000000.00, "2026-05-02", "2026-06-01"),  # 29  stage_2
            _item("F1", "C001", "CNY", 0.00, "2026-04-01", "2026-05-01"),       # paid: nothing open
        ]
    )


# (customer, stage) -> invoices expected in the first run's messages.
EXPECTED = {
    ("C001", "stage_1"): ("A3", "A1"),  # oldest due date first
    ("C001", "stage_2"): ("A2",),
    ("C002", "pre_reminder"): ("B1",),
    ("C002", "stage_3"): ("B2",),
    ("C003", "stage_1"): ("D1",),
    ("C003", "stage_2"): ("D2",),
    ("C004", "stage_2"): ("E1",),
}
