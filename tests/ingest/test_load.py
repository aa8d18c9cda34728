"""Loading files end to end into a real DuckDB file: formats, bad input, idempotency, resubmission."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from huikuan.ingest import ingest_paths
from huikuan.ingest.checks import check_bank_balances, check_control_totals, check_row_accounting
from huikuan.ingest.load import source_and_period
from tests.conftest import require_shared

CUSTOMERS = (
    "\ufeffcustomer_id,customer_name,tax_id,customer_type,payment_terms_days,credit_limit,is_active\n"
    'C1,华筑工程,91350100M000100Y43,soe,60,"1,000,000.00",true\n'
    "C2,远景科技,,private,30,500000,false\n"
)
INV_HEADER = "invoice_no,invoice_type,customer_id,issue_date,due_date,currency,gross_amount\n"


def load(tmp_path: Path, files: dict[str, bytes | str], **kw):
    land = tmp_path / "landing"
    for name, content in files.items():
        p = land / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    wh = tmp_path / "wh.duckdb"
    results = ingest_paths([land], wh, landing_root=land, **kw)
    return {r.file: r for r in results}, wh


def query(wh: Path, sql: str, params=None):
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def accounting_holds(wh: Path) -> bool:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return check_row_accounting(con) == []
    finally:
        con.close()


def quarantine(wh: Path, file: str):
    return query(
        wh,
        "SELECT source_row, column_name, value, reason FROM raw.quarantine WHERE source_file = ? "
        "ORDER BY source_row",
        [file],
    )


def test_canonical_files_load_with_lineage(tmp_path):
    res, wh = load(
        tmp_path,
        {
            "erp/customers.csv": CUSTOMERS,
            "invoicing/invoices.csv": INV_HEADER + 'I1,standard,C1,2024/3/1,2024-04-30,CNY,"¥1,130.00"\n'
            "I2,credit_note,C1,01.03.2024,,人民币,(130.00)\n",
        },
    )
    assert res["erp/customers.csv"].status == "loaded" and res["erp/customers.csv"].rows_loaded == 2
    inv = res["invoicing/invoices.csv"]
    assert (inv.status, inv.rows_loaded, inv.rows_quarantined, inv.entity) == ("loaded", 2, 0, "invoices")
    rows = query(
        wh,
        "SELECT invoice_no, gross_amount, currency, issue_date, source_file, source_row "
        "FROM raw.invoices ORDER BY invoice_no",
    )
    assert [(r[0], float(r[1]), r[2], str(r[3]), r[4], r[5]) for r in rows] == [
        ("I1", 1130.0, "CNY", "2024-03-01", "invoicing/invoices.csv", 1),
        ("I2", -130.0, "CNY", "2024-03-01", "invoicing/invoices.csv", 2),
    ]
    assert query(wh, "SELECT credit_limit, is_active FROM raw.customers ORDER BY customer_id")[0][1] is True
    assert accounting_holds(wh)
    d = inv.to_dict()
    assert set(d) == {
        "file",
        "format",
        "status",
        "rows_loaded",
        "rows_quarantined",
        "reasons",
        "balance_ok",
        "entity",
    }


# --- the bad-input corpus: each case names its expectation --------------------------------------


def test_truncated_csv_quarantines_the_cut_line(tmp_path):
    res, wh = load(
        tmp_path,
        {
            "erp/customers.csv": CUSTOMERS,
            "invoices.csv": INV_HEADER + "I1,standard,C1,2024-03-01,,CNY,10\nI2,stand",
        },
    )
    r = res["invoices.csv"]
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    q = quarantine(wh, "invoices.csv")
    assert q[0][0] == 2 and "line 3" in q[0][3]
    assert accounting_holds(wh)


def test_unterminated_quote_is_quarantined(tmp_path):
    res, wh = load(tmp_path, {"invoices.csv": INV_HEADER + 'I1,standard,C1,2024-03-01,,CNY,"10\n'})
    assert res["invoices.csv"].rows_quarantined == 1
    assert "unterminated quote" in quarantine(wh, "invoices.csv")[0][3]
    assert accounting_holds(wh)


def test_gbk_file_decodes(tmp_path):
    body = "customer_id,customer_name\nC1,华筑工程\nC2,远景科技\n"
    res, wh = load(tmp_path, {"customers.csv": body.encode("gbk")})
    assert res["customers.csv"].rows_loaded == 2
    assert any("GB18030" in x for x in res["customers.csv"].reasons)
    assert query(wh, "SELECT customer_name FROM raw.customers ORDER BY 1") == [("华筑工程",), ("远景科技",)]


def test_undecodable_bytes_quarantine_their_rows(tmp_path):
    # Neither valid GB18030 nor UTF-8: read as UTF-8, every undecodable line is quarantined.
    body = "customer_id,customer_name\nC1,华筑工程\n".encode("gbk") + b"C2,\x81\x20bad\n"
    res, wh = load(tmp_path, {"customers.csv": body})
    r = res["customers.csv"]
    assert (r.rows_loaded, r.rows_quarantined) == (0, 2)
    assert all("INVALID ENCODING" in x[3] for x in quarantine(wh, "customers.csv"))
    assert accounting_holds(wh)


def test_non_utf8_bytes_in_utf8_file_quarantine_the_row(tmp_path):
    body = "customer_id,customer_name\nC1,华筑工程\nC2,\xff\xfebad\nC3,远景\n"
    raw = (
        body.encode("utf-8", errors="surrogateescape")
        if False
        else "customer_id,customer_name\nC1,华筑工程\n".encode() + b"C2,\xffbad\n" + "C3,远景\n".encode()
    )
    res, wh = load(tmp_path, {"customers.csv": raw})
    r = res["customers.csv"]
    assert (r.rows_loaded, r.rows_quarantined) == (2, 1)
    q = quarantine(wh, "customers.csv")
    assert q[0][0] == 2 and "INVALID ENCODING" in q[0][3]
    assert accounting_holds(wh)


def test_missing_required_column_rejects_with_names(tmp_path):
    res, _ = load(tmp_path, {"invoices.csv": "invoice_no,customer_id,currency\nI1,C1,CNY\n"})
    r = res["invoices.csv"]
    assert r.status == "rejected"
    assert "missing required column" in r.reasons[0] and "issue_date" in r.reasons[0]


def test_unknown_extra_columns_are_reported(tmp_path):
    res, _wh = load(
        tmp_path, {"invoices.csv": INV_HEADER.strip() + ",remark\nI1,standard,C1,2024-03-01,,CNY,10,x\n"}
    )
    r = res["invoices.csv"]
    assert r.rows_loaded == 1 and any("not loaded: remark" in x for x in r.reasons)


def test_duplicate_invoice_numbers_quarantine_the_repeat(tmp_path):
    res, wh = load(
        tmp_path,
        {
            "invoices.csv": INV_HEADER + "I1,standard,C1,2024-03-01,,CNY,10\n"
            "I1,standard,C1,2024-03-02,,CNY,11\n"
        },
    )
    assert (res["invoices.csv"].rows_loaded, res["invoices.csv"].rows_quarantined) == (1, 1)
    assert "duplicate key invoice_no=I1 (first at row 1)" in quarantine(wh, "invoices.csv")[0][3]


def test_duplicate_against_loaded_file(tmp_path):
    res, wh = load(
        tmp_path,
        {
            "a/invoices_202403.csv": INV_HEADER + "I1,standard,C1,2024-03-01,,CNY,10\n",
            "b/invoices_202404.csv": INV_HEADER + "I1,standard,C1,2024-04-01,,CNY,10\n",
        },
    )
    assert res["b/invoices_202404.csv"].rows_quarantined == 1
    assert "already loaded from a/invoices_202403.csv" in quarantine(wh, "b/invoices_202404.csv")[0][3]


def test_invalid_amounts_are_quarantined_with_value(tmp_path):
    _res, wh = load(
        tmp_path,
        {
            "invoices.csv": INV_HEADER + "I1,standard,C1,2024-03-01,,CNY,12abc\n"
            "I2,standard,C1,2024-03-01,,CNY,1.234.5\n"
        },
    )
    q = quarantine(wh, "invoices.csv")
    assert [(x[1], x[2]) for x in q] == [("gross_amount", "12abc"), ("gross_amount", "1.234.5")]
    assert all("not an amount" in x[3] for x in q)


def test_unknown_customer_is_quarantined(tmp_path):
    _res, wh = load(
        tmp_path,
        {"erp/customers.csv": CUSTOMERS, "invoices.csv": INV_HEADER + "I1,standard,C9,2024-03-01,,CNY,10\n"},
    )
    assert quarantine(wh, "invoices.csv") == [(1, "customer_id", "C9", "customer_id: unknown customer C9")]


def test_malformed_and_ambiguous_dates(tmp_path):
    _res, wh = load(
        tmp_path,
        {
            "invoices.csv": INV_HEADER + "I1,standard,C1,2024-02-30,,CNY,10\n"
            "I2,standard,C1,03/04/2024,,CNY,10\n"
            "I3,standard,C1,yesterday,,CNY,10\n"
        },
    )
    reasons = [x[3] for x in quarantine(wh, "invoices.csv")]
    assert reasons == [
        "issue_date: not a valid calendar date",
        "issue_date: ambiguous date (day/month order unknown)",
        "issue_date: not a date",
    ]
    assert accounting_holds(wh)


def test_enumeration_and_required_value(tmp_path):
    _res, wh = load(
        tmp_path,
        {"invoices.csv": INV_HEADER + "I1,proforma,C1,2024-03-01,,CNY,10\nI2,standard,,2024-03-01,,CNY,10\n"},
    )
    reasons = [x[3] for x in quarantine(wh, "invoices.csv")]
    assert reasons[0].startswith("invoice_type: not one of standard/credit_note/debit_note")
    assert reasons[1] == "customer_id: required value missing"


def test_invalid_credit_code_is_quarantined(tmp_path):
    _res, wh = load(
        tmp_path, {"customers.csv": "customer_id,customer_name,tax_id\nC1,甲,91350100M000100Y44\n"}
    )
    assert "unified social credit code" in quarantine(wh, "customers.csv")[0][3]


def test_empty_file_is_rejected(tmp_path):
    res, _ = load(tmp_path, {"invoices.csv": ""})
    assert res["invoices.csv"].status == "rejected" and "empty" in res["invoices.csv"].reasons[0]


def test_header_only_file_loads_nothing_and_says_so(tmp_path):
    res, wh = load(tmp_path, {"invoices.csv": INV_HEADER})
    r = res["invoices.csv"]
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("loaded", 0, 0)
    assert "no data rows (header only)" in r.reasons
    assert accounting_holds(wh)


def test_bom_and_crlf(tmp_path):
    body = "\ufeff" + (INV_HEADER + "I1,standard,C1,2024-03-01,,CNY,10\n").replace("\n", "\r\n")
    res, wh = load(tmp_path, {"invoices.csv": body})
    assert res["invoices.csv"].rows_loaded == 1
    assert query(wh, "SELECT invoice_no, gross_amount FROM raw.invoices")[0][0] == "I1"


def test_mixed_line_endings(tmp_path):
    body = (
        INV_HEADER.replace("\n", "\r\n")
        + "I1,standard,C1,2024-03-01,,CNY,10\nI2,standard,C1,2024-03-01,,CNY,11\r\n"
    )
    res, wh = load(tmp_path, {"invoices.csv": body})
    assert res["invoices.csv"].rows_loaded == 2
    assert query(wh, "SELECT max(gross_amount) FROM raw.invoices")[0][0] == 11


def test_semicolon_delimiter_and_fullwidth_digits(tmp_path):
    body = INV_HEADER.replace(",", ";") + "I1;standard;C1;２０２４-０３-０１;;CNY;１，０００．５０\n"
    res, wh = load(tmp_path, {"invoices.csv": body})
    assert res["invoices.csv"].rows_loaded == 1
    assert float(query(wh, "SELECT gross_amount FROM raw.invoices")[0][0]) == 1000.5


def test_wrong_column_count_is_quarantined(tmp_path):
    res, wh = load(tmp_path, {"invoices.csv": INV_HEADER + "I1,standard,C1,2024-03-01,,CNY,10,extra\n"})
    assert res["invoices.csv"].rows_quarantined == 1
    assert "TOO MANY COLUMNS" in quarantine(wh, "invoices.csv")[0][3]


def test_over_size_limit_is_rejected(tmp_path):
    big = INV_HEADER + "I1,standard,C1,2024-03-01,,CNY,10\n" * 40000
    res, _ = load(tmp_path, {"invoices.csv": big}, max_file_mb=1)
    r = res["invoices.csv"]
    assert r.status == "rejected" and "above the 1 MB limit" in r.reasons[0]


def test_same_file_twice_and_renamed_is_unchanged(tmp_path):
    body = INV_HEADER + "I1,standard,C1,2024-03-01,,CNY,10\n"
    _res, wh = load(tmp_path, {"invoices.csv": body})
    res2, _ = load(tmp_path, {"invoices.csv": body, "copy/invoices_renamed.csv": body})
    assert res2["invoices.csv"].status == "unchanged"
    assert res2["copy/invoices_renamed.csv"].status == "unchanged"
    assert "already loaded as invoices.csv" in res2["copy/invoices_renamed.csv"].reasons[0]
    assert query(wh, "SELECT count(*) FROM raw.invoices")[0][0] == 1


def test_corrected_resubmission_replaces_the_period(tmp_path):
    res, wh = load(
        tmp_path,
        {
            "invoices_202403.csv": INV_HEADER + "I1,standard,C1,2024-03-01,,CNY,10\n"
            "I2,standard,C1,2024-03-02,,CNY,bad\n"
        },
    )
    assert res["invoices_202403.csv"].rows_quarantined == 1
    res2, _ = load(
        tmp_path,
        {
            "invoices_2024-03_v2.csv": INV_HEADER + "I1,standard,C1,2024-03-01,,CNY,12\n"
            "I2,standard,C1,2024-03-02,,CNY,20\n"
        },
    )
    r = res2["invoices_2024-03_v2.csv"]
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("loaded", 2, 0)
    assert any("replaces invoices_202403.csv" in x for x in r.reasons)
    assert query(wh, "SELECT invoice_no, gross_amount FROM raw.invoices ORDER BY 1") == [
        ("I1", 12),
        ("I2", 20),
    ]
    assert query(wh, "SELECT count(*) FROM raw.quarantine")[0][0] == 0
    assert query(wh, "SELECT status FROM raw.file_registry ORDER BY loaded_at") == [
        ("superseded",),
        ("loaded",),
    ]
    assert accounting_holds(wh)


def test_source_and_period_rule():
    assert source_and_period("bank/icbc_1202_202403.csv") == ("bank/icbc_1202_*", "2024-03")
    assert source_and_period("bank/icbc_1202_2024-03_corrected.csv") == ("bank/icbc_1202_*", "2024-03")
    assert source_and_period("erp/customers.csv") == ("erp/customers", "all")


def test_ambiguous_profile_is_a_clear_error(tmp_path):
    prof = tmp_path / "home" / "profiles"
    prof.mkdir(parents=True)
    (prof / "twin.yml").write_text(
        "name: twin\nentities:\n  salespeople:\n    columns:\n      工号: salesperson_id\n      姓名: name\n",
        encoding="utf-8",
    )
    (prof / "twin2.yml").write_text(
        "name: twin2\nentities:\n  salespeople:\n    columns:\n"
        "      工号: salesperson_id\n      姓名: name\n",
        encoding="utf-8",
    )
    import os

    os.environ["HUIKUAN_HOME"] = str(tmp_path / "home")
    try:
        res, _ = load(tmp_path, {"staff.csv": "工号,姓名\nS1,张三\n"})
    finally:
        del os.environ["HUIKUAN_HOME"]
    assert res["staff.csv"].status == "rejected" and "several profiles" in res["staff.csv"].reasons[0]


def test_user_profile_without_code(tmp_path, home):
    (home / "profiles").mkdir()
    (home / "profiles" / "hr.yml").write_text(
        "name: hr\nentities:\n  salespeople:\n    columns:\n"
        "      工号: salesperson_id\n      姓名: name\n      团队: team\n",
        encoding="utf-8",
    )
    res, wh = load(tmp_path, {"staff.csv": "工号,姓名,团队\nS1,张三,华东\n"})
    assert res["staff.csv"].rows_loaded == 1
    assert query(wh, "SELECT salesperson_id, name, team FROM raw.salespeople") == [("S1", "张三", "华东")]


def test_kingdee_and_sap_profiles(tmp_path):
    res, wh = load(
        tmp_path,
        {
            "kd_customers.csv": "客户编码,客户名称,客户类别,结算币别\nC1,华筑,国有企业,人民币\n",
            "kd_ar.csv": "单据编号,单据类型,客户编码,业务日期,币别,价税合计,税率(%)\nAR1,红字应收单,C1,2024-03-01,人民币,-113,13\n",
            "fbl5n.csv": "Document Number,Document Type,Customer,Document Date,Document currency,Amount in doc. curr.,Debit/Credit ind\n"
            '9000001,DR,C1,01.03.2024,CNY,"1,000.00",S\n9000002,DG,C1,02.03.2024,CNY,100.00,H\n',
        },
    )
    assert all(r.status == "loaded" and r.rows_quarantined == 0 for r in res.values()), res
    assert query(
        wh,
        "SELECT invoice_no, invoice_type, gross_amount::DOUBLE, tax_rate::DOUBLE, currency "
        "FROM raw.invoices ORDER BY 1",
    ) == [
        ("9000001", "standard", 1000.0, None, "CNY"),
        ("9000002", "credit_note", -100.0, None, "CNY"),
        ("AR1", "credit_note", -113.0, 0.13, "CNY"),
    ]
    assert query(wh, "SELECT customer_type, currency FROM raw.customers") == [("soe", "CNY")]


def test_xlsx_and_parquet(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["invoice_no", "customer_id", "issue_date", "currency", "gross_amount"])
    import datetime as dt

    ws.append(["X1", "C1", dt.datetime(2024, 3, 1), "CNY", 1234.5])
    land = tmp_path / "landing"
    land.mkdir()
    wb.save(land / "invoices.xlsx")
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 'P1' AS invoice_no, 'C1' AS customer_id, DATE '2024-03-02' AS issue_date, "
        f"'CNY' AS currency, 9.5 AS gross_amount) TO '{land / 'invoices_p.parquet'}' (FORMAT parquet)"
    )
    con.close()
    res, wh = load(tmp_path, {})
    assert res["invoices.xlsx"].rows_loaded == 1 and res["invoices_p.parquet"].rows_loaded == 1
    assert query(wh, "SELECT invoice_no, issue_date::VARCHAR, gross_amount FROM raw.invoices ORDER BY 1") == [
        ("P1", "2024-03-02", 9.5),
        ("X1", "2024-03-01", 1234.5),
    ]


# --- XML attacks --------------------------------------------------------------------------------

CAMT = """<?xml version="1.0"?>{doctype}
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>S1</Id>
<Acct><Id><IBAN>GB82WEST12345698765432</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2024-03-01</Dt></BookgDt>
<AcctSvcrRef>R1</AcctSvcrRef><AddtlNtryInf>{text}</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>"""


def test_xxe_is_refused(tmp_path):
    doc = CAMT.format(
        doctype='<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>', amount="1", text="&x;"
    )
    res, _ = load(tmp_path, {"stmt.xml": doc})
    r = res["stmt.xml"]
    assert r.status == "rejected" and "DOCTYPE/ENTITY" in r.reasons[0] and "line 1" in r.reasons[0]


def test_billion_laughs_is_refused(tmp_path):
    ents = '<!ENTITY a "lol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "&{chr(97 + i)};&{chr(97 + i)};">' for i in range(9)
    )
    doc = CAMT.format(doctype=f"<!DOCTYPE d [{ents}]>", amount="1", text="&j;")
    res, _ = load(tmp_path, {"bomb.xml": doc})
    assert res["bomb.xml"].status == "rejected" and "entity expansion" in res["bomb.xml"].reasons[0]


def test_malformed_xml_names_the_line(tmp_path):
    res, _ = load(tmp_path, {"bad.xml": CAMT.format(doctype="", amount="1", text="x")[:300]})
    assert res["bad.xml"].status == "rejected" and "malformed XML" in res["bad.xml"].reasons[0]


def test_camt_bad_amount_is_quarantined(tmp_path):
    res, wh = load(tmp_path, {"s.xml": CAMT.format(doctype="", amount="1,0x", text="x")})
    r = res["s.xml"]
    assert (r.rows_loaded, r.rows_quarantined) == (0, 1)
    assert "amount" in quarantine(wh, "s.xml")[0][3]


# --- shared bank samples ----------------------------------------------------------------------

# Statements in the shared samples that do not balance by their own figures (checked by hand):
# the data was written by hand for parser tests. Everything else that carries balances balances.
UNBALANCED = {
    "camt/genkgo_camt053.v8.xml",  # opening 18.15 EUR CRDT + 8.85 = 27.00, closing 27.00 SEK *DBIT*
    "mt940/wolph_jejik_abnamro.sta",  # 3236.28 - 321.44 = 2914.84, closing says 876.84
    "mt940/wolph_jejik_ing.sta",  # 0.00 - 45.59, closing says 3.47
    "mt940/wolph_jejik_postfinance.sta",  # statement 2: 229.2 - 79.9 + 10.1 = 159.4, closing says 159.6
    "csv_cn/deb_bocom_debit.csv",
    "csv_cn/deb_cmb_debit.csv",  # running balances do not chain
    "bai2/moov_sample4-continuations-newline-delimited.txt",  # 010/015 disagree with the 16 records
}
# Control totals in the samples that disagree with their own records (checked by hand).
BAD_CONTROLS = {
    "bai2/moov_sample4-continuations-newline-delimited.txt",  # 49 says 26 records, the account has 18
    "csv_cn/deb_icbc_debit_v2.csv",  # footer 人民币合计 is a masked placeholder (1,234.56 / 9,876.54)
}


@pytest.fixture(scope="module")
def samples_loaded(tmp_path_factory):
    src = require_shared("samples", "bank")
    wh = tmp_path_factory.mktemp("samples") / "wh.duckdb"
    results = ingest_paths([src], wh, landing_root=src)
    return {r.file: r for r in results}, wh, src


def test_every_sample_loads(samples_loaded):
    res, wh, src = samples_loaded
    files = {
        p.relative_to(src).as_posix()
        for p in src.rglob("*")
        if p.is_file() and p.suffix not in (".md", ".tsv")
    }
    assert set(res) == files
    assert all(r.status == "loaded" and r.rows_loaded > 0 for r in res.values()), {
        f: r.reasons for f, r in res.items() if r.status != "loaded"
    }
    assert accounting_holds(wh)


def test_sample_balances_and_controls(samples_loaded):
    res, wh, _ = samples_loaded
    for f, r in res.items():
        if r.balance_ok is not None:
            assert r.balance_ok is (f not in UNBALANCED), (f, r.reasons)
    carried = {f for f, r in res.items() if r.balance_ok}
    assert {
        "bai2/moov_sample3.txt",
        "csv_cn/deb_boc_debit.csv",
        "mt940/wolph_betterplace_sepa_mt9401.sta",
        "mt940/wolph_mBank_mt940.sta",
        "mt940/wolph_citi_mt940.txt",
    } <= carried
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert {x["source_file"] for x in check_control_totals(con)} == BAD_CONTROLS
        assert {x["source_file"] for x in check_bank_balances(con)} <= UNBALANCED
        good = query(
            wh, "SELECT DISTINCT source_file FROM raw.file_controls WHERE ok AND control <> 'balance'"
        )
        assert ("bai2/moov_sample1.txt",) in good
    finally:
        con.close()


def test_sample_details(samples_loaded):
    _, wh, _ = samples_loaded
    rows = dict(
        query(
            wh,
            "SELECT bank_txn_key, amount::DOUBLE FROM raw.bank_transactions WHERE source_file LIKE 'camt/%'",
        )
    )
    assert rows["AAAASESS-FP-CN_98765/01"] == pytest.approx(8.85)
    rev = query(
        wh, "SELECT amount FROM raw.bank_transactions WHERE is_reversal AND source_file LIKE '%betterplace%'"
    )
    assert rev and all(a < 0 for (a,) in rev)  # RC: reversal of a credit takes money out
    ref = query(
        wh,
        "SELECT end_to_end_id, remittance_text FROM raw.bank_transactions "
        "WHERE source_file LIKE '%rabobank%' ORDER BY source_row LIMIT 2",
    )
    assert ref[0][0].startswith("01-01-2013") and "Reference 201301234" in ref[1][1]
    de = query(
        wh,
        "SELECT end_to_end_id FROM raw.bank_transactions WHERE source_file LIKE '%betterplace%' "
        "ORDER BY source_row LIMIT 1",
    )
    assert de[0][0].startswith("TFNR 40005")
    icbc = query(
        wh,
        "SELECT amount::DOUBLE, currency, counterparty_name FROM raw.bank_transactions "
        "WHERE source_file LIKE '%icbc%' ORDER BY source_row LIMIT 1",
    )
    assert icbc == [(pytest.approx(-13.40), "CNY", "深圳市财付通支付科技有限公司")]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_chinese_exports_reencoded_load_the_same(tmp_path, samples_loaded, encoding):
    _, wh, src = samples_loaded
    land = tmp_path / "landing"
    shutil.copytree(src / "csv_cn", land / "csv_cn")
    for p in (land / "csv_cn").iterdir():
        p.write_bytes(p.read_text(encoding="utf-8").encode(encoding))
    wh2 = tmp_path / "wh.duckdb"
    ingest_paths([land], wh2, landing_root=land)
    sql = (
        "SELECT source_file, source_row, bank_txn_key, booking_date, amount, currency, counterparty_name, "
        "remittance_text FROM raw.bank_transactions WHERE source_file LIKE 'csv_cn/%' ORDER BY 1, 2"
    )
    assert query(wh2, sql) == query(wh, sql)


def test_generated_landing_loads_fully(generated_small, tmp_path):
    land = generated_small / "landing"
    wh = tmp_path / "wh.duckdb"
    results = ingest_paths([land], wh, landing_root=land)
    assert results and all(r.status == "loaded" and r.rows_quarantined == 0 for r in results), [
        (r.file, r.reasons) for r in results if r.status != "loaded" or r.rows_quarantined
    ][:5]
    assert all(r.balance_ok is not False for r in results)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert check_row_accounting(con) == []
        assert check_bank_balances(con) == []
        assert check_control_totals(con) == []
        n = con.execute("SELECT count(*) FROM raw.invoices").fetchone()[0]
    finally:
        con.close()
    assert n == 600
    again = ingest_paths([land], wh, landing_root=land)
    assert all(r.status == "unchanged" for r in again)


def test_bad_bytes_in_crlf_utf8_file_quarantine_only_their_row(tmp_path):
    raw = "customer_id,customer_name\r\nC1,华筑工程\r\n".encode() + b"C2,\xffbad\r\n" + "C3,远景\r\n".encode()
    res, wh = load(tmp_path, {"customers.csv": raw})
    r = res["customers.csv"]
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("loaded", 2, 1)
    assert query(wh, "SELECT customer_name FROM raw.customers ORDER BY 1") == [("华筑工程",), ("远景",)]
    assert accounting_holds(wh)
