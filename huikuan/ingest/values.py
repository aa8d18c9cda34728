"""Parse and validate single values (amounts, dates, codes) identically in Python and in DuckDB SQL.

Two implementations of one rule set: Python functions for the row-wise parsers (bank files,
small spreadsheets) and DuckDB macros for the vectorized CSV path. `tests/ingest/test_values.py`
runs both on the same cases, so they cannot drift apart.

Accepted forms (DESIGN.md §3):
- amounts: `1234.56`, `1,234.56`, `¥1,234.56`, `(1,234.56)` (negative), `-1,234.56`, full-width
  digits and punctuation, surrounding blanks.
- dates: `2024-03-01`, `2024/3/1`, `20240301`, `01.03.2024`, `2024年3月1日`, a timestamp's date
  part, Excel serial numbers (1-2958465). `03/01/2024` is ambiguous (day/month order) unless one
  part is above 12, and is refused as such.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

# Full-width digits and punctuation that Chinese exports produce, mapped to ASCII.
FULLWIDTH_FROM = "０１２３４５６７８９，．－＋（）／：　"
FULLWIDTH_TO = "0123456789,.-+()/: "
_FW_TABLE = str.maketrans(FULLWIDTH_FROM, FULLWIDTH_TO)
# Blanks trimmed from every value: space, tab, CR, LF, ideographic space.
BLANKS = " \t\r\n\u3000"

AMOUNT_MAX = Decimal("99999999999999.9999")  # DECIMAL(18,4)
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_SERIAL_MAX = 2958465  # 9999-12-31

_CURRENCY_PREFIX = r"(?:¥|￥|RMB|CNY|\$|€|US\$|HK\$)"
_CURRENCY_LEAD = re.compile(r"^([+-]?)" + _CURRENCY_PREFIX)  # compiled once: parsed per bank line
_AMOUNT_RE = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")


def clean_text(value: str | None) -> str | None:
    """Full-width to ASCII, blanks trimmed; empty becomes None."""
    if value is None:
        return None
    s = value.translate(_FW_TABLE).strip(BLANKS)
    return s or None


def parse_amount(value: str | None) -> Decimal | None:
    """Text to a signed Decimal; None for blank; ValueError with the reason otherwise."""
    s = clean_text(value)
    if s is None:
        return None
    s = s.replace(" ", "")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
        if s[:1] in "+-":
            raise ValueError(f"not an amount: {value!r}")
    s = _CURRENCY_LEAD.sub(r"\1", s)
    if not _AMOUNT_RE.fullmatch(s):
        raise ValueError(f"not an amount: {value!r}")
    d = Decimal(s.replace(",", ""))
    if negative:
        d = -d
    if abs(d) > AMOUNT_MAX:
        raise ValueError(f"amount out of range: {value!r}")
    return d.quantize(Decimal("0.0001"))


_DATE_FORMATS = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), "ymd"),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), "ymd"),
    (re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"), "ymd"),
    (re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"), "ymd"),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), "ymd"),
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"), "dmy"),
)
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_SERIAL = re.compile(r"\d{5}(?:\.0+)?")  # 1927-2173: realistic dates only
_WITH_TIME = re.compile(r"(\S+)" + _TIME_SUFFIX.pattern + "$")


def parse_date(value: str | None) -> date | None:
    """Text to a date; None for blank; ValueError with the reason otherwise."""
    s = clean_text(value)
    if s is None:
        return None
    m = _WITH_TIME.match(s)
    core = m.group(1) if m else s
    for pattern, order in _DATE_FORMATS:
        m = pattern.fullmatch(core)
        if m:
            a, b, c = (int(x) for x in m.groups())
            y, mo, d = (a, b, c) if order == "ymd" else (c, b, a)
            try:
                return date(y, mo, d)
            except ValueError:
                raise ValueError(f"not a valid calendar date: {value!r}") from None
    m = _SLASHED.fullmatch(core)
    if m:
        p, q, y = (int(x) for x in m.groups())
        if p <= 12 and q <= 12 and p != q:
            raise ValueError(f"ambiguous date (day/month order unknown): {value!r}")
        d, mo = (p, q) if p > 12 else (q, p)  # the part above 12 must be the day
        try:
            return date(y, mo, d)
        except ValueError:
            raise ValueError(f"not a valid calendar date: {value!r}") from None
    if _SERIAL.fullmatch(core):
        n = int(float(core))
        if 1 <= n <= EXCEL_SERIAL_MAX:
            return EXCEL_EPOCH + timedelta(days=n)
    raise ValueError(f"not a date: {value!r}")


def parse_timestamp(value: str | None) -> datetime | None:
    """ISO timestamp (offset dropped: times are local), or a date at midnight."""
    s = clean_text(value)
    if s is None:
        return None
    m = re.fullmatch(
        r"(\d{4}-\d{1,2}-\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?", s
    )
    if m:
        d = parse_date(m.group(1))
        micro = int((m.group(5) or "0")[:6].ljust(6, "0"))
        try:
            return datetime(
                d.year, d.month, d.day, int(m.group(2)), int(m.group(3)), int(m.group(4) or 0), micro
            )
        except ValueError:
            raise ValueError(f"not a valid time: {value!r}") from None
    try:
        d = parse_date(s)
    except ValueError:
        raise ValueError(f"not a timestamp: {value!r}") from None
    return datetime(d.year, d.month, d.day)


def parse_integer(value: str | None) -> int | None:
    s = clean_text(value)
    if s is None:
        return None
    s = s.replace(",", "")
    if not re.fullmatch(r"[+-]?\d+(?:\.0+)?", s) or len(s) > 19:
        raise ValueError(f"not an integer: {value!r}")
    return int(s.split(".")[0])


TRUE_WORDS = ("true", "t", "yes", "y", "1", "是", "有效", "x")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否", "无效")


def parse_boolean(value: str | None) -> bool | None:
    s = clean_text(value)
    if s is None:
        return None
    s = s.lower()
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


# Unified social credit code (GB 32100-2015): 18 characters from this alphabet, the last one a check
# character computed from the first 17 with these weights, modulo 31.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str | None) -> bool:
    s = (code or "").strip().upper()
    if len(s) != 18 or any(ch not in USCC_ALPHABET for ch in s):
        return False
    return uscc_check_char(s[:17]) == s[17]


def is_valid_iban(iban: str | None) -> bool:
    """ISO 13616 check: country + 2 check digits + up to 30 alphanumerics, mod 97 == 1."""
    s = (iban or "").replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    digits = "".join(str(int(ch, 36)) for ch in s[4:] + s[:4])
    return int(digits) % 97 == 1


_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def looks_like_iban(value: str | None) -> bool:
    s = (value or "").replace(" ", "").upper()
    return bool(_IBAN_SHAPE.fullmatch(s))


# --- DuckDB macros: the same rules as SQL expressions ------------------------------------------
# hk_clean translates only texts holding a full-width character: `translate` costs about seven
# times a regular-expression search on every text, and most texts have none.


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


MACROS_SQL = f"""
CREATE OR REPLACE TEMP MACRO hk_clean(s) AS
  nullif(trim(CASE WHEN regexp_matches(s, '[{FULLWIDTH_FROM}]')
                   THEN translate(s, {_sql_str(FULLWIDTH_FROM)}, {_sql_str(FULLWIDTH_TO)}) ELSE s END,
              {_sql_str(BLANKS)}), '');

CREATE OR REPLACE TEMP MACRO hk_text(s) AS
  nullif(CASE WHEN regexp_matches(s, '^[\\s\u3000]|[\\s\u3000]$') THEN trim(s, {_sql_str(BLANKS)}) ELSE s END, '');

CREATE OR REPLACE TEMP MACRO hk_amount_text(s) AS (
  CASE WHEN regexp_full_match(replace(hk_clean(s), ' ', ''), '\\(.*\\)')
       THEN '-' || regexp_replace(replace(hk_clean(s), ' ', ''), '^\\((.*)\\)$', '\\1')
       ELSE replace(hk_clean(s), ' ', '') END);

CREATE OR REPLACE TEMP MACRO hk_amount_core(t) AS
  regexp_replace(t, '^([+-]?){_CURRENCY_PREFIX}', '\\1');

CREATE OR REPLACE TEMP MACRO hk_amount_ok(t) AS
  regexp_full_match(t, '{_AMOUNT_RE.pattern}');

CREATE OR REPLACE TEMP MACRO hk_amount(s) AS (
  CASE WHEN regexp_full_match(s, '-?\\d{{1,14}}(\\.\\d{{1,4}})?') THEN CAST(s AS DECIMAL(18,4))
       WHEN hk_clean(s) IS NULL THEN NULL
       WHEN hk_amount_ok(hk_amount_core(hk_amount_text(s)))
            AND NOT regexp_full_match(hk_amount_text(s), '-[+-].*')
       THEN TRY_CAST(replace(hk_amount_core(hk_amount_text(s)), ',', '') AS DECIMAL(18,4))
       ELSE NULL END);

CREATE OR REPLACE TEMP MACRO hk_date_core(t) AS
  CASE WHEN regexp_full_match(t, '\\S+{_TIME_SUFFIX.pattern}')
       THEN regexp_extract(t, '^(\\S+?){_TIME_SUFFIX.pattern}$', 1) ELSE t END;

CREATE OR REPLACE TEMP MACRO hk_date_of(t) AS (
  CASE
    WHEN t IS NULL THEN NULL
    WHEN regexp_full_match(t, '\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}') THEN TRY_CAST(try_strptime(t, '%Y-%m-%d') AS DATE)
    WHEN regexp_full_match(t, '\\d{{4}}/\\d{{1,2}}/\\d{{1,2}}') THEN TRY_CAST(try_strptime(t, '%Y/%m/%d') AS DATE)
    WHEN regexp_full_match(t, '\\d{{4}}\\.\\d{{1,2}}\\.\\d{{1,2}}') THEN TRY_CAST(try_strptime(t, '%Y.%m.%d') AS DATE)
    WHEN regexp_full_match(t, '\\d{{4}}年\\d{{1,2}}月\\d{{1,2}}日') THEN TRY_CAST(try_strptime(t, '%Y年%m月%d日') AS DATE)
    WHEN regexp_full_match(t, '\\d{{8}}') THEN TRY_CAST(try_strptime(t, '%Y%m%d') AS DATE)
    WHEN regexp_full_match(t, '\\d{{1,2}}\\.\\d{{1,2}}\\.\\d{{4}}') THEN TRY_CAST(try_strptime(t, '%d.%m.%Y') AS DATE)
    WHEN regexp_full_match(t, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}') THEN
      CASE
        WHEN CAST(split_part(t, '/', 1) AS INT) > 12 THEN TRY_CAST(try_strptime(t, '%d/%m/%Y') AS DATE)
        WHEN CAST(split_part(t, '/', 2) AS INT) > 12 THEN TRY_CAST(try_strptime(t, '%m/%d/%Y') AS DATE)
        WHEN split_part(t, '/', 1)::INT = split_part(t, '/', 2)::INT THEN TRY_CAST(try_strptime(t, '%d/%m/%Y') AS DATE)
        ELSE NULL END
    WHEN regexp_full_match(t, '{_SERIAL.pattern}')
         AND CAST(CAST(t AS DOUBLE) AS BIGINT) BETWEEN 1 AND {EXCEL_SERIAL_MAX}
      THEN CAST(DATE '{EXCEL_EPOCH.isoformat()}' + CAST(CAST(t AS DOUBLE) AS BIGINT) * INTERVAL 1 DAY AS DATE)
    ELSE NULL END);

CREATE OR REPLACE TEMP MACRO hk_date(s) AS (
  CASE WHEN s IS NULL THEN NULL
       WHEN length(s) = 10 AND substr(s, 5, 1) = '-' AND substr(s, 8, 1) = '-'
            AND substr(s, 1, 1) BETWEEN '0' AND '9' AND substr(s, 10, 1) BETWEEN '0' AND '9'
            AND TRY_CAST(s AS DATE) IS NOT NULL THEN TRY_CAST(s AS DATE)
       ELSE hk_date_of(hk_date_core(hk_clean(s))) END);

CREATE OR REPLACE TEMP MACRO hk_date_reason(s) AS (
  CASE WHEN regexp_full_match(hk_date_core(hk_clean(s)), '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}')
            AND CAST(split_part(hk_date_core(hk_clean(s)), '/', 1) AS INT) <= 12
            AND CAST(split_part(hk_date_core(hk_clean(s)), '/', 2) AS INT) <= 12
       THEN 'ambiguous date (day/month order unknown)'
       WHEN regexp_full_match(hk_date_core(hk_clean(s)),
              '\\d{{4}}[-/.]\\d{{1,2}}[-/.]\\d{{1,2}}|\\d{{8}}|\\d{{1,2}}[./]\\d{{1,2}}[./]\\d{{4}}|\\d{{4}}年\\d{{1,2}}月\\d{{1,2}}日')
       THEN 'not a valid calendar date'
       ELSE 'not a date' END);

CREATE OR REPLACE TEMP MACRO hk_timestamp(s) AS (
  CASE WHEN hk_clean(s) IS NULL THEN NULL
       WHEN regexp_full_match(hk_clean(s), '\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}[ T]\\d{{1,2}}:\\d{{2}}(:\\d{{2}}(\\.\\d+)?)?(Z|[+-]\\d{{2}}:?\\d{{2}})?')
       THEN TRY_CAST(regexp_replace(regexp_replace(hk_clean(s), '(Z|[+-]\\d{{2}}:?\\d{{2}})$', ''), 'T', ' ') AS TIMESTAMP)
       ELSE CAST(hk_date(s) AS TIMESTAMP) END);

CREATE OR REPLACE TEMP MACRO hk_integer(s) AS (
  CASE WHEN hk_clean(s) IS NULL THEN NULL
       WHEN regexp_full_match(replace(hk_clean(s), ',', ''), '[+-]?\\d+(\\.0+)?')
            AND length(replace(hk_clean(s), ',', '')) <= 19
       THEN TRY_CAST(split_part(replace(hk_clean(s), ',', ''), '.', 1) AS BIGINT)
       ELSE NULL END);

CREATE OR REPLACE TEMP MACRO hk_boolean(s) AS (
  CASE WHEN lower(hk_clean(s)) IN ({", ".join(_sql_str(w) for w in TRUE_WORDS)}) THEN TRUE
       WHEN lower(hk_clean(s)) IN ({", ".join(_sql_str(w) for w in FALSE_WORDS)}) THEN FALSE
       ELSE NULL END);

CREATE OR REPLACE TEMP MACRO hk_uscc_ok(s) AS (
  length(upper(hk_clean(s))) = 18
  AND regexp_full_match(upper(hk_clean(s)), '[{USCC_ALPHABET}]{{18}}')
  AND substr({_sql_str(USCC_ALPHABET)},
        CAST(((31 - list_sum(list_transform(range(17),
            lambda i: (strpos({_sql_str(USCC_ALPHABET)}, substr(upper(hk_clean(s)), i + 1, 1)) - 1)
                 * {list(USCC_WEIGHTS)}[i + 1])) % 31) % 31) + 1 AS BIGINT), 1)
      = substr(upper(hk_clean(s)), 18, 1));
"""


def install_macros(con) -> None:
    """Create the hk_* macros on a DuckDB connection (temporary: they never reach the warehouse)."""
    for statement in MACROS_SQL.split(";\n"):
        if statement.strip():
            con.execute(statement)
