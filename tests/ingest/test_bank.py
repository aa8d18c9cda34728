"""Bank parsers on small hand-written statements: signs, reversals, keys, controls, bad structure."""

from __future__ import annotations

import json

import duckdb
import pytest

from huikuan.ingest.bank.bai2 import split_records
from huikuan.ingest.bank.mt940 import parse_86
from huikuan.ingest.checks import check_bank_balances, check_control_totals, check_row_accounting
from tests.ingest.test_load import load


def rows(wh, sql):
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def camt(
    version: str, msg: str = "053", entries: str = "", n: int | None = None, closing: str = "110.00"
) -> str:
    outer, inner = {
        "053": ("BkToCstmrStmt", "Stmt"),
        "052": ("BkToCstmrAcctRpt", "Rpt"),
        "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
    }[msg]
    summ = (
        f"<TxsSummry><TtlNtries><NbOfNtries>{n}</NbOfNtries></TtlNtries></TxsSummry>" if n is not None else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{msg}.001.{version}"><{outer}><GrpHdr><MsgId>M1</MsgId></GrpHdr>
<{inner}><Id>ST-1</Id><Acct><Id><Othr><Id>110912345610801</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-03-01</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-03-31</Dt></Dt></Bal>
{summ}{entries}</{inner}></{outer}></Document>"""


def ntry(amount: str, ind: str, ref: str, rev: bool = False, payer: str = "甲公司") -> str:
    return f"""<Ntry><Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>{"<RvslInd>true</RvslInd>" if rev else ""}
<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2024-03-05</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{ref}</EndToEndId></Refs><RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr>
<DbtrAcct><Id><Othr><Id>6222000011112222</Id></Othr></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>INV-2024-001</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""


@pytest.mark.parametrize("version", ["02", "04", "06", "08"])
@pytest.mark.parametrize("msg", ["052", "053", "054"])
def test_camt_versions_balance_and_count(tmp_path, version, msg):
    entries = ntry("30.00", "CRDT", "R1") + ntry("20.00", "DBIT", "R2", payer="乙")
    res, wh = load(tmp_path, {"s.xml": camt(version, msg, entries, n=2)})
    r = res["s.xml"]
    assert (r.status, r.format, r.rows_loaded, r.balance_ok) == (
        "loaded",
        f"camt.{msg}.001.{version}",
        2,
        True,
    )
    got = rows(
        wh,
        "SELECT bank_txn_key, amount::DOUBLE, counterparty_name, end_to_end_id, remittance_text "
        "FROM raw.bank_transactions ORDER BY source_row",
    )
    assert got == [
        ("R1", 30.0, "甲公司", "E2E-R1", "INV-2024-001"),
        ("R2", -20.0, None, "E2E-R2", "INV-2024-001"),
    ]


def test_camt_reversal_kept_and_marked(tmp_path):
    entries = ntry("30.00", "CRDT", "R1") + ntry("30.00", "DBIT", "R1-REV", rev=True)
    res, wh = load(tmp_path, {"s.xml": camt("08", entries=entries, closing="100.00")})
    assert res["s.xml"].balance_ok is True
    assert rows(
        wh,
        "SELECT bank_txn_key, amount::DOUBLE, is_reversal, counterparty_name FROM raw.bank_transactions "
        "ORDER BY source_row",
    ) == [("R1", 30.0, False, "甲公司"), ("R1-REV", -30.0, True, "甲公司")]


def test_camt_unbalanced_and_wrong_count_are_reported(tmp_path):
    res, wh = load(
        tmp_path, {"s.xml": camt("08", entries=ntry("30.00", "CRDT", "R1"), n=3, closing="999.00")}
    )
    r = res["s.xml"]
    assert r.status == "loaded" and r.balance_ok is False
    assert any("does not balance" in x for x in r.reasons)
    assert any("entry_count" in x and "file says 3, found 1" in x for x in r.reasons)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert [f["statement_id"] for f in check_bank_balances(con)] == ["110912345610801:ST-1"]
        assert [(f["control"], f["expected"], f["actual"]) for f in check_control_totals(con)] == [
            ("entry_count", "3", "1")
        ]
        assert check_row_accounting(con) == []
    finally:
        con.close()


def test_camt_unsupported_version_and_foreign_xml(tmp_path):
    res, _ = load(
        tmp_path, {"a.xml": camt("09", entries=ntry("1", "CRDT", "R")), "b.xml": "<?xml version='1.0'?><x/>"}
    )
    assert res["a.xml"].status == "rejected" and "versions 02-08" in res["a.xml"].reasons[0]
    assert res["b.xml"].status == "rejected" and "not a camt" in res["b.xml"].reasons[0]


MT940 = """:20:STMT1
:25:NL91ABNA0417164300
:28C:1/1
:60F:C240301EUR100,00
:61:2403010301C50,00NTRFNONREF//BANKREF1
:86:/EREF/E2E-1/CNTP/NL91ABNA0417164300/ABNANL2A/ACME BV/AMSTERDAM/REMI/USTD//INV 42/
:61:2403020302RC50,00NTRFNONREF//BANKREF2
:86:?00STORNO?20EREF+E2E-1?21SVWZ+Ruecklastschrift?32ACME?33 BV
:61:2403030303D10,00NMSCNONREF
:86:fee
:62F:C240303EUR90,00
-"""


def test_mt940_reversal_keys_and_subfields(tmp_path):
    res, wh = load(tmp_path, {"a.sta": MT940})
    r = res["a.sta"]
    assert (r.status, r.rows_loaded, r.balance_ok) == ("loaded", 3, True)
    got = rows(
        wh,
        "SELECT bank_txn_key, amount::DOUBLE, is_reversal, end_to_end_id, counterparty_name, "
        "remittance_text FROM raw.bank_transactions ORDER BY source_row",
    )
    assert got[0] == ("BANKREF1", 50.0, False, "E2E-1", "ACME BV", "INV 42")
    assert got[1] == ("BANKREF2", -50.0, True, "E2E-1", "ACME BV", "Ruecklastschrift")
    assert got[2][0].startswith("h:") and got[2][1] == -10.0


def test_parse_86_variants():
    assert parse_86(
        "?20EREF+X1?21SVWZ+Rechnung 7?30BYLADEM1001?31DE02120300000000202051?32Max?33 Muster"
    ) == {
        "end_to_end_id": "X1",
        "remittance_text": "Rechnung 7",
        "counterparty_account": "DE02120300000000202051",
        "counterparty_name": "Max Muster",
    }
    assert parse_86("/EREF/NOTPROVIDED/REMI/USTD//PAY 1/") == {"remittance_text": "PAY 1"}
    assert parse_86("just text") == {"remittance_text": "just text"}


def test_mt940_broken_structure_is_rejected(tmp_path):
    res, _ = load(tmp_path, {"a.sta": MT940.replace(":61:2403030303D10,00NMSCNONREF", ":61:garbage")})
    r = res["a.sta"]
    assert r.status == "rejected" and "statement starting at line 1" in r.reasons[0]


BAI2 = """01,BANK,CUST,240301,0800,1,,,2/
02,CUST,BANK,1,240301,,USD,2/
03,123456,USD,010,100000,,,015,110000,,/
16,195,20000,Z,REF1,,WIRE IN ACME/
88,INVOICE 42/
16,475,10000,Z,REF2,,CHECK PAID/
49,240000,5/
98,240000,1,7/
99,240000,1,9/"""


def test_bai2_controls_balances_and_continuations(tmp_path):
    res, wh = load(tmp_path, {"a.bai": BAI2})
    r = res["a.bai"]
    assert (r.status, r.rows_loaded, r.balance_ok) == ("loaded", 2, True), r.reasons
    assert rows(
        wh, "SELECT bank_txn_key, amount::DOUBLE, remittance_text FROM raw.bank_transactions ORDER BY 1"
    ) == [("REF1", 200.0, "WIRE IN ACME INVOICE 42"), ("REF2", -100.0, "CHECK PAID")]
    assert rows(wh, "SELECT count(*) FROM raw.file_controls WHERE NOT ok") == [(0,)]
    # 49: amount + records; 98: amount, accounts, records; 99: amount, groups, records; balance
    assert rows(wh, "SELECT count(*) FROM raw.file_controls WHERE ok") == [(9,)]


def test_bai2_truncated_is_rejected(tmp_path):
    res, _ = load(tmp_path, {"a.bai": BAI2.rsplit("\n", 2)[0]})
    assert res["a.bai"].status == "rejected" and "truncated" in res["a.bai"].reasons[0]


def test_bai2_record_splitting():
    recs = split_records("01,A,B,240301,0800/ 02,B,A,1,240301/\n16,1,2,Z,R,,text\nmore text/")
    assert [r for _, r in recs] == ["01,A,B,240301,0800", "02,B,A,1,240301", "16,1,2,Z,R,,text more text"]


CCB = """中国建设银行个人活期账户交易明细
账号:6217000011112222333
交易日期,摘要,借贷方向,交易金额,账户余额,对方户名,对方账号,交易流水号
20240301,转账,贷,"1,000.00","11,000.00",华筑工程,1234,CCB0001
20240302,消费,借,200.00,"10,800.00",某商户,5678,CCB0002
"""
ABC = """交易日期,交易时间,收入金额,支出金额,本次余额,对方户名,摘要,币种
2024-03-01,10:00:00,"1,000.00",,1000.00,华筑,货款,人民币
2024-03-02,11:00:00,,(50.00),950.00,某,费用,人民币
"""


def test_ccb_and_abc_exports_gbk(tmp_path):
    res, wh = load(
        tmp_path, {"ccb_6217_202403.csv": CCB.encode("gb18030"), "abc_export.csv": ABC.encode("gbk")}
    )
    ccb, abc = res["ccb_6217_202403.csv"], res["abc_export.csv"]
    assert (ccb.status, ccb.format, ccb.rows_loaded, ccb.balance_ok) == ("loaded", "ccb_csv", 2, True)
    assert (abc.status, abc.rows_loaded, abc.rows_quarantined, abc.balance_ok) == ("loaded", 2, 0, True)
    got = rows(
        wh,
        "SELECT source_file, bank_txn_key, amount::DOUBLE, currency, account_id FROM raw.bank_transactions ORDER BY 1, 2",
    )
    assert ("ccb_6217_202403.csv", "CCB0001", 1000.0, "CNY", "6217000011112222333") in got
    assert ("ccb_6217_202403.csv", "CCB0002", -200.0, "CNY", "6217000011112222333") in got
    # "(50.00)" in the expense column is an outflow of 50: the column gives the direction.
    assert ("abc_export.csv", -50.0) in rows(
        wh, "SELECT source_file, amount::DOUBLE FROM raw.bank_transactions"
    )


def test_bank_xlsx_export(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["招商银行交易流水"])
    ws.append(["记账日期", "货币", "交易金额", "联机余额", "交易摘要", "对手信息"])
    ws.append(["2024-01-01", "人民币", 1234, 1271.66, "代发", "公司A"])
    ws.append(["2024-01-02", "人民币", -1000, 271.66, "转账", "张三"])
    land = tmp_path / "landing"
    land.mkdir()
    wb.save(land / "cmb_export.xlsx")
    res, _wh = load(tmp_path, {})
    r = res["cmb_export.xlsx"]
    assert (r.status, r.format, r.rows_loaded, r.balance_ok) == ("loaded", "cmb_xlsx", 2, True)


def test_duplicate_bank_line_across_files_is_quarantined(tmp_path):
    entries = ntry("30.00", "CRDT", "R1")
    res, wh = load(
        tmp_path,
        {
            "a/s1.xml": camt("08", entries=entries, closing="130.00"),
            "b/s2.xml": camt("08", entries=entries + ntry("5.00", "CRDT", "R9"), closing="135.00"),
        },
    )
    r = res["b/s2.xml"]
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    assert rows(wh, "SELECT reason FROM raw.quarantine") == [
        ("duplicate key bank_txn_key=R1 already loaded from a/s1.xml",)
    ]


def test_bank_resubmission_replaces_statement(tmp_path):
    _res, wh = load(
        tmp_path,
        {"bank/cmb_1109_202403.xml": camt("08", entries=ntry("30.00", "CRDT", "R1"), closing="130.00")},
    )
    res2, _ = load(
        tmp_path,
        {
            "bank/cmb_1109_202403_v2.xml": camt(
                "08", entries=ntry("30.00", "CRDT", "R1") + ntry("5.00", "CRDT", "R2"), closing="135.00"
            )
        },
    )
    r = res2["bank/cmb_1109_202403_v2.xml"]
    assert (r.rows_loaded, r.rows_quarantined, r.balance_ok) == (2, 0, True)
    assert rows(wh, "SELECT count(*), count(DISTINCT file_hash) FROM raw.bank_transactions") == [(2, 1)]
    assert rows(wh, "SELECT count(*) FROM raw.bank_statements") == [(1,)]


def test_cli_json_and_exit_codes(tmp_path, home, capsys):
    from huikuan.cli import main

    land = home / "landing"
    land.mkdir()
    (land / "s.xml").write_text(camt("08", entries=ntry("10.00", "CRDT", "R1")), encoding="utf-8")
    assert main(["ingest", str(land), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == [
        {
            "file": "s.xml",
            "format": "camt.053.001.08",
            "status": "loaded",
            "rows_loaded": 1,
            "rows_quarantined": 0,
            "reasons": [],
            "balance_ok": True,
            "entity": "bank_transactions",
        }
    ]
    assert (home / "warehouse" / "warehouse.duckdb").exists()
    (land / "empty.csv").write_text("", encoding="utf-8")
    assert main(["ingest", str(land)]) == 1
    text = capsys.readouterr().out
    assert "unchanged" in text and "rejected" in text and "the file is empty" in text


def test_generic_bank_csv_through_profile(tmp_path):
    canonical = (
        "account_id,booking_date,value_date,amount,currency,counterparty_name,remittance_text,bank_txn_key\n"
        'ACC1,2024-03-01,2024-03-02,"1,000.00",USD,ACME,INV 7,T1\nACC1,2024-03-02,,-20,USD,BANK,fee,T2\n'
    )
    english = (
        "Date,Description,Debit,Credit,Balance,Reference\n"
        "01/03/2024,Opening,,,100.00,\n"  # 01/03 is ambiguous: quarantined, not guessed
        "2024-03-01,Payment ACME,,50.00,150.00,R1\n2024-03-02,Fee,5.00,,145.00,R2\n"
    )
    res, wh = load(tmp_path, {"bank/acc1_202403.csv": canonical, "bank/other.csv": english})
    a, b = res["bank/acc1_202403.csv"], res["bank/other.csv"]
    assert (a.status, a.entity, a.rows_loaded, a.rows_quarantined) == ("loaded", "bank_transactions", 2, 0)
    assert rows(
        wh,
        "SELECT bank_txn_key, amount::DOUBLE, value_date::VARCHAR, counterparty_name FROM raw.bank_transactions "
        "WHERE source_file = 'bank/acc1_202403.csv' ORDER BY 1",
    ) == [("T1", 1000.0, "2024-03-02", "ACME"), ("T2", -20.0, None, "BANK")]
    assert (b.rows_loaded, b.rows_quarantined) == (2, 1)
    assert (
        "ambiguous"
        in rows(wh, "SELECT reason FROM raw.quarantine WHERE source_file = 'bank/other.csv'")[0][0]
    )


def test_cntp_name_with_and_without_bic():
    from huikuan.ingest.bank.mt940 import parse_86

    std = parse_86("/CNTP/NL12RABO0123456789/RABONL2U/J JANSEN/UTRECHT//REMI/USTD//INV-1/")
    assert std["counterparty_account"] == "NL12RABO0123456789" and std["counterparty_name"] == "J JANSEN"
    no_bic = parse_86("/EREF/E2E1/CNTP/HSE2404150000039/Acme Engineering Ltd/REMI/INV-2025-0001234")
    assert no_bic["counterparty_account"] == "HSE2404150000039"
    assert no_bic["counterparty_name"] == "Acme Engineering Ltd"
    assert no_bic["end_to_end_id"] == "E2E1"
