"""Chinese bank exports (ICBC, CMB, BOC, BoCom, CCB, ABC, and look-alikes) in CSV or XLSX: find the
header row past title lines, map the bank's column titles, and read signed amounts from a signed
column, split 收入/支出 columns, or an amount plus a 借/贷 indicator."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from huikuan.ingest.bank.model import BankFile, Control, Entry, Statement
from huikuan.ingest.sniff import FileFacts, IngestError, read_text_rows
from huikuan.ingest.values import clean_text, parse_amount, parse_date

# Column titles per role, most specific first. Parentheses may be full- or half-width.
ROLES: dict[str, tuple[str, ...]] = {
    "date": ("交易日期", "记账日期", "入账日期", "交易时间", "日期"),
    "time": ("记账时间", "交易时间"),
    "credit": ("记账金额(收入)", "交易金额(收入)", "收入金额", "贷方发生额", "贷方金额", "存入金额", "收入"),
    "debit": ("记账金额(支出)", "交易金额(支出)", "支出金额", "借方发生额", "借方金额", "支取金额", "支出"),
    "amount": ("交易金额", "发生额", "金额"),
    "direction": ("借贷标志", "借贷方向", "借贷", "收支", "收/支"),
    "currency": ("记账币种", "币种", "币别", "货币", "交易币种"),
    "balance": ("联机余额", "账户余额", "本次余额", "交易后余额", "当前余额", "余额"),
    "cp_name": ("对方户名", "对方账户名", "对方名称", "收/付方名称", "对手信息"),
    "cp_account": ("对方账户", "对方账号", "对方卡号/账号", "收/付方账号"),
    "text": ("摘要", "交易摘要", "附言", "用途", "交易详情", "客户摘要", "交易名称", "交易类型", "交易场所"),
    "ref": ("交易流水号", "流水号", "银行流水号", "交易参考号", "凭证号"),
    "account": ("本方账号", "账号", "卡号"),
}
BANK_NAMES = {
    "icbc": "工商银行",
    "cmb": "招商银行",
    "boc": "中国银行",
    "bocom": "交通银行",
    "ccb": "建设银行",
    "abc": "农业银行",
}
CURRENCIES = {
    "人民币": "CNY",
    "RMB": "CNY",
    "CNY": "CNY",
    "美元": "USD",
    "USD": "USD",
    "欧元": "EUR",
    "EUR": "EUR",
    "港币": "HKD",
    "港元": "HKD",
    "HKD": "HKD",
    "日元": "JPY",
    "英镑": "GBP",
}


def roles() -> dict[str, tuple[str, ...]]:
    """Built-in titles plus the `bank:` sections of the mapping profiles (YAML, user-extendable).
    The profiles are read again only when a profile file was added, removed or changed."""
    from huikuan.ingest.profiles import profile_dirs

    files = tuple(
        (str(path), path.stat().st_mtime_ns, path.stat().st_size)
        for d in profile_dirs()
        for path in (sorted(d.glob("*.y*ml")) if d.is_dir() else [])
    )
    return dict(_roles(files))


@functools.lru_cache(maxsize=8)
def _roles(files: tuple[tuple[str, int, int], ...]) -> dict[str, tuple[str, ...]]:
    import yaml

    merged = {k: list(v) for k, v in ROLES.items()}
    for name, _, _ in files:
        doc = yaml.safe_load(Path(name).read_text(encoding="utf-8")) or {}
        for role, titles in (doc.get("bank") or {}).items() if isinstance(doc, dict) else []:
            merged.setdefault(role, [])
            merged[role] += [_norm(str(t)) for t in titles if _norm(str(t)) not in merged[role]]
    return {k: tuple(v) for k, v in merged.items()}


@dataclass
class Layout:
    header_row: int  # 0-based index in the rows
    columns: dict[str, int]  # role -> column index
    bank: str


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", (s or "").replace("（", "(").replace("）", ")")).strip().lower()


def find_layout(rows: list[list[str]], file_name: str = "") -> Layout | None:
    """The first row (within 40) whose cells name a date column and an amount source."""
    all_roles = roles()
    for i, row in enumerate(rows[:40]):
        cells = [_norm(c) for c in row]
        cols: dict[str, int] = {}
        for role, titles in all_roles.items():
            for t in titles:
                if t in cells:
                    idx = cells.index(t)
                    if idx not in cols.values() or role in ("time",):
                        cols[role] = idx
                        break
        if cols.get("time") == cols.get("date"):
            cols.pop("time", None)
        has_amount = "amount" in cols or ("credit" in cols and "debit" in cols)
        if "date" in cols and has_amount and len(cols) >= 3:
            return Layout(i, cols, _bank_of(file_name, rows[:i]))
    return None


def _bank_of(file_name: str, preamble: list[list[str]]) -> str:
    stem = file_name.lower()
    for code in sorted(BANK_NAMES, key=len, reverse=True):
        if re.match(rf"(deb_)?{code}[_\-. ]", stem) or stem.startswith(code + "_"):
            return code
    text = " ".join(" ".join(r) for r in preamble)
    for code, name in BANK_NAMES.items():
        if name in text:
            return code
    return "cn_bank"


def table_rows(facts: FileFacts, kind: str) -> list[list[str]]:
    if kind == "xlsx":
        from huikuan.ingest.tabular import _xlsx_rows

        header, rows = _xlsx_rows(facts.path)
        return [header, *[[c or "" for c in r] for r in rows]]
    return read_text_rows(facts)


def detect_bank_layout(facts: FileFacts, kind: str) -> Layout | None:
    """A layout when the file is a bank export (cheap: only the first lines are looked at for CSV)."""
    if kind == "xlsx":
        try:
            rows = table_rows(facts, kind)[:40]
        except Exception:  # noqa: BLE001 - not readable as a workbook: let the tabular path say why
            return None
    else:
        import csv

        from huikuan.ingest.sniff import text_lines

        lines = text_lines(facts, limit=40)
        rows = []
        for ln in lines:
            delim = "\t" if ln.count("\t") > ln.count(",") else ","
            rows.extend(csv.reader([ln], delimiter=delim))
    return find_layout(rows, facts.path.name)


def parse_bank_table(facts: FileFacts, kind: str, *, columnar: bool = True) -> BankFile:
    """A bank export in CSV (lines read column by column in DuckDB, see `cncsv_columnar`) or XLSX
    (line by line). `columnar=False` reads a CSV line by line too: the reference the columnar
    path is tested against."""
    rows = table_rows(facts, kind)
    layout = find_layout(rows, facts.path.name)
    if layout is None:
        raise IngestError(f"{facts.path.name}: no bank statement header row found in the first 40 lines")
    name = facts.path.name
    c = layout.columns
    header = [_norm(x) for x in rows[layout.header_row]]
    preamble = " ".join(" ".join(r) for r in rows[: layout.header_row])
    m = re.search(r"(?:账号|卡号|账户)\s*[:：]\s*([0-9*Xx\- ]{6,40}\d)", preamble)
    file_account = m.group(1).replace(" ", "") if m else None
    if not file_account:
        m = re.search(r"_(\d{6,30})_", name)
        file_account = m.group(1) if m else None
    bf = BankFile(format=f"{layout.bank}_{'xlsx' if kind == 'xlsx' else 'csv'}")
    entries: list[Entry] = []
    balances: list[Decimal | None] = []
    footer_totals: dict[str, str] = {}
    row_no = 0
    # Further text columns appended to the remittance text, found once for the file.
    extra_text = [
        header.index(x)
        for x in ("交易详情", "附言", "客户摘要")
        if x in header and header.index(x) != c.get("text")
    ]
    ctx = _RowContext(c, header, file_account or None, layout.bank, extra_text)
    if kind == "text" and columnar:
        from huikuan.ingest.bank.cncsv_columnar import parse_rows_columnar

        parse_rows_columnar(bf, rows, layout.header_row, ctx, name)
        return bf
    for r_idx in range(layout.header_row + 1, len(rows)):
        row = rows[r_idx]
        cells = [clean_text(x) or "" for x in row]
        if not any(cells):
            continue
        if _footer(cells, c, footer_totals):
            continue
        row_no += 1
        e, balance = row_entry(row, cells, r_idx + 1, row_no, ctx)
        balances.append(balance)
        entries.append(e)
    bf.entries = entries
    account = file_account or (entries[0].account_id if entries else layout.bank)
    _running_balance(bf, entries, balances, account, name)
    credit = sum((e.amount for e in entries if e.amount is not None and e.amount > 0), Decimal(0))
    debit = sum((-e.amount for e in entries if e.amount is not None and e.amount < 0), Decimal(0))
    footer_controls(bf, footer_totals, credit, debit)
    return bf


def footer_controls(bf: BankFile, footer_totals: dict[str, str], credit: Decimal, debit: Decimal) -> None:
    """The footer's income/expense totals against the sums of the lines (absolute values)."""
    for role, actual in (("credit", credit), ("debit", debit)):
        if role in footer_totals:
            try:
                expected = abs(parse_amount(footer_totals[role]))
            except ValueError:
                continue
            bf.controls.append(Control("file", f"{role}_total", str(expected), str(actual)))


@dataclass
class _RowContext:
    """What every line of one export is read with."""

    columns: dict[str, int]
    header: list[str]
    file_account: str | None
    bank: str
    extra_text: list[int]


def _footer(cells: list[str], c: dict[str, int], footer_totals: dict[str, str]) -> bool:
    """A 合计/总计 line (cleaned cells): its income/expense totals kept as the file's control totals."""
    first = cells[0] if cells else ""
    if "合计" in first or "总计" in first:
        for role in ("credit", "debit"):
            if role in c and c[role] < len(cells) and cells[c[role]]:
                footer_totals[role] = cells[c[role]]
        return True
    return False


def raw_record(row: list[str], header: list[str]) -> dict:
    """The line as given, by column title (for the quarantine)."""
    return {
        header[i] if i < len(header) else f"col{i + 1}": (row[i] if i < len(row) else None)
        for i in range(max(len(row), len(header)))
    }


def row_entry(
    row: list[str], cells: list[str], line: int, row_no: int, ctx: _RowContext
) -> tuple[Entry, Decimal | None]:
    """One data line (as given and cleaned) to an entry, with its running balance (None if absent or
    not numeric); a value that does not parse sets the entry's error."""
    c = ctx.columns

    def get(role: str) -> str:
        return cells[c[role]] if role in c and c[role] < len(cells) else ""

    e = Entry(
        source_row=row_no,
        account_id=get("account") or ctx.file_account or ctx.bank,
        statement_id=None,
        booking_date=None,
        amount=None,
        currency=_currency(get("currency")),
        source_position=f"line {line}",
        raw=raw_record(row, ctx.header),
    )
    try:
        e.booking_date = parse_date(get("date"))
        if e.booking_date is None:
            raise ValueError("date missing")
    except ValueError as exc:
        e.error, e.error_column = f"booking_date: {exc}, line {line}", "booking_date"
    try:
        e.amount = _amount(get, c)
    except ValueError as exc:
        e.error = e.error or f"amount: {exc}, line {line}"
        e.error_column = e.error_column or "amount"
    if e.currency is None and not get("currency"):
        e.currency = "CNY"  # domestic exports without a currency column are in RMB
    elif e.currency is None:
        e.error = e.error or f"currency: unknown currency {get('currency')!r}, line {line}"
        e.error_column = e.error_column or "currency"
    e.counterparty_name = get("cp_name") or None
    e.counterparty_account = get("cp_account") or None
    texts = [cells[i] for role in ("text",) if role in c for i in [c[role]] if i < len(cells) and cells[i]]
    for i in ctx.extra_text:
        v = cells[i] if i < len(cells) else ""
        if v and v not in texts and not set(v) <= set("-"):
            texts.append(v)
    e.remittance_text = " | ".join(texts) or None
    e.bank_ref = get("ref") or None
    e.end_to_end_id = get("e2e") or None
    if get("value_date"):
        try:
            e.value_date = parse_date(get("value_date"))
        except ValueError:
            pass  # value date is optional; the booking date carries the line
    try:
        balance = parse_amount(get("balance")) if "balance" in c else None
    except ValueError:
        balance = None
    return e, balance


def _currency(s: str) -> str | None:
    s = (s or "").strip()
    if not s:
        return None
    return (
        CURRENCIES.get(s)
        or CURRENCIES.get(s.upper())
        or (s.upper() if re.fullmatch(r"[A-Za-z]{3}", s) else None)
    )


def _amount(get, c) -> Decimal:
    def amt(role: str) -> Decimal | None:
        v = get(role)
        if not v or set(v) <= set("-—"):
            return None
        return parse_amount(v)

    if "credit" in c and "debit" in c:
        cr, dr = amt("credit"), amt("debit")
        if cr is None and dr is None:
            raise ValueError("neither income nor expense amount")
        if cr is not None and dr is not None and cr != 0 and dr != 0:
            raise ValueError("both income and expense amounts set")
        # Split columns carry direction in the column: some banks print expenses as -50.00 or (50.00).
        return abs(cr or Decimal(0)) - abs(dr or Decimal(0))
    value = amt("amount")
    if value is None:
        raise ValueError("amount missing")
    if "direction" in c:
        d = get("direction")
        if d.startswith(("借", "支", "D", "d")):
            return -abs(value)
        if d.startswith(("贷", "收", "C", "c")):
            return abs(value)
        raise ValueError(f"unknown debit/credit indicator {d!r}")
    return value


def _running_balance(bf: BankFile, entries: list[Entry], balances: list, account: str, name: str) -> None:
    """Exports with a balance after each line: if the balances chain with the amounts (in file order,
    or newest-first), record a statement with opening and closing balances; if they do not chain,
    record that as a failed balance control."""
    ccy = next((e.currency for e in entries if e.currency), None)
    sid = f"{account}:{name}"
    for e in entries:
        e.statement_id = sid
    stmt = Statement(statement_id=sid, account_id=account, currency=ccy)
    bf.statements.append(stmt)
    usable = entries and all(b is not None for b in balances) and all(e.amount is not None for e in entries)
    if not usable:
        if any(b is not None for b in balances) or (balances and entries):
            bf.notes.append("running balance not checked: balance column missing or not numeric")
        return
    n = len(entries)
    forward = all(balances[i - 1] + entries[i].amount == balances[i] for i in range(1, n))
    backward = all(balances[i + 1] + entries[i].amount == balances[i] for i in range(n - 1))
    if forward or not backward:
        first, last = 0, n - 1
    else:
        first, last = n - 1, 0
    dates = [e.booking_date for e in entries if e.booking_date]
    stmt.opening_balance = balances[first] - entries[first].amount
    stmt.opening_date = min(dates) if dates else None
    stmt.closing_date = max(dates) if dates else None
    if forward or backward:
        stmt.closing_balance = balances[last]
    else:
        # The lines do not chain: the closing balance of the file (last line) will not be reached.
        stmt.closing_balance = balances[last]
        bad = next(i for i in range(1, n) if balances[i - 1] + entries[i].amount != balances[i])
        bf.notes.append(
            f"running balance breaks at {entries[bad].source_position}: "
            f"{balances[bad - 1]} + {entries[bad].amount} != {balances[bad]}"
        )
