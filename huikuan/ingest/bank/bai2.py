"""BAI2 (cash management balance reporting) parser: records 01/02/03/16/88/49/98/99, continuations,
funds-type fields, and the trailer control totals (amount sums and record counts)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from huikuan.ingest.bank.model import BankFile, Control, Entry, Statement
from huikuan.ingest.sniff import FileFacts, IngestError, decode_file

RECORD_START = re.compile(r"/\s*(?=(?:01|02|03|16|49|88|98|99),)")
# Status codes (in 03 summaries) for ledger balances: 010 opening, 015 closing.
OPENING_LEDGER, CLOSING_LEDGER = "010", "015"


def split_records(text: str) -> list[tuple[int, str]]:
    """Logical records with the line they start on. Records end with '/' or the line end; a line
    that does not start with a record code continues the previous record."""
    records: list[tuple[int, str]] = []
    for line_no, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        pieces = RECORD_START.split(line)
        for i, piece in enumerate(pieces):
            piece = piece.rstrip()
            if i == 0 and not re.match(r"\d\d,", piece.lstrip()) and records:
                prev_line, prev = records[-1]
                records[-1] = (prev_line, prev.rstrip("/").rstrip() + " " + piece.strip())
                continue
            records.append((line_no, piece.strip()))
    return [(ln, r.removesuffix("/")) for ln, r in records]


def _amount(s: str) -> Decimal | None:
    s = s.strip()
    if not s:
        return None
    if not re.fullmatch(r"[+-]?\d+", s):
        raise ValueError(f"not a BAI2 amount: {s!r}")
    return Decimal(s) / 100


def _funds_fields(fields: list[str], i: int) -> int:
    """Index after the funds-type fields that start at i (funds type itself at i)."""
    ft = fields[i].strip().upper() if i < len(fields) else ""
    if ft == "S":
        return i + 4
    if ft == "V":
        return i + 3
    if ft == "D":
        n = int(fields[i + 1] or 0) if i + 1 < len(fields) else 0
        return i + 2 + 2 * n
    return i + 1


def _date6(s: str) -> date | None:
    s = s.strip()
    if not re.fullmatch(r"\d{6}", s):
        return None
    return date(2000 + int(s[:2]), int(s[2:4]), int(s[4:6]))


def parse_bai2(facts: FileFacts) -> BankFile:
    name = facts.path.name
    records = split_records(decode_file(facts))
    if not records or not records[0][1].startswith("01,"):
        raise IngestError(f"{name}: line 1: BAI2 file must start with a 01 file header record")
    bf = BankFile(format="bai2")
    group_ccy = "USD"
    group_date: date | None = None
    acct: dict | None = None
    group: dict | None = None
    file_total = Decimal(0)
    file_records = 0
    n_groups = 0
    row = 0
    last_kind = None

    def close_account(trailer_fields: list[str], line_no: int) -> None:
        nonlocal acct
        if acct is None:
            raise IngestError(f"{name}: line {line_no}: 49 account trailer without a 03 account record")
        summary = acct["summary"]
        # The 03 record and its 88 continuations are parsed once complete (here).
        stmt: Statement = acct["stmt"]
        opening = summary.get(OPENING_LEDGER)
        closing = summary.get(CLOSING_LEDGER)
        stmt.opening_balance, stmt.closing_balance = opening, closing
        if opening is not None:
            stmt.opening_date = group_date
        if closing is not None:
            stmt.closing_date = group_date
        total = _amount(trailer_fields[1]) if len(trailer_fields) > 1 else None
        count = (
            int(trailer_fields[2])
            if len(trailer_fields) > 2 and trailer_fields[2].strip().isdigit()
            else None
        )
        actual_total = acct["sum"]
        bf.controls.append(Control(stmt.statement_id, "amount_total", str(total), str(actual_total)))
        bf.controls.append(Control(stmt.statement_id, "record_count", str(count), str(acct["records"] + 1)))
        group["total"] += total or 0
        group["accounts"] += 1
        group["records"] += acct["records"] + 1
        acct = None

    for line_no, rec in records:
        fields = rec.split(",")
        code = fields[0].strip()
        file_records += 1
        if code == "01":
            continue
        if code == "02":
            group = {"total": Decimal(0), "accounts": 0, "records": 1}
            group_date = _date6(fields[4]) if len(fields) > 4 else None
            if len(fields) > 6 and fields[6].strip():
                group_ccy = fields[6].strip()
            n_groups += 1
        elif code == "03":
            if group is None:
                raise IngestError(f"{name}: line {line_no}: 03 account record outside a 02 group")
            account = fields[1].strip()
            ccy = fields[2].strip() if len(fields) > 2 and fields[2].strip() else group_ccy
            sid = f"{account}:{group_date or ''}:{len(bf.statements) + 1}"
            stmt = Statement(statement_id=sid, account_id=account, currency=ccy)
            bf.statements.append(stmt)
            acct = {
                "stmt": stmt,
                "fields": fields[3:],
                "summary": {},
                "sum": Decimal(0),
                "records": 1,
                "ccy": ccy,
            }
            _summary(acct)
        elif code == "88":
            if acct is not None:
                acct["records"] += 1
            elif group is not None:
                group["records"] += 1
            cont = fields[1:]
            if last_kind == "03" and acct is not None:
                # Continuation of the summary: the split may fall inside a type/amount group.
                acct["fields"] = acct["fields"] + cont
                _summary(acct)
            elif last_kind == "16" and bf.entries:
                e = bf.entries[-1]
                extra = ",".join(cont).strip()
                if extra:
                    e.remittance_text = ((e.remittance_text or "") + " " + extra).strip()
            continue  # an 88 keeps the kind of the record it continues
        elif code == "16":
            if acct is None:
                raise IngestError(f"{name}: line {line_no}: 16 transaction record outside an account")
            acct["records"] += 1
            row += 1
            try:
                amt = _amount(fields[2]) if len(fields) > 2 else None
            except ValueError as exc:
                bf.entries.append(
                    Entry(
                        row,
                        acct["stmt"].account_id,
                        acct["stmt"].statement_id,
                        group_date,
                        None,
                        acct["ccy"],
                        raw={"record": rec, "line": line_no},
                        error=f"amount: {exc}, line {line_no}",
                        error_column="amount",
                    )
                )
                last_kind = "16"
                continue
            type_code = fields[1].strip()
            j = _funds_fields(fields, 3)
            value_date = _date6(fields[4]) if len(fields) > 4 and fields[3].strip().upper() == "V" else None
            bank_ref = fields[j].strip() if j < len(fields) else ""
            cust_ref = fields[j + 1].strip() if j + 1 < len(fields) else ""
            text = ",".join(fields[j + 2 :]).strip() if j + 2 < len(fields) else ""
            acct["sum"] += amt or 0
            signed = amt
            if amt is not None and type_code.isdigit() and 400 <= int(type_code) <= 699:
                signed = -amt
            bf.entries.append(
                Entry(
                    source_row=row,
                    account_id=acct["stmt"].account_id,
                    statement_id=acct["stmt"].statement_id,
                    booking_date=group_date,
                    value_date=value_date,
                    amount=signed,
                    currency=acct["ccy"],
                    bank_ref=bank_ref or None,
                    alt_ref=cust_ref or None,
                    remittance_text=text or None,
                    structured_reference=cust_ref or None,
                    bank_tx_code=type_code,
                    source_position=f"line {line_no}",
                    raw={"record": rec, "line": line_no},
                )
            )
        elif code == "49":
            close_account(fields, line_no)
        elif code == "98":
            if group is None:
                raise IngestError(f"{name}: line {line_no}: 98 group trailer without a 02 group header")
            group["records"] += 1
            scope = f"group {n_groups}"
            bf.controls.append(Control(scope, "amount_total", str(_amount(fields[1])), str(group["total"])))
            bf.controls.append(
                Control(
                    scope,
                    "account_count",
                    fields[2].strip() if len(fields) > 2 else None,
                    str(group["accounts"]),
                )
            )
            bf.controls.append(
                Control(
                    scope,
                    "record_count",
                    fields[3].strip() if len(fields) > 3 else None,
                    str(group["records"]),
                )
            )
            file_total += group["total"]
            group = None
        elif code == "99":
            bf.controls.append(Control("file", "amount_total", str(_amount(fields[1])), str(file_total)))
            bf.controls.append(
                Control("file", "group_count", fields[2].strip() if len(fields) > 2 else None, str(n_groups))
            )
            bf.controls.append(
                Control(
                    "file", "record_count", fields[3].strip() if len(fields) > 3 else None, str(file_records)
                )
            )
        else:
            raise IngestError(f"{name}: line {line_no}: unknown BAI2 record type {code!r}")
        last_kind = code
    if acct is not None or group is not None:
        raise IngestError(f"{name}: truncated: the last account or group has no trailer (49/98) record")
    if not any(c.scope == "file" for c in bf.controls):
        raise IngestError(f"{name}: truncated: no 99 file trailer record")
    for s in bf.statements:
        if s.opening_balance is not None and s.closing_balance is not None:
            s.entry_count = None
    return bf


def _summary(acct: dict) -> None:
    """Parse the 03 summary fields (type code, amount, item count, funds type...) into the account's
    summary map and its control sum; re-run after each 88 continuation."""
    f = acct["fields"]
    summary: dict[str, Decimal] = {}
    total = Decimal(0)
    i = 0
    while i + 1 < len(f):
        code = f[i].strip()
        if not code:
            i += 1
            continue
        amt = _amount(f[i + 1]) if f[i + 1].strip() else None
        if amt is not None:
            summary.setdefault(code, amt)
            total += amt
        i = _funds_fields(f, i + 3) if i + 3 < len(f) else i + 3
    entries_sum = acct["sum"] - acct.get("summary_sum", Decimal(0))
    acct["summary"] = summary
    acct["summary_sum"] = total
    acct["sum"] = entries_sum + total
