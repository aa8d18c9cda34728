"""A small hand-made warehouse in the marts' shapes, published as a snapshot for dashboard tests."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from huikuan.publish import publish

AS_OF = date(2026, 6, 30)
MONTH_END = date(2026, 5, 31)
BUCKETS = [  # key, en, zh, order, lower, upper
    ("not_due", "Not yet due", "未到期", 1, None, 0),
    ("1_30", "1-30 days", "1-30天", 2, 1, 30),
    ("31_60", "31-60 days", "31-60天", 3, 31, 60),
    ("61_90", "61-90 days", "61-90天", 4, 61, 90),
    ("91_180", "91-180 days", "91-180天", 5, 91, 180),
]
CUSTOMERS = [  # id, name, region, salesperson
    ("C001", "华东建设集团", "East", "S01"),
    ("C002", "北方电力工程", "North", "S01"),
    ("C003", "南方信息技术", "South", "S02"),
    ("C004", "Pacific Installations Ltd", "South", "S02"),
    ("C005", "西部安装公司", "West", "S03"),
]


def bucket_for(age: int):
    for b in BUCKETS:
        if (b[4] is None or age >= b[4]) and age <= b[5]:
            return b
    return BUCKETS[-1]


def invoices() -> list[tuple]:
    rows = []
    n = 0
    for ci, (cid, name, region, sp) in enumerate(CUSTOMERS):
        for k in range(6):
            n += 1
            age = [-20, 5, 40, 75, 120, -3][k] + ci
            due = AS_OF - timedelta(days=age)
            ccy = "USD" if cid == "C004" else "CNY"
            amount = 10_000.0 * (ci + 1) + 1_234.5 * k
            rate = 7.1 if ccy == "USD" else 1.0
            rows.append((f"INV{n:04d}", cid, name, f"P{ci + 1:02d}", sp, region, ccy, due - timedelta(days=30),
                         due, age, amount, round(amount * rate, 2)))
    return rows


def build(home: Path) -> Path:
    """Write warehouse/warehouse.duckdb under `home` with the marts the dashboard reads, and publish it."""
    wh = home / "warehouse" / "warehouse.duckdb"
    wh.parent.mkdir(parents=True, exist_ok=True)
    wh.unlink(missing_ok=True)
    with duckdb.connect(str(wh)) as con:
        con.execute("create schema marts")
        con.execute(
            """create table marts.dim_customer (customer_id varchar, customer_name varchar, region varchar,
               salesperson_id varchar, salesperson_name varchar, credit_limit decimal(18,2),
               payment_terms_days integer, customer_type varchar, industry varchar)"""
        )
        for cid, name, region, sp in CUSTOMERS:
            con.execute("insert into marts.dim_customer values (?,?,?,?,?,?,?,?,?)",
                        [cid, name, region, sp, f"Sales {sp}", 500_000, 60, "private", "construction"])
        con.execute(
            """create table marts.ar_aging (as_of_date date, basis varchar, invoice_no varchar,
               customer_id varchar, customer_name varchar, project_id varchar, salesperson_id varchar,
               region varchar, currency varchar, bucket_key varchar, bucket_label_en varchar,
               bucket_label_zh varchar, bucket_order integer, age_days integer,
               open_amount decimal(18,4), open_amount_rpt decimal(18,2))"""
        )
        con.execute("create table marts.ar_aging_monthly as select * from marts.ar_aging")
        con.execute(
            """create table marts.fct_invoice (as_of_date date, invoice_no varchar, invoice_type varchar,
               customer_id varchar, project_id varchar, salesperson_id varchar, region varchar,
               issue_date date, due_date date, currency varchar, fx_rate_issue decimal(18,6), gross_amount decimal(18,4),
               gross_amount_rpt decimal(18,2), paid_amount decimal(18,4), open_amount decimal(18,4),
               open_amount_rpt decimal(18,2), first_payment_date date, last_payment_date date,
               settled_date date, days_late integer, days_overdue integer, status varchar,
               is_disputed boolean)"""
        )
        for inv in invoices():
            no, cid, name, pid, sp, region, ccy, issue, due, age, amount, rpt = inv
            for basis, a in (("due_date", age), ("invoice_date", age + 30)):
                b = bucket_for(a)
                con.execute(
                    "insert into marts.ar_aging values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [AS_OF, basis, no, cid, name, pid, sp, region, ccy, b[0], b[1], b[2], b[3], a, amount, rpt],
                )
                if a - 30 >= -30:  # the month-end snapshot a month earlier: same items, 30 days younger
                    m = bucket_for(a - 30)
                    con.execute(
                        "insert into marts.ar_aging_monthly values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        [MONTH_END, basis, no, cid, name, pid, sp, region, ccy, m[0], m[1], m[2], m[3],
                         a - 30, amount, rpt],
                    )
            con.execute(
                "insert into marts.fct_invoice values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [AS_OF, no, "standard", cid, pid, sp, region, issue, due, ccy, rpt / amount, amount, rpt, 0, amount, rpt,
                 None, None, None, max(age, 0), age, "open", False],
            )
        _later_marts(con)
    publish(wh, home / "published")
    return wh


def _later_marts(con) -> None:
    """KPI, worklist, credit, project, reconciliation and ML tables in the shapes the pages read."""
    con.execute("create schema if not exists reconciliation")
    con.execute("create schema if not exists ml")
    con.execute(
        """create table marts.kpi_monthly as
           with months as (select last_day(make_date(2024, 7, 1) + to_months(i)) as month_end, i
                           from range(24) t(i)),
                dims as (select 'company' as dimension, 'all' as dimension_value, 1.0 as w
                         union all select 'salesperson', 'S01', 0.4
                         union all select 'salesperson', 'S02', 0.35
                         union all select 'customer', 'C001', 0.2
                         union all select 'customer', 'C003', 0.2)
           select month_end, dimension, dimension_value,
                  55.0 + i % 7 as countback_dso, 38.0 + i % 3 as best_possible_dso,
                  17.0 + i % 7 - i % 3 as average_days_delinquent, 70.0 + i % 5 as cei_pct,
                  round(w * (800000 + 5000 * i), 2) as collected_rpt,
                  round(w * (1500000 + 10000 * i), 2) as ending_ar_rpt,
                  round(w * (500000 + 3000 * i), 2) as overdue_ar_rpt,
                  round(w * (850000 + 6000 * i), 2) as credit_sales_rpt
           from months cross join dims"""
    )
    con.execute(
        """create table marts.collections_worklist as
           select row_number() over (order by open_amount_rpt * (1 + greatest(age_days, 0)) desc, invoice_no)
                    as priority_rank,
                  invoice_no, customer_id, customer_name, project_id, salesperson_id, currency, open_amount,
                  open_amount_rpt, as_of_date - age_days as due_date, age_days as days_overdue,
                  case when age_days <= 0 then 'pre_reminder' when age_days <= 15 then 'stage_1'
                       when age_days <= 30 then 'stage_2' else 'stage_3' end as dunning_stage,
                  'salesperson' as owner_role, 'Call the customer' as next_action_en, '电话催收' as next_action_zh,
                  false as is_disputed, as_of_date + 20 as predicted_pay_date,
                  least(0.9, greatest(age_days, 0) / 150.0) as probability_of_default,
                  round(open_amount_rpt * least(0.9, greatest(age_days, 0) / 150.0), 2) as expected_loss_rpt,
                  'v1' as model_version
           from marts.ar_aging where basis = 'due_date'"""
    )
    con.execute(
        """create table marts.customer_credit as
           select c.customer_id, c.customer_name, c.salesperson_id,
                  case when sum(a.open_amount_rpt) > 400000 then 'C' else 'B' end as rating, 'B' as previous_rating,
                  12.5 as weighted_days_late, 0.3 as late_share, 1 as consecutive_late_payments,
                  c.credit_limit as credit_limit_rpt, sum(a.open_amount_rpt) as open_ar_rpt,
                  sum(a.open_amount_rpt) filter (where a.bucket_key <> 'not_due') as overdue_ar_rpt,
                  sum(a.open_amount_rpt) / c.credit_limit as credit_utilization,
                  sum(a.open_amount_rpt) / c.credit_limit >= 0.9 as is_utilization_alert,
                  false as is_consecutive_late_alert, c.customer_id = 'C003' as is_downgrade_alert,
                  sum(a.open_amount_rpt) / c.credit_limit >= 0.9 or c.customer_id = 'C003' as has_alert
           from marts.dim_customer c join marts.ar_aging a on a.customer_id = c.customer_id and a.basis = 'due_date'
           group by c.customer_id, c.customer_name, c.salesperson_id, c.credit_limit"""
    )
    con.execute(
        """create table marts.project_receivables as
           select project_id, 'Project ' || project_id as project_name, customer_id, any_value(customer_name)
                    as customer_name, salesperson_id,
                  sum(open_amount_rpt) * 3 as contract_value_rpt, sum(open_amount_rpt) * 2 as billed_rpt,
                  sum(open_amount_rpt) as collected_rpt, sum(open_amount_rpt) as open_ar_rpt,
                  1 as unbilled_due_milestones, round(sum(open_amount_rpt) * 0.2, 2) as unbilled_due_rpt,
                  round(sum(open_amount_rpt) * 0.05, 2) as retention_held_rpt, 0.5 as collection_rate
           from marts.ar_aging where basis = 'due_date' group by project_id, customer_id, salesperson_id"""
    )
    con.execute(
        """create table marts.fct_payment_application as
           select invoice_no, customer_id, 'B0' || invoice_no as bank_txn_key, due_date - 3 as applied_date,
                  'rule' as application_method, 0.99 as confidence, currency, 1000.0 as applied_amount,
                  1000.0 as applied_amount_rpt
           from marts.fct_invoice"""
    )
    con.execute(
        """create table reconciliation.matches (bank_txn_key varchar, invoice_no varchar, customer_id varchar,
           booking_date date, applied_amount decimal(18,2), currency varchar, rule varchar, confidence double,
           evidence varchar, status varchar, written_off_amount decimal(18,2), write_off_reason varchar)"""
    )
    con.execute(
        """insert into reconciliation.matches values
           ('B001', 'INV0001', 'C001', '2026-06-10', 10000, 'CNY', 'reference', 0.99, '{}', 'auto', 0, null),
           ('B002', 'INV0013', 'C003', '2026-06-11', 30000, 'CNY', 'payer_exact', 0.95, '{}', 'auto', 0, null),
           ('B003', 'INV0014', 'C003', '2026-06-12', 31234.5, 'CNY', 'decision', 1.0, '{}', 'manual', 0, null)"""
    )
    con.execute(
        """create table reconciliation.proposals (bank_txn_key varchar, invoice_no varchar, customer_id varchar,
           amount decimal(18,2), currency varchar, rule varchar, score double, evidence varchar, rank integer)"""
    )
    con.execute(
        """insert into reconciliation.proposals values
           ('B010', 'INV0002', 'C001', 11234.5, 'CNY', 'payer_fuzzy', 0.72, '{}', 1),
           ('B010', 'INV0008', 'C002', 11234.5, 'CNY', 'amount_only', 0.41, '{}', 2),
           ('B011', 'INV0015', 'C003', 20000, 'CNY', 'payer_subset', 0.66, '{}', 1),
           ('B011', 'INV0016', 'C003', 15000, 'CNY', 'payer_subset', 0.66, '{}', 1)"""
    )
    con.execute(
        """create table reconciliation.unmatched (bank_txn_key varchar, booking_date date, amount decimal(18,2),
           currency varchar, counterparty_name varchar, reason varchar, detail varchar, suggestions varchar)"""
    )
    con.execute(
        """insert into reconciliation.unmatched values
           ('B010', '2026-06-20', 11234.5, 'CNY', '华东建设', 'proposed', 'payer_fuzzy at confidence 0.72', '[]'),
           ('B011', '2026-06-21', 35000, 'CNY', '南方信息', 'proposed', 'payer_subset at confidence 0.66', '[]'),
           ('B012', '2026-06-22', 999, 'CNY', '未知公司', 'no_candidate', 'no invoice reference', '[]'),
           ('B013', '2026-06-23', -500, 'CNY', '电费', 'debit', 'outgoing payment (debit), not a receipt', '[]')"""
    )
    con.execute(
        """create table ml.cash_forecast as
           select 'week' as granularity, cast(date '2026-06-29' + cast(7 * i as integer) as date) as period_start,
                  cast(date '2026-06-29' + cast(7 * i + 6 as integer) as date) as period_end, 200000.0 + 1000 * i as expected,
                  150000.0 + 1000 * i as lo, 250000.0 + 1000 * i as hi, 'v1' as model_version
           from range(13) t(i)
           union all
           select 'month', cast(make_date(2026, 7, 1) + to_months(i) as date), last_day(make_date(2026, 7, 1) + to_months(i)),
                  850000.0 + 1000 * i, 700000.0, 1000000.0 + 1000 * i, 'v1'
           from range(12) t(i)"""
    )
    con.execute(
        """create table ml.predictions as
           select invoice_no, due_date + 12 as expected_pay_date, 0.05 as p_default, 0.4 as p_late,
                  'v1' as model_version
           from marts.fct_invoice"""
    )
    con.execute(
        """create table ml.backtests (model_version varchar, method varchar, metric varchar, value double)"""
    )
    con.execute(
        """insert into ml.backtests values ('v1', 'model', 'mae_days', 9.5), ('v1', 'customer_median', 'mae_days', 13.1),
           ('v1', 'model', 'auc', 0.81), ('v1', 'model', 'wape_weekly', 0.31),
           ('v1', 'naive_last_13_weeks', 'wape_weekly', 0.45)"""
    )
    con.execute("create table ml.calibration as select (i + 0.5) / 10 as predicted, (i + 0.3) / 10 as observed "
                "from range(10) t(i)")
    con.execute("create table ml.drift (feature varchar, psi double)")
    con.execute("insert into ml.drift values ('customer_median_delay', 0.08), ('amount_log', 0.31)")
