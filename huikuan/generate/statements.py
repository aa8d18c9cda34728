"""Bank statement files per account and month: ICBC GBK CSV, CMB camt.053.001.08, HSBC MT940.

Each function formats one account's lines month by month (vectorized) and writes one file per month;
opening + credits - debits = closing holds for every file, and the CSV carries the running balance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from huikuan.generate import writers as w
from huikuan.generate.calendar import to_date

COMPANY_CN = "北京华筑工程科技股份有限公司"
COMPANY_EN = "BEIJING HUAZHU ENGINEERING TECHNOLOGY CO LTD"
ICBC_HEADER = [
    "交易日期",
    "交易流水号",
    "摘要",
    "交易金额(收入)",
    "交易金额(支出)",
    "交易币种",
    "余额",
    "对方户名",
    "对方账户",
    "附言",
]


def _months(lines: dict, months: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges per month (lines sorted by day); months given as month indexes."""
    first = np.searchsorted(lines["month"], months, side="left")
    last = np.searchsorted(lines["month"], months, side="right")
    return list(zip(first.tolist(), last.tolist(), strict=True))


def _period(month: int, as_of: int) -> tuple[int, int]:
    start = int(np.datetime64(int(month), "M").astype("datetime64[D]").astype(np.int64))
    end = int(np.datetime64(int(month) + 1, "M").astype("datetime64[D]").astype(np.int64)) - 1
    return start, min(end, as_of)


def _dec(cents: int) -> str:
    """Exact two-decimal text for non-negative integer cents."""
    return f"{cents // 100}.{cents % 100:02d}"


def _slice(lines: dict, a: int, b: int) -> dict:
    return {k: v[a:b] for k, v in lines.items()}


def _icbc_rows(lines: dict) -> pa.Array:
    amt = lines["amount"]
    tab = lambda a: w.cat(pc.fill_null(a, ""), "\t")
    cols = [
        tab(w.fmt_date(lines["day"])),
        tab(w.sarr(lines["key"])),
        tab(w.sarr(lines["summary"])),
        tab(w.fmt_cents(amt, thousands=True, mask=amt < 0)),
        tab(w.fmt_cents(amt, thousands=True, absolute=True, mask=amt > 0)),
        tab(pa.array(["人民币"] * len(amt), pa.string())),
        tab(w.fmt_cents(lines["balance"], thousands=True)),
        tab(w.sarr(lines["cp_name"])),
        tab(w.sarr(lines["cp_account"])),
        tab(w.sarr(lines["text"])),
    ]
    return (
        pc.binary_join_element_wise(*[w.csv_quote(c) for c in cols], ",")
        if len(amt)
        else pa.array([], pa.string())
    )


def write_icbc(
    out: Path, acc, lines: dict, months: np.ndarray, opening: int, as_of: int
) -> list[tuple[Path, tuple[int, str]]]:
    """ICBC online-banking detail export: title lines, then one row per transaction, GBK, CRLF."""
    files = []
    bal = opening
    for m, (a, b) in zip(months.tolist(), _months(lines, months), strict=True):
        start, end = _period(m, as_of)
        head = (
            f'明细查询文件下载\r\n\r\n账号: {acc.number},"户名: {COMPANY_CN}"\r\n\r\n'
            f"币种: 人民币,起始日期: {to_date(start)},截止日期: {to_date(end)}\r\n\r\n"
            + ",".join(ICBC_HEADER)
            + "\r\n"
        )
        body = w.join_lines(_icbc_rows(_slice(lines, a, b)), "\r\n")
        text = head + body + ("\r\n" if b > a else "")
        ym = str(to_date(start))[:7].replace("-", "")
        path = out / f"icbc_{acc.number}_{ym}.csv"
        files.append((path, w.write_bytes(path, text.encode("gbk"))))
        bal = int(lines["balance"][b - 1]) if b > a else bal
    return files


def _camt_entries(lines: dict, ccy: str) -> pa.Array:
    n = len(lines["amount"])
    amt = lines["amount"]
    credit = amt > 0
    ind = pa.array(np.where(credit, "CRDT", "DBIT"))
    a_txt = w.fmt_cents(amt, absolute=True)
    day = w.fmt_date(lines["day"])
    vday = w.fmt_date(lines["value_day"])
    key = w.xml_escape(lines["key"])
    name = w.xml_escape(lines["cp_name"])
    acct = w.xml_escape(lines["cp_account"])
    text = w.xml_escape(lines["text"])
    e2e = w.xml_escape(np.where(lines["e2e"] == None, "NOTPROVIDED", lines["e2e"]))
    sref = lines["structured_ref"]
    has_name = pc.not_equal(name, "")
    party_tag = pa.array(np.where(credit, "Dbtr", "Cdtr"))
    fmly = pa.array(np.where(credit, "RCDT", "ICDT"))
    dom = pa.array(np.where(np.isin(lines["tx_code"], ["CHRG", "INT"]), "ACMT", "PMNT"))
    rltd = (
        w.opt(
            has_name,
            w.cat(
                "<RltdPties><",
                party_tag,
                "><Pty><Nm>",
                name,
                "</Nm></Pty></",
                party_tag,
                ">",
                w.opt(
                    pc.not_equal(acct, ""),
                    w.cat(
                        "<", party_tag, "Acct><Id><Othr><Id>", acct, "</Id></Othr></Id></", party_tag, "Acct>"
                    ),
                ),
                "</RltdPties>",
            ),
        )
        if n
        else pa.array([], pa.string())
    )
    strd = (
        w.opt(
            sref != None,
            w.cat(
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>",
                w.xml_escape(sref),
                "</Ref></CdtrRefInf></Strd>",
            ),
        )
        if n
        else pa.array([], pa.string())
    )
    return (
        w.cat(
            '      <Ntry>\n        <Amt Ccy="',
            ccy,
            '">',
            a_txt,
            "</Amt>\n        <CdtDbtInd>",
            ind,
            "</CdtDbtInd>\n        <Sts><Cd>BOOK</Cd></Sts>\n        <BookgDt><Dt>",
            day,
            "</Dt></BookgDt>\n        <ValDt><Dt>",
            vday,
            "</Dt></ValDt>\n        <AcctSvcrRef>",
            key,
            "</AcctSvcrRef>\n        <BkTxCd><Domn><Cd>",
            dom,
            "</Cd><Fmly><Cd>",
            fmly,
            "</Cd><SubFmlyCd>OTHR</SubFmlyCd></Fmly></Domn></BkTxCd>\n        <NtryDtls><TxDtls>"
            "\n          <Refs><AcctSvcrRef>",
            key,
            "</AcctSvcrRef><EndToEndId>",
            e2e,
            '</EndToEndId></Refs>\n          <Amt Ccy="',
            ccy,
            '">',
            a_txt,
            "</Amt>\n          <CdtDbtInd>",
            ind,
            "</CdtDbtInd>\n          ",
            rltd,
            "\n          <RmtInf><Ustrd>",
            text,
            "</Ustrd>",
            strd,
            "</RmtInf>\n        </TxDtls></NtryDtls>\n      </Ntry>",
        )
        if n
        else pa.array([], pa.string())
    )


def write_camt(
    out: Path, acc, lines: dict, months: np.ndarray, opening: int, as_of: int
) -> list[tuple[Path, tuple[int, str]]]:
    """camt.053.001.08: one statement per month with OPBD/CLBD balances and a transaction summary."""
    amt = lines["amount"]
    ccy = acc.currency
    files = []
    bal = opening
    for seq, (m, (a, b)) in enumerate(zip(months.tolist(), _months(lines, months), strict=True), start=1):
        start, end = _period(m, as_of)
        seg = amt[a:b]
        close = bal + int(seg.sum())
        cr, dr = seg[seg > 0], seg[seg < 0]
        ym = str(to_date(start))[:7].replace("-", "")
        stmt_id = f"{acc.number}-{ym}"

        def bal_xml(code, value, d):
            return (
                f"      <Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
                f'<Amt Ccy="{ccy}">{_dec(abs(value))}</Amt>'
                f"<CdtDbtInd>{'CRDT' if value >= 0 else 'DBIT'}</CdtDbtInd>"
                f"<Dt><Dt>{to_date(d)}</Dt></Dt></Bal>\n"
            )

        net = int(seg.sum())
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">\n'
            "  <BkToCstmrStmt>\n"
            f"    <GrpHdr><MsgId>CMB{acc.number}{ym}</MsgId><CreDtTm>{to_date(end)}T23:59:59+08:00</CreDtTm>"
            "<MsgPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></MsgPgntn></GrpHdr>\n"
            f"    <Stmt>\n      <Id>{stmt_id}</Id>\n      <ElctrncSeqNb>{seq}</ElctrncSeqNb>\n"
            f"      <CreDtTm>{to_date(end)}T23:59:59+08:00</CreDtTm>\n"
            f"      <FrToDt><FrDtTm>{to_date(start)}T00:00:00+08:00</FrDtTm>"
            f"<ToDtTm>{to_date(end)}T23:59:59+08:00</ToDtTm></FrToDt>\n"
            f"      <Acct><Id><Othr><Id>{acc.number}</Id></Othr></Id><Ccy>{ccy}</Ccy>"
            f"<Ownr><Nm>{COMPANY_CN}</Nm></Ownr><Svcr><FinInstnId><BICFI>CMBCCNBS</BICFI>"
            f"<Nm>{acc.bank_name}</Nm></FinInstnId></Svcr></Acct>\n"
            + bal_xml("OPBD", bal, start - 1)
            + bal_xml("CLBD", close, end)
            + "      <TxsSummry>"
            f"<TtlNtries><NbOfNtries>{b - a}</NbOfNtries><Sum>{_dec(int(cr.sum() - dr.sum()))}</Sum>"
            f"<TtlNetNtry><Amt>{_dec(abs(net))}</Amt><CdtDbtInd>{'CRDT' if net >= 0 else 'DBIT'}"
            "</CdtDbtInd></TtlNetNtry></TtlNtries>"
            f"<TtlCdtNtries><NbOfNtries>{len(cr)}</NbOfNtries><Sum>{_dec(int(cr.sum()))}</Sum></TtlCdtNtries>"
            f"<TtlDbtNtries><NbOfNtries>{len(dr)}</NbOfNtries><Sum>{_dec(int(-dr.sum()))}</Sum></TtlDbtNtries>"
            "</TxsSummry>\n"
        )
        body = w.join_lines(_camt_entries(_slice(lines, a, b), ccy), "\n")
        text = head + body + ("\n" if b > a else "") + "    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n"
        path = out / f"cmb_{acc.number}_{ym}.xml"
        files.append((path, w.write_bytes(path, text.encode("utf-8"))))
        bal = close
    return files


def _wrap(col: pa.Array, width: int = 65, max_lines: int = 6) -> pa.Array:
    """Split text into SWIFT lines of `width` characters (at most `max_lines`)."""
    col = pc.utf8_slice_codeunits(col, 0, width * max_lines)
    out = pc.utf8_slice_codeunits(col, 0, width)
    for i in range(1, max_lines):
        piece = pc.utf8_slice_codeunits(col, width * i, width * (i + 1))
        out = pc.if_else(pc.equal(piece, ""), out, pc.binary_join_element_wise(out, piece, "\n"))
    return out


def swift_clean(col) -> pa.Array:
    """Keep the SWIFT X character set: letters, digits and / - ? : ( ) . , ' + space."""
    col = pc.fill_null(w.sarr(col), "")
    col = pc.replace_substring_regex(col, "[;&_]", ",")
    return pc.replace_substring_regex(col, r"[^A-Za-z0-9/\-?:().,'+ ]", "")


def _mt940_entries(lines: dict) -> pa.Array:
    n = len(lines["amount"])
    amt = lines["amount"]
    cd = pa.array(np.where(amt > 0, "C", "D"))
    code = pa.array(np.select([lines["tx_code"] == "CHRG", lines["tx_code"] == "INT"], ["CHG", "INT"], "TRF"))
    e2e = lines["e2e"]
    custref = pa.array(np.where(e2e == None, "NONREF", e2e).astype(object), pa.string())
    name = swift_clean(lines["cp_name"])
    acct = swift_clean(lines["cp_account"])
    text = swift_clean(lines["text"])
    structured = pa.array(lines["mt_structured"])
    info = (
        pc.if_else(
            structured,
            w.cat(
                "/EREF/",
                custref,
                "/CNTP/",
                acct,
                "/",
                pc.replace_substring(name, "/", " "),
                "/REMI/",
                pc.replace_substring(text, "/", " "),
            ),
            pc.binary_join_element_wise(name, text, " "),
        )
        if n
        else pa.array([], pa.string())
    )
    return (
        w.cat(
            ":61:",
            w.fmt_yymmdd(lines["day"]),
            pc.utf8_slice_codeunits(w.fmt_yymmdd(lines["value_day"]), 2, 6),
            cd,
            w.fmt_cents(amt, decimal=",", absolute=True),
            "N",
            code,
            custref,
            "//",
            w.sarr(lines["key"]),
            "\n",
            _wrap(w.cat(":86:", info)),
        )
        if n
        else pa.array([], pa.string())
    )


def write_mt940(
    out: Path, acc, lines: dict, months: np.ndarray, opening: int, as_of: int
) -> list[tuple[Path, tuple[int, str]]]:
    """MT940 customer statements: :20: :25: :28C: :60F: (:61: :86:)* :62F:, one per month."""
    amt = lines["amount"]
    files = []
    bal = opening
    ccy = acc.currency
    for seq, (m, (a, b)) in enumerate(zip(months.tolist(), _months(lines, months), strict=True), start=1):
        start, end = _period(m, as_of)
        close = bal + int(amt[a:b].sum())
        ym = str(to_date(start))[:7].replace("-", "")

        def balance(tag, value, d):
            yymmdd = str(to_date(d)).replace("-", "")[2:]
            return f":{tag}:{'C' if value >= 0 else 'D'}{yymmdd}{ccy}{abs(value) // 100},{abs(value) % 100:02d}\n"

        head = f":20:STMT{ym}{ccy}\n:25:{acc.number}\n:28C:{seq:05d}/1\n" + balance("60F", bal, start - 1)
        body = w.join_lines(_mt940_entries(_slice(lines, a, b)), "\n")
        text = head + body + ("\n" if b > a else "") + balance("62F", close, end) + "-\n"
        path = out / f"hsbc_{acc.number}_{ccy}_{ym}.sta"
        files.append((path, w.write_bytes(path, text.encode("ascii"))))
        bal = close
    return files
