"""SWIFT MT940 parser: the `mt-940` package reads the tags; our own code groups statements, signs
reversals and splits `:86:` into German (?20-?33) or Dutch (/EREF/ /REMI/ /CNTP/) subfields."""

from __future__ import annotations

import re
from decimal import Decimal

import mt940
import mt940.tags

from huikuan.ingest.bank.model import BankFile, Entry, Statement
from huikuan.ingest.sniff import FileFacts, IngestError, decode_file
from huikuan.ingest.values import looks_like_iban

STATEMENT_START = re.compile(r"^:20:", re.MULTILINE)


_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")


def parse_86(text: str | None) -> dict[str, str]:
    """Subfields of an MT940 `:86:` line.

    German (DFÜ-Abkommen, `?nn` fields): ?00 posting text, ?20-?29 and ?60-?63 purpose lines,
    ?30 counterparty bank code (BLZ/BIC), ?31 account, ?32-?33 name, ?34 return key. SEPA keywords
    inside the purpose (EREF+, MREF+, SVWZ+) are extracted too.
    Dutch (`/CODE/value` pairs): EREF end-to-end reference, REMI remittance, CNTP counterparty
    (account/BIC/name/city), BENM/ORDP beneficiary/ordering party, NAME, IBAN, MARF, CSID.
    Returns keys: remittance_text, counterparty_name, counterparty_account, end_to_end_id,
    structured_reference, posting_text (only those found).
    """
    out: dict[str, str] = {}
    if not text:
        return out
    flat = text.replace("\r", "").replace("\n", "")
    if re.match(r"^\d{3}\?", flat) or flat.startswith("?"):
        fields: dict[str, str] = {}
        for m in re.finditer(r"\?(\d\d)([^?]*)", flat):
            fields[m.group(1)] = fields.get(m.group(1), "") + m.group(2)
        purpose = "".join(fields.get(f"{n:02d}", "") for n in [*range(20, 30), *range(60, 64)])
        if fields.get("00"):
            out["posting_text"] = fields["00"].strip()
        name = (fields.get("32", "") + fields.get("33", "")).strip()
        if name:
            out["counterparty_name"] = name
        if fields.get("31", "").strip():
            out["counterparty_account"] = fields["31"].strip()
        kw = "EREF|MREF|CRED|SVWZ|ABWA|ABWE|KREF|BREF|RREF|COAM|OAMT|DEBT|IBAN|BIC"
        sepa = dict(re.findall(rf"({kw})\+(.*?)(?=(?:{kw})\+|MTLG:|$)", purpose))
        if sepa.get("EREF"):
            out["end_to_end_id"] = sepa["EREF"].strip()
        text_part = sepa.get("SVWZ") or purpose
        if text_part.strip():
            out["remittance_text"] = text_part.strip()
        return out
    if re.search(r"/(EREF|REMI|CNTP|BENM|ORDP|NAME|IBAN|MARF|TRTP)/", flat):
        codes = "EREF|REMI|CNTP|BENM|ORDP|NAME|IBAN|MARF|TRTP|CSID|PREF|BUSP|ISDT|RTRN|ULTD|ULTB|PURP|CDTRREF|CDTRREFTP|CD|ISSR|BIC|ADDR|ID"
        parts = re.split(rf"/({codes})/", "/" + flat.lstrip("/") if not flat.startswith("/") else flat)
        pairs: dict[str, str] = {}
        for i in range(1, len(parts) - 1, 2):
            pairs.setdefault(parts[i], parts[i + 1].strip())
        if pairs.get("EREF") and pairs["EREF"] != "NOTPROVIDED":
            out["end_to_end_id"] = pairs["EREF"]
        if pairs.get("REMI"):
            remi = pairs["REMI"]
            m = re.match(r"(?:USTD//)?(.*)", remi)
            out["remittance_text"] = (m.group(1) if m else remi).strip("/ ")
            if "CDTRREF" in pairs:
                out["structured_reference"] = pairs["CDTRREF"]
        if pairs.get("CNTP"):
            # Standard order is account/BIC/name/city; some banks leave the BIC out entirely
            # (account/name), so the second field counts as the BIC only if it has a BIC's shape.
            bits = pairs["CNTP"].split("/") + ["", "", ""]
            if bits[0]:
                out["counterparty_account"] = bits[0]
            if bits[1] and not _BIC.fullmatch(bits[1]):
                name = bits[1]
            else:
                name = bits[2]
            if name.strip():
                out["counterparty_name"] = name.strip()
        for who in ("BENM", "ORDP"):
            if who in pairs and "NAME" in pairs and "counterparty_name" not in out:
                out["counterparty_name"] = pairs["NAME"].strip("/ ")
        if pairs.get("IBAN") and "counterparty_account" not in out:
            out["counterparty_account"] = pairs["IBAN"]
        if "remittance_text" not in out and not pairs:
            out["remittance_text"] = flat.strip()
        return out
    out["remittance_text"] = re.sub(r"\s+", " ", text).strip()
    first = flat.strip().split(" ", 1)[0]
    if looks_like_iban(first):
        out["counterparty_account"] = first
    return out


def _parse_chunk(chunk: str) -> mt940.models.Transactions:
    last: Exception | None = None
    # The package's own :86: post-processor is switched off: parse_86 reads the subfields.
    processors = {"post_transaction_details": []}
    for tags in (None, {mt940.tags.StatementASNB.id: mt940.tags.StatementASNB()}):
        t = mt940.models.Transactions(tags=tags or {}, processors=processors)
        try:
            t.parse(chunk)
            return t
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:  # the package's parse errors
            last = exc
    raise last  # type: ignore[misc]


def parse_mt940(facts: FileFacts) -> BankFile:
    import logging

    logging.getLogger("mt940").setLevel(logging.CRITICAL)  # it logs every failed pattern attempt
    text = decode_file(facts).replace("\r\n", "\n").replace("\r", "\n")
    starts = [m.start() for m in STATEMENT_START.finditer(text)]
    if not starts:
        raise IngestError(f"{facts.path.name}: line 1: no :20: statement start; not an MT940 file")
    bf = BankFile(format="mt940")
    row = 0
    for s_idx, (a, b) in enumerate(zip(starts, starts[1:] + [len(text)]), start=1):
        chunk = text[a:b]
        line_no = text[:a].count("\n") + 1
        try:
            t = _parse_chunk(chunk)
        except Exception as exc:  # noqa: BLE001 - any parse failure rejects the file with its place
            msg = exc.args[0] if exc.args else str(exc)
            raise IngestError(f"{facts.path.name}: statement starting at line {line_no}: {msg}") from None
        d = t.data
        account = str(d.get("account_identification") or "unknown").strip()
        number = str(d.get("statement_number") or s_idx)
        seq = d.get("sequence_number")
        opening = d.get("final_opening_balance") or d.get("intermediate_opening_balance")
        closing = d.get("final_closing_balance") or d.get("intermediate_closing_balance")
        # Closing balance tags: the package keeps the last one seen; 62F wins over 62M when both appear.
        ccy = (opening.amount.currency if opening else None) or (closing.amount.currency if closing else None)
        sid = f"{account}:{number}" + (f"/{seq}" if seq else "") + f"@{(opening.date if opening else '')}"
        if any(s.statement_id == sid for s in bf.statements):
            sid += f"#{s_idx}"
        stmt = Statement(
            statement_id=sid,
            account_id=account,
            currency=ccy,
            opening_date=opening.date if opening else None,
            opening_balance=Decimal(opening.amount.amount) if opening else None,
            closing_date=closing.date if closing else None,
            closing_balance=Decimal(closing.amount.amount) if closing else None,
        )
        bf.statements.append(stmt)
        for n_idx, tx in enumerate(t, start=1):
            row += 1
            td = tx.data
            status = str(td.get("status") or "").upper()
            amt = abs(Decimal(td["amount"].amount)) if td.get("amount") is not None else None
            if amt is not None and status in ("D", "RC"):
                amt = -amt
            sub = parse_86(td.get("transaction_details"))
            extra = (td.get("extra_details") or "").strip()
            if extra and looks_like_iban(extra) and "counterparty_account" not in sub:
                sub["counterparty_account"] = extra  # Rabobank: the counterparty IBAN follows :61:
                extra = ""
            bank_ref = (td.get("bank_reference") or "").strip() or None
            cust_ref = (td.get("customer_reference") or "").strip() or None
            e = Entry(
                source_row=row,
                account_id=account,
                statement_id=sid,
                booking_date=td.get("entry_date") or td.get("date"),
                value_date=td.get("date"),
                amount=amt,
                currency=td.get("currency") or ccy,
                bank_ref=bank_ref,
                alt_ref=cust_ref,
                counterparty_name=sub.get("counterparty_name"),
                counterparty_account=sub.get("counterparty_account"),
                remittance_text=sub.get("remittance_text") or extra or None,
                end_to_end_id=sub.get("end_to_end_id"),
                structured_reference=sub.get("structured_reference"),
                bank_tx_code=td.get("id"),
                is_reversal=status.startswith("R"),
                source_position=f"stmt {s_idx} entry {n_idx}",
                raw={
                    k: td.get(k)
                    for k in (
                        "status",
                        "amount",
                        "date",
                        "entry_date",
                        "id",
                        "customer_reference",
                        "bank_reference",
                        "extra_details",
                        "transaction_details",
                    )
                },
            )
            if e.booking_date is None:
                e.error, e.error_column = "booking_date: missing in :61:", "booking_date"
            bf.entries.append(e)
    return bf
