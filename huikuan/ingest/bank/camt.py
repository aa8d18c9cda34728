"""ISO 20022 camt.052 / camt.053 / camt.054 (versions 02-08) parser on lxml, with entities and
network access off so external entities (XXE) and entity expansion bombs are refused."""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from huikuan.ingest.bank.model import BankFile, Control, Entry, Statement
from huikuan.ingest.sniff import FileFacts, IngestError

CAMT_NS = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d\d)")
# Report / statement / notification containers per message type.
CONTAINERS = {
    "052": ("BkToCstmrAcctRpt", "Rpt"),
    "053": ("BkToCstmrStmt", "Stmt"),
    "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
OPENING_CODES = ("OPBD", "PRCD")  # opening booked; previous closing booked (used as opening)
CLOSING_CODES = ("CLBD",)


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        remove_comments=True,
    )


def parse_xml(facts: FileFacts):
    data = facts.path.read_bytes()
    # A DOCTYPE is never part of a camt message; it is how XXE and entity bombs arrive.
    if re.search(rb"<!DOCTYPE|<!ENTITY", data[:65536], re.IGNORECASE):
        raise IngestError(
            f"{facts.path.name}: line {_line_of(data, rb'<!')}: XML with a DOCTYPE/ENTITY "
            "declaration is refused (external entities and entity expansion are not allowed)"
        )
    try:
        return etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise IngestError(f"{facts.path.name}: line {exc.lineno}: malformed XML: {exc.msg}") from None


def _line_of(data: bytes, needle: bytes) -> int:
    i = data.find(needle)
    return data[: max(i, 0)].count(b"\n") + 1


def parse_camt(facts: FileFacts) -> BankFile:
    root = parse_xml(facts)
    ns_uri = etree.QName(root).namespace or ""
    m = CAMT_NS.fullmatch(ns_uri)
    if not m:
        raise IngestError(
            f"{facts.path.name}: line {root.sourceline}: XML namespace {ns_uri!r} is not a "
            "camt.052/053/054 message"
        )
    msg, version = m.group(1), m.group(2)
    if not 2 <= int(version) <= 8:
        raise IngestError(f"{facts.path.name}: camt.{msg}.001.{version} is not supported (versions 02-08)")
    ns = {"c": ns_uri}
    bf = BankFile(format=f"camt.{msg}.001.{version}")
    outer, inner = CONTAINERS[msg]
    row = 0
    for s_idx, st in enumerate(root.findall(f"c:{outer}/c:{inner}", ns), start=1):
        acct = _text(st, "c:Acct/c:Id/c:IBAN", ns) or _text(st, "c:Acct/c:Id/c:Othr/c:Id", ns) or "unknown"
        acct_ccy = _text(st, "c:Acct/c:Ccy", ns)
        stmt_ref = _text(st, "c:Id", ns) or f"{s_idx}"
        stmt = Statement(statement_id=f"{acct}:{stmt_ref}", account_id=acct, currency=acct_ccy)
        for bal in st.findall("c:Bal", ns):
            code = _text(bal, "c:Tp/c:CdOrPrtry/c:Cd", ns)
            amt_el = bal.find("c:Amt", ns)
            amount = _signed(amt_el, _text(bal, "c:CdtDbtInd", ns))
            bdate = _date(_text(bal, "c:Dt/c:Dt", ns) or _text(bal, "c:Dt/c:DtTm", ns))
            ccy = amt_el.get("Ccy") if amt_el is not None else None
            if code in OPENING_CODES and stmt.opening_balance is None:
                stmt.opening_balance, stmt.opening_date = amount, bdate
                stmt.currency = stmt.currency or ccy
            elif code in CLOSING_CODES:
                stmt.closing_balance, stmt.closing_date = amount, bdate
                if stmt.currency and ccy and ccy != stmt.currency:
                    bf.notes.append(
                        f"{stmt.statement_id}: closing balance in {ccy}, opening in {stmt.currency}"
                    )
        n_ctrl = _text(st, "c:TxsSummry/c:TtlNtries/c:NbOfNtries", ns)
        if n_ctrl and n_ctrl.isdigit():
            stmt.entry_count = int(n_ctrl)
        sum_ctrl = _text(st, "c:TxsSummry/c:TtlNtries/c:TtlNetNtry/c:Amt", ns)
        entries = st.findall("c:Ntry", ns)
        for n_idx, nt in enumerate(entries, start=1):
            row += 1
            bf.entries.append(_entry(nt, ns, row, stmt, s_idx, n_idx, facts))
        if sum_ctrl is not None:
            ind = _text(st, "c:TxsSummry/c:TtlNtries/c:TtlNetNtry/c:CdtDbtInd", ns)
            expected = _dec(sum_ctrl)
            if expected is not None:
                expected = -expected if ind == "DBIT" else expected
                actual = sum(
                    (
                        e.amount
                        for e in bf.entries
                        if e.statement_id == stmt.statement_id and e.amount is not None
                    ),
                    Decimal(0),
                )
                bf.controls.append(Control(stmt.statement_id, "net_amount", str(expected), str(actual)))
        if stmt.currency is None and entries:
            stmt.currency = next((e.currency for e in bf.entries if e.currency), None)
        bf.statements.append(stmt)
    if not bf.statements:
        raise IngestError(f"{facts.path.name}: camt.{msg} message without any {inner} element")
    return bf


def _entry(nt, ns, row: int, stmt: Statement, s_idx: int, n_idx: int, facts: FileFacts) -> Entry:
    amt_el = next(iter(_xpath("c:Amt", ns["c"])(nt)), None)
    ind = _text(nt, "c:CdtDbtInd", ns)
    amount = _signed(amt_el, ind)
    rev = (_text(nt, "c:RvslInd", ns) or "").lower() == "true"
    txs = _xpath("c:NtryDtls/c:TxDtls", ns["c"])(nt)
    tx = txs[0] if txs else None
    # The counterparty is the other side: the debtor of a credit, the creditor of a debit.
    credit = ind == "CRDT"
    if rev:
        credit = not credit  # a reversed credit is booked as a debit; parties keep their roles
    party, party_acct = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    cp_name = cp_acct = e2e = sref = None
    texts = []
    if tx is not None:
        cp_name = _text(tx, f"c:RltdPties/c:{party}/c:Pty/c:Nm", ns) or _text(
            tx, f"c:RltdPties/c:{party}/c:Nm", ns
        )
        cp_acct = _text(tx, f"c:RltdPties/c:{party_acct}/c:Id/c:IBAN", ns) or _text(
            tx, f"c:RltdPties/c:{party_acct}/c:Id/c:Othr/c:Id", ns
        )
        e2e = _text(tx, "c:Refs/c:EndToEndId", ns)
        if e2e == "NOTPROVIDED":
            e2e = None
        sref = _text(tx, "c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref", ns)
    for t in txs:
        texts += [u.text.strip() for u in _xpath("c:RmtInf/c:Ustrd", ns["c"])(t) if u.text and u.text.strip()]
    info = _text(nt, "c:AddtlNtryInf", ns)
    if info:
        texts.append(info)
    dom = [
        _text(nt, p, ns)
        for p in ("c:BkTxCd/c:Domn/c:Cd", "c:BkTxCd/c:Domn/c:Fmly/c:Cd", "c:BkTxCd/c:Domn/c:Fmly/c:SubFmlyCd")
    ]
    code = "-".join(x for x in dom if x) or _text(nt, "c:BkTxCd/c:Prtry/c:Cd", ns)
    ref = (
        _text(nt, "c:AcctSvcrRef", ns)
        or _text(nt, "c:NtryRef", ns)
        or (_text(tx, "c:Refs/c:AcctSvcrRef", ns) if tx is not None else None)
        or (_text(tx, "c:Refs/c:TxId", ns) if tx is not None else None)
    )
    e = Entry(
        source_row=row,
        account_id=stmt.account_id,
        statement_id=stmt.statement_id,
        booking_date=_date(_text(nt, "c:BookgDt/c:Dt", ns) or _text(nt, "c:BookgDt/c:DtTm", ns)),
        value_date=_date(_text(nt, "c:ValDt/c:Dt", ns) or _text(nt, "c:ValDt/c:DtTm", ns)),
        amount=amount,
        currency=amt_el.get("Ccy") if amt_el is not None else None,
        bank_ref=ref,
        counterparty_name=cp_name,
        counterparty_account=cp_acct,
        remittance_text=" | ".join(texts) or None,
        end_to_end_id=e2e,
        structured_reference=sref,
        bank_tx_code=code,
        is_reversal=rev,
        source_position=f"stmt {s_idx} entry {n_idx}",
        raw={
            "line": nt.sourceline,
            "amount": amt_el.text if amt_el is not None else None,
            "indicator": ind,
            "ref": ref,
        },
    )
    if amount is None:
        shown = amt_el.text if amt_el is not None else "missing"
        e.error = f"amount: not an amount ({shown}) or no CdtDbtInd, line {nt.sourceline}"
        e.error_column = "amount"
    elif e.booking_date is None:
        e.error, e.error_column = f"booking_date: missing or not a date, line {nt.sourceline}", "booking_date"
    return e


def _text(el, path: str, ns) -> str | None:
    """The stripped text of the first element at `path` under `el` (what `el.find(path, ns)`
    returns: XPath and ElementPath both yield document order), or None."""
    if el is None:
        return None
    hits = _xpath(path, ns["c"])(el)
    if not hits or hits[0].text is None:
        return None
    return hits[0].text.strip() or None


@functools.lru_cache(maxsize=1024)
def _xpath(path: str, ns_uri: str) -> etree.XPath:
    # Compiled once per path and namespace: an ElementPath `find` parses its path on every call.
    return etree.XPath(path, namespaces={"c": ns_uri})


def _dec(s: str | None) -> Decimal | None:
    try:
        return Decimal(s.strip()) if s else None
    except InvalidOperation:
        return None


def _signed(amt_el, ind: str | None) -> Decimal | None:
    if amt_el is None or ind not in ("CRDT", "DBIT"):
        return None
    d = _dec(amt_el.text)
    if d is None:
        return None
    return d if ind == "CRDT" else -d


def _date(s: str | None) -> date | None:
    if not s:
        return None
    try:
        return date.fromisoformat(s[:10])
    except ValueError:
        return None
