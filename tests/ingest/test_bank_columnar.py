"""The columnar reading of Chinese bank CSV exports gives what the per-line reader gives: the same
lines, values, errors, keys, statements, controls and notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from huikuan.ingest import sniff
from huikuan.ingest.bank import parse_bank
from huikuan.ingest.bank.cncsv import parse_bank_table
from huikuan.ingest.bank.model import assign_keys, balance_controls
from tests.conftest import require_shared

FIELDS = (
    "account_id",
    "statement_id",
    "bank_txn_key",
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_account",
    "remittance_text",
    "end_to_end_id",
    "source_position",
    "source_row",
)

# Split income/expense columns: every accepted form and every failure, references repeated with the
# same and with other content, lines without a reference (twice the same), a blank line, a footer.
SPLIT = """中国工商银行 明细查询文件下载
账号: 6222000011112222333,"户名: 北京华筑"
交易日期,交易流水号,摘要,交易金额(收入),交易金额(支出),交易币种,余额,对方户名,对方账户,附言,交易详情
2024-03-01 \t,R1\t,转账\t,"1,000.00\t",\t,人民币\t,"11,000.00\t",华筑\t,123\t,货款\t,货款
20240302,R2,消费,,200.00,人民币,"10,800.00",某商户,456,-,详情
2024/3/3,R3,转账,１００.００,,RMB,"10,900.00",甲,789,附言甲,--
2024-03-04,R3,退回,50.00,,人民币,"10,950.00",乙,789,附言乙,附言乙
2024-03-04,R3,退回,50.00,,人民币,"10,950.00",乙,789,附言乙,
2024-03-05,,手续费,,5.00,cny,"10,945.00",,,,
2024-03-05,NONREF,手续费,,5.00,,"10,940.00",,,,

2024-03-06,R4,转账,￥10.00,,人民币,"10,950.00",丙,1,,
2024-03-06,R5,转账,(3.00),,人民币,"10,947.00",丙,1,,
2024-03-06,R6,转账,0.00,,人民币,"10,947.00",丙,1,,
2024-02-30,R7,转账,10.00,,人民币,"10,957.00",丙,1,,
03/04/2024,R8,转账,10.00,,人民币,"10,967.00",丙,1,,
2024-03-07,R9,转账,10.00,5.00,人民币,"10,972.00",丙,1,,
2024-03-07,R10,转账,-,—,人民币,"10,972.00",丙,1,,
2024-03-07,R11,转账,abc,,人民币,"10,972.00",丙,1,,
2024-03-07,R12,转账,1.23456,,人民币,"10,973.23",丙,1,,
2024-03-08,R13,转账,10,,金币,"10,983.23",丙,1,,
2024-03-08,R14,转账,10,,usd,"10,993.23",丙,1,,
2024-03-08,R15,转账,99999999999999999.00,,人民币,"10,993.23",丙,1,,
2024-03-09,R16,转账,10,,人民币,xx,丙,1,,
合计,,,"1,234.00","210.00",,,,,,
"""
# One amount with a 借/贷 column, balances newest first (they chain backwards).
DIRECTION = """交易日期,交易时间,借贷标志,交易金额,账户余额,对方户名,摘要,流水号,币种
2024-03-03,10:00,借,50.00,1050.00,乙,费用,D3,人民币
2024-03-02,10:00,贷,100.00,1100.00,甲,货款,D2,人民币
2024-03-01,10:00,贷,1000.00,1000.00,甲,货款,D1,人民币
"""
# Balances that do not chain at all.
BROKEN = """交易日期,收入金额,支出金额,本次余额,对方户名,摘要
2024-03-01,100.00,,100.00,甲,货款
2024-03-02,100.00,,250.00,甲,货款
2024-03-03,,(50.00),200.00,乙,费用
"""
# Direction column with an unknown indicator and a missing one; no balances.
BAD_DIRECTION = """交易日期,借贷,发生额,对方户名
2024-03-01,X,10.00,甲
2024-03-02,,10.00,甲
2024-03-03,收,10.00,甲
"""


def _reference(path: Path):
    bf = parse_bank_table(sniff.scan(path), "text", columnar=False)
    assign_keys(bf.entries)
    balance_controls(bf)
    return bf


def assert_same(path: Path) -> None:
    facts = sniff.scan(path)
    got, want = parse_bank(facts, sniff.kind_of(facts)), _reference(path)
    assert got.table is not None and got.entries == []
    lines = got.table.to_pylist()
    assert [tuple(r[f] for f in FIELDS) for r in lines] == [
        tuple(getattr(e, f) for f in FIELDS) for e in want.entries
    ]
    assert [(r["err"], r["err_col"]) for r in lines] == [
        (e.error or "", e.error_column) for e in want.entries
    ]
    assert all(r["is_reversal"] is False for r in lines)
    for r, e in zip(lines, want.entries, strict=True):
        assert got.raw_of(r["source_row"]) == e.raw
        if r["raw_record"] is not None:  # kept for the lines the per-line reader read
            assert json.loads(r["raw_record"]) == e.raw
    assert (got.format, got.statements, got.controls, got.notes) == (
        want.format,
        want.statements,
        want.controls,
        want.notes,
    )


@pytest.mark.parametrize(
    "name, text, encoding",
    [
        ("icbc_6222000011112222333_202403.csv", SPLIT, "gbk"),
        ("icbc_split_utf8.csv", SPLIT, "utf-8"),
        ("ccb_direction.csv", DIRECTION, "gb18030"),
        ("abc_broken.csv", BROKEN, "utf-8"),
        ("boc_bad_direction.csv", BAD_DIRECTION, "utf-8"),
    ],
)
def test_columnar_equals_line_by_line(tmp_path, name, text, encoding):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    assert_same(path)


def test_columnar_equals_line_by_line_on_samples_and_generated(generated_small, tmp_path):
    files = sorted((generated_small / "landing" / "bank").glob("icbc_*.csv"))
    assert files
    samples = sorted(require_shared("samples", "bank").glob("csv_cn/*.csv"))
    for path in files + samples:
        assert_same(path)
    # The exports again in GB18030, as the Chinese banks write them.
    for path in samples:
        copy = tmp_path / path.name
        copy.write_bytes(path.read_text(encoding="utf-8-sig").encode("gb18030"))
        assert_same(copy)


def test_quarantined_lines_keep_their_record(tmp_path):
    from huikuan.ingest.load import ingest_paths

    land = tmp_path / "landing"
    land.mkdir()
    (land / "icbc_6222000011112222333_202403.csv").write_bytes(SPLIT.encode("gbk"))
    (land / "icbc_6222000011112222333_202404.csv").write_bytes(
        SPLIT.replace("2024-03", "2024-04").replace("202403", "202404").encode("gbk")
    )
    a, b = ingest_paths([land], tmp_path / "wh.duckdb", landing_root=land)
    assert a.rows_loaded + a.rows_quarantined == 20
    import duckdb

    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    try:
        q = con.execute(
            "SELECT source_row, reason, raw_record FROM raw.quarantine WHERE source_file = ? ORDER BY source_row",
            [b.file],
        ).fetchall()
    finally:
        con.close()
    # The second file repeats the first one's references: its lines with a clean reading are
    # quarantined as duplicates too, each with its own line as given.
    assert len(q) == b.rows_quarantined and b.rows_loaded + b.rows_quarantined == 20
    dup = [r for r in q if "already loaded from" in r[1]]
    assert dup and all(json.loads(r[2])["交易流水号"] for r in dup)
    assert all(json.loads(r[2]) for r in q)
