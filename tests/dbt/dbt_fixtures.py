"""Hand-made raw extracts for the warehouse tests: a handful of invoices whose AR is worked out by hand.

As of 2026-06-30 (DESIGN.md §5 aging rules, due-date basis):

| item    | customer | what happens                                             | open        | bucket   |
|---------|----------|----------------------------------------------------------|-------------|----------|
| INV-001 | C001     | 100,000 paid in full 2026-04-20 (20 days late)           | 0           | -        |
| INV-002 | C001     | 50,000, 20,000 paid 2026-05-10 (partial)                 | 30,000      | 31_60    |
| INV-003 | C001     | 40,000 less credit note CN-001 (-10,000), due 2026-07-01 | 30,000      | not_due  |
| INV-004 | C001     | 25,000 paid 2026-07-05, after the as-of date             | 25,000      | 1_30     |
| INV-005 | C001     | issued 2026-07-02, after the as-of date                  | -           | -        |
| INV-006 | C001     | cancelled 2026-02-10                                     | -           | -        |
| INV-007 | C002     | USD 10,000 open, due 2026-01-30                          | USD 10,000  | 91_180   |
| INV-008 | C002     | USD 5,000 written off 2026-05-31                         | -           | -        |
| INV-009 | C003     | 200,000 open since 2025-01-01, disputed                  | 200,000     | over_365 |
| INV-010 | C003     | draft                                                    | -           | -        |
| CN-002  | C003     | credit note without an original, 2026-06-20              | -3,000      | 1_30     |

USD converts at the seeded rate for June 2026 (7.0850 CNY), so open AR in CNY is 352,850.00.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from huikuan.contracts import CONTRACTS, create_raw_tables

AS_OF = date(2026, 6, 30)
USD_CNY_2026_06 = 7.0850

D = date.fromisoformat

CUSTOMERS = [
    # customer_id, name, tax_id, parent, region, industry, type, salesperson, terms, limit, ccy, created, active
    ("C001", "华东建设集团有限公司", None, None, "East", "construction", "soe", "S01", 30, 120000000, "CNY", D("2020-01-01"), True),
    ("C002", "Pacific Engineering Ltd", None, None, "South", "engineering", "foreign", "S02", 60, 200000, "USD", D("2021-05-01"), True),
    ("C003", "华东建设第三工程公司", None, "C001", "East", "construction", "soe", "S01", 30, 150000, "CNY", D("2021-01-01"), True),
]
SALESPEOPLE = [
    ("S01", "王伟", "East team", "East", "wang.wei@example.com"),
    ("S02", "李娜", "South team", "South", "li.na@example.com"),
]
PROJECTS = [
    ("P001", "上海地铁机电安装", "C001", "张强", D("2024-01-01"), D("2026-12-31"), 1000000, "CNY", "active"),
    ("P002", "Port crane retrofit", "C002", "Chen Jie", D("2025-06-01"), D("2026-09-30"), 30000, "USD", "active"),
    ("P003", "办公楼弱电改造", "C003", "刘洋", D("2024-06-01"), D("2025-06-30"), 250000, "CNY", "completed"),
]
CONTRACTS_ROWS = [
    ("K001", "P001", "C001", D("2024-01-01"), 150000000, "CNY", 30, 5),
    ("K002", "P002", "C002", D("2025-06-01"), 30000, "USD", 60, 0),
    ("K003", "P003", "C003", D("2024-06-01"), 250000, "CNY", 30, 5),
]
MILESTONES = [
    ("M001", "K001", 1, "advance", 30, 300000, D("2024-02-01"), None),
    ("M002", "K001", 2, "progress", 40, 400000, D("2026-06-01"), "INV-003"),
    ("M003", "K001", 3, "acceptance", 25, 250000, D("2026-12-31"), None),
    ("M004", "K001", 4, "retention", 5, 50000, D("2027-12-31"), None),
    ("M005", "K002", 1, "progress", 100, 30000, D("2025-12-01"), "INV-007"),
    ("M006", "K003", 1, "acceptance", 80, 200000, D("2024-12-01"), "INV-009"),
]
# invoice_no, type, customer, project, contract, milestone, issue, due, ccy, net, tax, gross, rate,
# original, status, cleared_date, cleared_amount
INVOICES = [
    ("INV-001", "standard", "C001", "P001", "K001", None, D("2026-03-01"), D("2026-03-31"), "CNY", None, None, 100000, 0.09, None, "paid", D("2026-04-20"), 100000),
    ("INV-002", "standard", "C001", "P001", "K001", None, D("2026-04-01"), D("2026-05-01"), "CNY", None, None, 50000, 0.09, None, "partially_paid", D("2026-05-10"), 20000),
    ("INV-003", "standard", "C001", "P001", "K001", "M002", D("2026-06-01"), D("2026-07-01"), "CNY", None, None, 40000, 0.09, None, "issued", None, None),
    ("CN-001", "credit_note", "C001", "P001", "K001", None, D("2026-06-15"), D("2026-06-15"), "CNY", None, None, -10000, 0.09, "INV-003", "issued", None, None),
    ("INV-004", "standard", "C001", "P001", "K001", None, D("2026-05-15"), D("2026-06-14"), "CNY", None, None, 25000, 0.09, None, "paid", D("2026-07-05"), 25000),
    ("INV-005", "standard", "C001", "P001", "K001", None, D("2026-07-02"), D("2026-08-01"), "CNY", None, None, 9999, 0.09, None, "issued", None, None),
    ("INV-006", "standard", "C001", "P001", "K001", None, D("2026-02-01"), D("2026-03-03"), "CNY", None, None, 60000, 0.09, None, "cancelled", None, None),
    ("INV-007", "standard", "C002", "P002", "K002", "M005", D("2025-12-01"), D("2026-01-30"), "USD", None, None, 10000, 0, None, "issued", None, None),
    ("INV-008", "standard", "C002", "P002", "K002", None, D("2025-01-10"), D("2025-03-11"), "USD", None, None, 5000, 0, None, "written_off", None, None),
    ("INV-009", "standard", "C003", "P003", "K003", "M006", D("2024-12-01"), D("2025-01-01"), "CNY", None, None, 200000, 0.06, None, "issued", None, None),
    ("INV-010", "standard", "C003", "P003", "K003", None, D("2026-06-10"), D("2026-07-10"), "CNY", None, None, 1000, 0.06, None, "draft", None, None),
    ("CN-002", "credit_note", "C003", "P003", "K003", None, D("2026-06-20"), D("2026-06-20"), "CNY", None, None, -3000, 0.06, None, "issued", None, None),
]
EVENTS = [
    ("INV-006", "cancelled", datetime(2026, 2, 10, 9, 0), "finance"),
    ("INV-008", "written_off", datetime(2026, 5, 31, 18, 0), "cfo"),
    ("INV-009", "disputed", datetime(2025, 2, 1, 10, 0), "customer"),
    ("INV-001", "issued", datetime(2026, 3, 1, 9, 0), "billing"),
    ("INV-001", "sent", datetime(2026, 3, 2, 9, 0), "billing"),
]
BANK_STATEMENTS = [
    ("ST-2026-07", "ICBC-001", "CNY", D("2026-07-01"), 1000000, D("2026-07-31"), 1025000, 1),
]
BANK_TRANSACTIONS = [
    ("ICBC-001", "ST-2026-07", "ICBC202607050001", D("2026-07-05"), D("2026-07-05"), 25000, "CNY",
     "华东建设集团有限公司", "6222000011112222", "INV-004 货款", None, None, "CRDT", False, "1/1"),
]


def _rows(entity: str, rows: list[tuple], source_file: str) -> list[tuple]:
    width = len(CONTRACTS[entity].columns)
    out = []
    for i, row in enumerate(rows, start=1):
        assert len(row) == width, (entity, row)
        out.append((*row, source_file, i, "fixture-" + entity, datetime(2026, 7, 1, 8, 0)))
    return out


TABLES = {
    "customers": (CUSTOMERS, "erp/customers.csv"),
    "salespeople": (SALESPEOPLE, "erp/salespeople.csv"),
    "projects": (PROJECTS, "erp/projects.csv"),
    "contracts": (CONTRACTS_ROWS, "erp/contracts.csv"),
    "payment_milestones": (MILESTONES, "erp/payment_milestones.csv"),
    "invoices": (INVOICES, "invoicing/invoices.csv"),
    "invoice_events": (EVENTS, "invoicing/invoice_events.csv"),
    "bank_statements": (BANK_STATEMENTS, "bank/icbc_001_202607.csv"),
    "bank_transactions": (BANK_TRANSACTIONS, "bank/icbc_001_202607.csv"),
}


def write_fixture_warehouse(path: Path, extra: dict[str, list[tuple]] | None = None) -> Path:
    """Create a DuckDB warehouse at `path` holding the raw tables filled with the fixture rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        create_raw_tables(con)
        for entity, (rows, source_file) in TABLES.items():
            all_rows = list(rows) + list((extra or {}).get(entity, []))
            data = _rows(entity, all_rows, source_file)
            if data:
                marks = ", ".join("?" for _ in data[0])
                con.executemany(f"INSERT INTO raw.{entity} VALUES ({marks})", data)
    finally:
        con.close()
    return path
