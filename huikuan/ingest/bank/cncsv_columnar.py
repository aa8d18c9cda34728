"""Read the lines of a Chinese bank CSV export column by column in DuckDB; lines not in canonical form go through the per-line parser.

`cncsv.parse_bank_table` finds the header row and the columns' roles; the data lines then become
one Arrow table of text columns. One SQL pass cleans every value (`hk_clean`, the same rule as
`clean_text`) and reads the canonical forms directly: dates `2024-03-01` and `20240301`, amounts
`-1,234.56` / `1234.5` (at most four decimals), currencies from the same word list, texts as they
are. A line where any value is not in such a form (or is wrong) goes through `cncsv.row_entry`,
the per-line reader, which gives it the same value or the same error as before: the vectorized
forms are a subset of what that reader accepts, and read to the same values. Keys (`assign_keys`)
and the running-balance, balance and footer controls are computed on the whole table in SQL with
the rules of the per-line path. The record of a line as given is built only for lines quarantined.
"""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import pyarrow as pa

from huikuan.ingest.bank.cncsv import CURRENCIES, _footer, _RowContext, footer_controls, raw_record, row_entry
from huikuan.ingest.bank.model import BankFile, Control, Statement
from huikuan.ingest.values import BLANKS, clean_text, install_macros

# Canonical forms read in SQL; everything else is left to the per-line reader.
AMOUNT_FAST = r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,4})?"
DATE_FAST = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
DATE_FAST_COMPACT = r"[0-9]{8}"
NO_REF = ("NONREF", "NOTPROVIDED", "NONE", "-")  # as model._clean_ref


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _date_sql(x: str) -> str:
    """The date of canonical text `x`, else NULL (year 0 is not a date in Python either)."""
    return (
        f"CASE WHEN starts_with({x}, '0000') THEN NULL "
        f"WHEN regexp_full_match({x}, '{DATE_FAST}') THEN TRY_CAST({x} AS DATE) "
        f"WHEN regexp_full_match({x}, '{DATE_FAST_COMPACT}') THEN TRY_CAST(try_strptime({x}, '%Y%m%d') AS DATE) END"
    )


def _amount_sql(x: str) -> tuple[str, str]:
    """(empty, value): empty as `amt()` of the per-line reader (blank, or only dashes); the value of
    canonical text, else NULL."""
    empty = f"({x} IS NULL OR regexp_full_match({x}, '[-—]+'))"
    value = f"CASE WHEN regexp_full_match({x}, '{AMOUNT_FAST}') THEN TRY_CAST(replace({x}, ',', '') AS DECIMAL(18,4)) END"
    return empty, value


def _json(d: dict) -> str:
    return json.dumps({k: (None if v is None else str(v)) for k, v in d.items()}, ensure_ascii=False)


def parse_rows_columnar(
    bf: BankFile, rows: list[list[str]], header_row: int, ctx: _RowContext, name: str
) -> None:
    """Fill `bf.table`, `bf.statements`, `bf.controls`, `bf.notes` and `bf.raw_of` from the lines
    after the header row (blank lines skipped, 合计/总计 footers taken as control totals)."""
    c = ctx.columns
    footer_totals: dict[str, str] = {}
    kept: list[list[str]] = []
    lines: list[int] = []
    for r_idx in range(header_row + 1, len(rows)):
        row = rows[r_idx]
        # Blank after cleaning exactly when every cell is made of blanks (clean_text maps no
        # other character to a blank).
        if not "".join(row).strip(BLANKS):
            continue
        if ("合计" in row[0] or "总计" in row[0]) and _footer(
            [clean_text(x) or "" for x in row], c, footer_totals
        ):
            continue
        kept.append(row)
        lines.append(r_idx + 1)

    def column(idx: int) -> pa.Array:
        return pa.array([r[idx] if idx < len(r) else None for r in kept], pa.string())

    cols = {"line": pa.array(lines, pa.int64()), "source_row": pa.array(range(1, len(kept) + 1), pa.int64())}
    for role, idx in c.items():
        cols[f"r_{role}"] = column(idx)
    for k, idx in enumerate(ctx.extra_text):
        cols[f"x{k}"] = column(idx)

    def v(role: str) -> str:
        return f"hk_clean(r_{role})" if role in c else "CAST(NULL AS VARCHAR)"

    # Amount, as `cncsv._amount`: split income/expense columns, or one amount with a direction, or signed.
    if "credit" in c and "debit" in c:
        cr_empty, cr = "cr_e", "cr_v"
        dr_empty, dr = "dr_e", "dr_v"
        amount = f"abs(coalesce({cr}, 0)) - abs(coalesce({dr}, 0))"
        amount_ok = (
            f"({cr_empty} OR {cr} IS NOT NULL) AND ({dr_empty} OR {dr} IS NOT NULL) AND NOT ({cr_empty} AND {dr_empty})"
            f" AND NOT (NOT {cr_empty} AND NOT {dr_empty} AND {cr} <> 0 AND {dr} <> 0)"
        )
    elif "amount" in c:
        a_empty, a = "am_e", "am_v"
        if "direction" in c:
            amount = (
                f"CASE WHEN left(dir, 1) IN ('借', '支', 'D', 'd') THEN -abs({a}) "
                f"WHEN left(dir, 1) IN ('贷', '收', 'C', 'c') THEN abs({a}) END"
            )
        else:
            amount = a
        amount_ok = f"NOT {a_empty} AND ({amount}) IS NOT NULL"
    else:
        amount, amount_ok = "CAST(NULL AS DECIMAL(18,4))", "false"
    currency = (
        "CASE WHEN cur IS NULL THEN 'CNY' "
        + " ".join(f"WHEN cur = {_lit(k)} THEN {_lit(x)}" for k, x in CURRENCIES.items())
        + " "
        + " ".join(f"WHEN upper(cur) = {_lit(k)} THEN {_lit(x)}" for k, x in CURRENCIES.items())
        + " WHEN regexp_full_match(cur, '[A-Za-z]{3}') THEN upper(cur) END"
    )
    bal_empty, bal = "bal_e", "bal_v"
    texts = ["txt"]
    for k in range(len(ctx.extra_text)):
        x = f"x{k}"
        distinct = "".join(f" AND {x} IS DISTINCT FROM {prev}" for prev in texts)
        texts.append(f"CASE WHEN {x} IS NOT NULL AND NOT regexp_full_match({x}, '-+'){distinct} THEN {x} END")
    file_account = _lit(ctx.file_account) if ctx.file_account else "NULL"
    cleaned = ", ".join(
        [
            f"{v('date')} AS d",
            f"{v('credit')} AS cr",
            f"{v('debit')} AS dr",
            f"{v('amount')} AS am",
            f"{v('direction')} AS dir",
            f"{v('currency')} AS cur",
            f"{v('balance')} AS bal",
            f"{v('value_date')} AS vd",
            f"{v('text')} AS txt",
            *(f"hk_clean(x{k}) AS x{k}" for k in range(len(ctx.extra_text))),
            f"coalesce({v('account')}, {file_account}, {_lit(ctx.bank)}) AS account_id",
            f"{v('cp_name')} AS counterparty_name",
            f"{v('cp_account')} AS counterparty_account",
            f"{v('ref')} AS bank_ref",
            f"{v('e2e')} AS end_to_end_id",
        ]
    )
    con = duckdb.connect()
    try:
        install_macros(con)
        con.register("lines_in", pa.table(cols))
        # Each amount column is read once (a table, not a subquery DuckDB could inline twice).
        amounts = ", ".join(
            f"{e} AS {x}_e, {val} AS {x}_v" for x in ("cr", "dr", "am", "bal") for e, val in [_amount_sql(x)]
        )
        con.execute(
            f"""CREATE TEMP TABLE parts AS SELECT *, {amounts}
                FROM (SELECT line, source_row, {cleaned} FROM lines_in)"""
        )
        con.execute(
            f"""CREATE TEMP TABLE fast AS
            SELECT source_row, line, account_id, booking_date, value_date,
                   CAST(amount AS DECIMAL(18,4)) AS amount, currency, counterparty_name, counterparty_account,
                   remittance_text, bank_ref, end_to_end_id, balance,
                   booking_date IS NOT NULL AND amount_ok AND currency IS NOT NULL
                   AND (bal IS NULL OR balance IS NOT NULL) AND (vd IS NULL OR value_date IS NOT NULL) AS ok
            FROM (SELECT *, {_date_sql("d")} AS booking_date, {_date_sql("vd")} AS value_date,
                         {amount} AS amount, coalesce({amount_ok}, false) AS amount_ok, {currency} AS currency,
                         CASE WHEN {"true" if "balance" in c else "false"} AND NOT {bal_empty} THEN {bal} END AS balance,
                         nullif(concat_ws(' | ', {", ".join(texts)}), '') AS remittance_text
                  FROM parts)"""
        )
        con.unregister("lines_in")
        # The other lines, one by one, exactly as the per-line path reads them.
        slow_rows = [
            r for (r,) in con.execute("SELECT source_row FROM fast WHERE NOT ok ORDER BY 1").fetchall()
        ]
        slow = []
        for r in slow_rows:
            row = kept[r - 1]
            e, balance = row_entry(row, [clean_text(x) or "" for x in row], lines[r - 1], r, ctx)
            slow.append((e, balance))
        con.register(
            "slow_in",
            pa.table(
                {
                    "source_row": pa.array([e.source_row for e, _ in slow], pa.int64()),
                    "account_id": pa.array([e.account_id for e, _ in slow], pa.string()),
                    "booking_date": pa.array([e.booking_date for e, _ in slow], pa.date32()),
                    "value_date": pa.array([e.value_date for e, _ in slow], pa.date32()),
                    "amount": pa.array([e.amount for e, _ in slow], pa.decimal128(18, 4)),
                    "currency": pa.array([e.currency for e, _ in slow], pa.string()),
                    "counterparty_name": pa.array([e.counterparty_name for e, _ in slow], pa.string()),
                    "counterparty_account": pa.array([e.counterparty_account for e, _ in slow], pa.string()),
                    "remittance_text": pa.array([e.remittance_text for e, _ in slow], pa.string()),
                    "bank_ref": pa.array([e.bank_ref for e, _ in slow], pa.string()),
                    "end_to_end_id": pa.array([e.end_to_end_id for e, _ in slow], pa.string()),
                    "balance": pa.array([b for _, b in slow], pa.decimal128(18, 4)),
                    "err": pa.array([e.error or "" for e, _ in slow], pa.string()),
                    "err_col": pa.array([e.error_column for e, _ in slow], pa.string()),
                    "raw_record": pa.array([_json(e.raw) for e, _ in slow], pa.string()),
                }
            ),
        )
        con.execute(
            """CREATE TEMP TABLE e AS
            SELECT source_row, account_id, booking_date, value_date, amount, currency, counterparty_name,
                   counterparty_account, remittance_text, bank_ref, end_to_end_id, balance,
                   '' AS err, CAST(NULL AS VARCHAR) AS err_col, CAST(NULL AS VARCHAR) AS raw_record
            FROM fast WHERE ok
            UNION ALL SELECT * FROM slow_in"""
        )
        con.unregister("slow_in")
        _statement(con, bf, ctx, name)
        credit, debit = con.execute(
            "SELECT coalesce(sum(amount) FILTER (amount > 0), 0), coalesce(sum(-amount) FILTER (amount < 0), 0) FROM e"
        ).fetchall()[0]
        footer_controls(bf, footer_totals, Decimal(0) + credit, Decimal(0) + debit)
        # bank_txn_key as model.assign_keys: the bank's reference (a repeat for other content gets
        # its occurrence number), else a hash of the line's content and its occurrence. The window
        # functions run only when some line lacks a reference or a reference repeats.
        no_ref = ", ".join(_lit(x) for x in NO_REF)
        con.execute(
            f"""CREATE TEMP TABLE k AS SELECT e.*, l.line,
                   CASE WHEN trim(bank_ref) = '' OR upper(trim(bank_ref)) IN ({no_ref}) THEN NULL
                        ELSE trim(bank_ref) END AS ref
                FROM e JOIN (SELECT source_row, line FROM fast) l USING (source_row)"""
        )
        n_no_ref, n_repeats = con.execute(
            "SELECT count(*) FILTER (ref IS NULL), count(ref) - count(DISTINCT ref) FROM k"
        ).fetchall()[0]
        content = (
            "coalesce(account_id, '') || '|' || coalesce(CAST(booking_date AS VARCHAR), '') || '|'"
            " || CASE WHEN amount IS NULL OR amount = 0 THEN '' ELSE CAST(amount AS VARCHAR) END || '|'"
            " || coalesce(counterparty_name, '') || '|' || coalesce(remittance_text, '')"
        )
        hashed = (
            "'h:' || left(sha256(content || '|' || row_number() OVER (PARTITION BY content ORDER BY source_row)), 24)"
            if n_no_ref
            else "NULL"
        )
        keyed = "k"
        if n_repeats:
            keyed = """(SELECT *, dense_rank() OVER (PARTITION BY ref ORDER BY first_pos) AS variant
                    FROM (SELECT *, min(source_row) OVER (PARTITION BY ref, booking_date, amount, counterparty_name,
                                                          remittance_text) AS first_pos FROM k))"""
        by_ref = "CASE WHEN variant = 1 THEN ref ELSE ref || '#' || variant END" if n_repeats else "ref"
        bf.table = con.sql(
            f"""SELECT account_id, {_lit(bf.statements[0].statement_id)} AS statement_id,
                   CASE WHEN ref IS NULL THEN {hashed} ELSE {by_ref} END AS bank_txn_key,
                   booking_date, value_date, amount, currency, counterparty_name, counterparty_account, remittance_text,
                   end_to_end_id, CAST(NULL AS VARCHAR) AS structured_reference, CAST(NULL AS VARCHAR) AS bank_tx_code,
                   false AS is_reversal, 'line ' || line AS source_position, source_row, err, err_col, raw_record
            FROM (SELECT *, CASE WHEN ref IS NULL THEN {content} END AS content FROM {keyed})
            ORDER BY source_row"""
        ).to_arrow_table()
    finally:
        con.close()
    header = ctx.header
    bf.raw_of = lambda source_row: raw_record(kept[source_row - 1], header)


def _statement(con, bf: BankFile, ctx: _RowContext, name: str) -> None:
    """As `cncsv._running_balance` and `model.balance_controls`, on table `e` (file order =
    source_row): one statement; when every line has a balance and an amount and they chain (in
    file order or newest first), its opening and closing balances and the balance control."""
    n, n_bal, n_amt, first_account, ccy, d0, d1 = con.execute(
        """SELECT count(*), count(balance), count(amount), arg_min(account_id, source_row),
                  arg_min(currency, source_row) FILTER (currency IS NOT NULL), min(booking_date), max(booking_date)
           FROM e"""
    ).fetchall()[0]
    account = ctx.file_account or (first_account if n else ctx.bank)
    sid = f"{account}:{name}"
    stmt = Statement(statement_id=sid, account_id=account, currency=ccy)
    bf.statements.append(stmt)
    if not (n and n_bal == n and n_amt == n):
        if n:
            bf.notes.append("running balance not checked: balance column missing or not numeric")
        return
    chain = """(SELECT *, lag(balance) OVER w AS prev_bal, lead(balance) OVER w AS next_bal,
                       lag(line) OVER w AS prev_line, row_number() OVER w AS rn
                FROM e JOIN (SELECT source_row, line FROM fast) USING (source_row) WINDOW w AS (ORDER BY source_row))"""
    forward, backward = con.execute(
        f"""SELECT coalesce(bool_and(prev_bal + amount = balance) FILTER (rn > 1), true),
                   coalesce(bool_and(next_bal + amount = balance) FILTER (rn < {n}), true) FROM {chain}"""
    ).fetchall()[0]
    ends = [
        con.execute(f"SELECT balance, amount FROM e ORDER BY source_row {order} LIMIT 1").fetchall()[0]
        for order in ("ASC", "DESC")
    ]
    if not (forward or not backward):  # the balances chain newest first
        ends.reverse()
    (b_first, a_first), (b_last, _) = ends
    stmt.opening_balance = b_first - a_first
    stmt.opening_date, stmt.closing_date = d0, d1
    stmt.closing_balance = b_last
    if not (forward or backward):
        line, prev, amt, bal = con.execute(
            f"SELECT line, prev_bal, amount, balance FROM {chain} WHERE rn > 1 AND prev_bal + amount <> balance "
            "ORDER BY rn LIMIT 1"
        ).fetchall()[0]
        bf.notes.append(f"running balance breaks at line {line}: {prev} + {amt} != {bal}")
    total = con.execute("SELECT sum(amount) FROM e").fetchall()[0][0]
    total = stmt.opening_balance + (total if total is not None else Decimal(0))
    bf.controls.append(Control(sid, "balance", str(stmt.closing_balance), str(total)))
