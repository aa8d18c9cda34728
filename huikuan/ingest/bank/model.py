"""What every bank parser returns: statements, entries and the file's own control totals."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass
class Control:
    """A check the file itself makes possible: balances or control totals."""

    scope: str  # statement_id, account or "file"
    control: str  # balance, entry_count, record_count, amount_total
    expected: str | None
    actual: str | None

    @property
    def ok(self) -> bool | None:
        if self.expected is None or self.actual is None:
            return None
        try:
            return Decimal(self.expected) == Decimal(self.actual)
        except ArithmeticError:
            return self.expected == self.actual


@dataclass
class Statement:
    statement_id: str
    account_id: str
    currency: str | None = None
    opening_date: date | None = None
    opening_balance: Decimal | None = None
    closing_date: date | None = None
    closing_balance: Decimal | None = None
    entry_count: int | None = None  # the file's own count of entries, if it has one


@dataclass
class Entry:
    """One bank line; `error` set means it is quarantined with that reason."""

    source_row: int
    account_id: str | None
    statement_id: str | None
    booking_date: date | None
    amount: Decimal | None
    currency: str | None
    bank_ref: str | None = None
    alt_ref: str | None = None  # a weaker reference (e.g. MT940 customer reference): used when unique
    value_date: date | None = None
    counterparty_name: str | None = None
    counterparty_account: str | None = None
    remittance_text: str | None = None
    end_to_end_id: str | None = None
    structured_reference: str | None = None
    bank_tx_code: str | None = None
    is_reversal: bool = False
    source_position: str | None = None
    raw: dict = field(default_factory=dict)
    error: str | None = None
    error_column: str | None = None
    bank_txn_key: str | None = None


@dataclass
class BankFile:
    format: str
    statements: list[Statement] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # A columnar parser fills `table` (pyarrow, the raw.bank_transactions columns plus source_row,
    # err, err_col and raw_record, keys and balance controls done) instead of `entries`;
    # `raw_of(source_row)` then gives a line's record as given, for the lines quarantined later.
    table: Any = None
    raw_of: Callable[[int], dict] | None = None

    @property
    def entry_total(self) -> int:
        return self.table.num_rows if self.table is not None else len(self.entries)


def _clean_ref(ref: str | None) -> str | None:
    ref = (ref or "").strip()
    if not ref or ref.upper() in ("NONREF", "NOTPROVIDED", "NONE", "-"):
        return None
    return ref


def assign_keys(entries: list[Entry]) -> None:
    """bank_txn_key: the bank's own reference when present, else a stable hash of the line's content
    and its position among identical lines (so two equal coffees on one day stay two rows)."""
    seen: Counter = Counter()
    alt_counts = Counter(_clean_ref(e.alt_ref) for e in entries)
    by_ref: dict[str, list[tuple]] = {}
    for e in entries:
        ref = _clean_ref(e.bank_ref)
        alt = _clean_ref(e.alt_ref)
        if (
            not ref
            and alt
            and alt_counts[alt] == 1
            and not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", alt)
        ):
            ref = alt
        if ref:
            # A reference repeated for a different line (e.g. a return quoting its original) gets
            # its occurrence number; a repeat of the same line keeps the key and is a duplicate.
            content = (e.booking_date, e.amount, e.counterparty_name, e.remittance_text)
            variants = by_ref.setdefault(ref, [])
            if content not in variants:
                variants.append(content)
            n = variants.index(content) + 1
            e.bank_txn_key = ref if n == 1 else f"{ref}#{n}"
            continue
        content = "|".join(
            str(x or "")
            for x in (e.account_id, e.booking_date, e.amount, e.counterparty_name, e.remittance_text)
        )
        seen[content] += 1
        digest = hashlib.sha256(f"{content}|{seen[content]}".encode()).hexdigest()[:24]
        e.bank_txn_key = f"h:{digest}"


def balance_controls(bf: BankFile) -> None:
    """Per statement with both balances: opening + credits - debits = closing; entry counts."""
    by_stmt: dict[str, list[Entry]] = {}
    for e in bf.entries:
        by_stmt.setdefault(e.statement_id or "", []).append(e)
    for s in bf.statements:
        entries = by_stmt.get(s.statement_id, [])
        if s.opening_balance is not None and s.closing_balance is not None:
            total = s.opening_balance + sum((e.amount for e in entries if e.amount is not None), Decimal(0))
            bf.controls.append(Control(s.statement_id, "balance", str(s.closing_balance), str(total)))
        if s.entry_count is not None:
            bf.controls.append(Control(s.statement_id, "entry_count", str(s.entry_count), str(len(entries))))


def balance_ok(bf: BankFile) -> bool | None:
    oks = [c.ok for c in bf.controls if c.control == "balance"]
    if not oks:
        return None
    return all(oks)
