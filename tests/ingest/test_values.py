"""The Python value parsers and the DuckDB macros agree on every case."""

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from huikuan.ingest import values as v

AMOUNTS = [
    ("1234.56", Decimal("1234.56")),
    ("1,234.56", Decimal("1234.56")),
    ("¥1,234.56", Decimal("1234.56")),
    ("(1,234.56)", Decimal("-1234.56")),
    ("-1,234.56", Decimal("-1234.56")),
    ("１，２３４．５６", Decimal("1234.56")),
    (" 12 ", Decimal(12)),
    ("￥-5", Decimal(-5)),
    ("abc", None),
    ("1,23,4", None),
    ("(-5)", None),
    ("1e3", None),
    ("99999999999999999", None),
]
DATES = [
    ("2024-03-01", date(2024, 3, 1)),
    ("2024/3/1", date(2024, 3, 1)),
    ("20240301", date(2024, 3, 1)),
    ("01.03.2024", date(2024, 3, 1)),
    ("2024年3月1日", date(2024, 3, 1)),
    ("45352", date(2024, 3, 1)),
    ("2024-03-01T10:00:00+08:00", date(2024, 3, 1)),
    ("13/01/2024", date(2024, 1, 13)),
    ("03/01/2024", None),
    ("2024-02-30", None),
    ("20241301", None),
    ("foo", None),
    ("2024", None),
]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    v.install_macros(c)
    yield c
    c.close()


@pytest.mark.parametrize("text,expected", AMOUNTS)
def test_amounts_python_and_sql_agree(con, text, expected):
    if expected is None:
        with pytest.raises(ValueError):
            v.parse_amount(text)
    else:
        assert v.parse_amount(text) == expected
    assert con.execute("SELECT hk_amount(?)", [text]).fetchone()[0] == expected


@pytest.mark.parametrize("text,expected", DATES)
def test_dates_python_and_sql_agree(con, text, expected):
    if expected is None:
        with pytest.raises(ValueError):
            v.parse_date(text)
    else:
        assert v.parse_date(text) == expected
    assert con.execute("SELECT hk_date(?)", [text]).fetchone()[0] == expected


def test_ambiguous_date_reason(con):
    with pytest.raises(ValueError, match="ambiguous"):
        v.parse_date("03/01/2024")
    assert "ambiguous" in con.execute("SELECT hk_date_reason('03/01/2024')").fetchone()[0]


@pytest.mark.parametrize(
    "code,ok",
    [
        ("91350100M000100Y43", True),
        ("91350100M000100Y44", False),
        ("911100001000000000", False),
        ("9135010", False),
    ],
)
def test_uscc_python_and_sql_agree(con, code, ok):
    assert v.is_valid_uscc(code) is ok
    assert bool(con.execute("SELECT hk_uscc_ok(?)", [code]).fetchone()[0]) is ok


def test_uscc_check_char_roundtrip():
    body = "91110108MA01ABCD2"
    assert v.is_valid_uscc(body + v.uscc_check_char(body))


def test_iban():
    assert v.is_valid_iban("GB82 WEST 1234 5698 7654 32")
    assert not v.is_valid_iban("GB82WEST12345698765433")
    assert v.is_valid_iban("NL56AGDH9619008421")
