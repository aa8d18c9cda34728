"""Bank statement parsers (camt.052/053/054, MT940, BAI2, Chinese bank exports) to one entry model."""

from __future__ import annotations

from huikuan.ingest.bank.model import BankFile, assign_keys, balance_controls
from huikuan.ingest.sniff import FileFacts, IngestError


def parse_bank(facts: FileFacts, kind: str) -> BankFile:
    """Parse a bank file of the given coarse kind; keys and balance controls filled in."""
    if kind == "xml":
        from huikuan.ingest.bank.camt import parse_camt

        bf = parse_camt(facts)
    elif kind == "mt940":
        from huikuan.ingest.bank.mt940 import parse_mt940

        bf = parse_mt940(facts)
    elif kind == "bai2":
        from huikuan.ingest.bank.bai2 import parse_bai2

        bf = parse_bai2(facts)
    elif kind in ("text", "xlsx"):
        from huikuan.ingest.bank.cncsv import parse_bank_table

        bf = parse_bank_table(facts, kind)
    else:
        raise IngestError(f"{facts.path.name}: not a bank statement format")
    if bf.table is None:  # a columnar parser has done both
        assign_keys(bf.entries)
        balance_controls(bf)
    return bf
