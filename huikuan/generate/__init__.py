"""Realistic, deterministic demo data: ERP, invoicing and bank extracts plus the ground truth.

`generate(out, invoices, seed, as_of)` writes the layout described in docs/generator.md:
landing/erp, landing/invoicing, landing/bank (ICBC GBK CSV, CMB camt.053, HSBC MT940), truth/ and
manifest.json. Same seed and as_of give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from huikuan.contracts import CONTRACTS, INVOICE_EVENT_TYPES
from huikuan.generate import bank as bk
from huikuan.generate import ledger as lg
from huikuan.generate import names as nm
from huikuan.generate import statements as st
from huikuan.generate import writers as w
from huikuan.generate.calendar import Calendar, day_number, month_index

__all__ = ["auc", "generate", "noise_floor_mae"]

ERP_CLEARING_LAG_DAYS = 15  # the ERP has applied payments booked at least this long before as_of
LINK_KINDS = np.array(["full", "partial", "combined", "fee_short", "net_of_credit"], dtype=object)
RECEIPT_KINDS = LINK_KINDS


def _months_back(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    return dt.date(y, m + 1, min(d.day, 28))


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by ranks (ties averaged)."""
    y = np.asarray(y, bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    order = np.argsort(score, kind="stable")
    s = np.asarray(score)[order]
    ranks = np.empty(len(s))
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def noise_floor_mae(days_to_pay: np.ndarray, terms: np.ndarray, expected_delay: np.ndarray) -> float:
    """MAE of the best prediction known at issue, terms + expected days late, against actual days to pay."""
    if len(days_to_pay) == 0:
        return float("nan")
    return float(np.mean(np.abs(days_to_pay - (terms + expected_delay))))


def _time_of_day(rng, n: int, lo_h: float, hi_h: float) -> np.ndarray:
    return (rng.uniform(lo_h, hi_h, n) * 3600).astype(np.int64)


def generate(out: Path, invoices: int, seed: int, as_of: dt.date) -> dict:
    """Write a complete dataset under `out` and return its statistics (also in manifest.json)."""
    if invoices < 50:
        raise ValueError(f"invoices must be at least 50 (got {invoices})")
    out = Path(out)
    rng = np.random.Generator(np.random.PCG64(seed))
    today = day_number(as_of)
    window_start = day_number(_months_back(as_of, 36)) + 1
    cal = Calendar(window_start - lg.CARRY_DAYS - 30, today + 4000)

    n_cust = max(20, invoices // 40)
    n_sales = max(5, n_cust // 15)
    sales = lg.build_salespeople(rng, n_sales)
    cust, variants = lg.build_customers(rng, n_cust, sales, today, window_start)
    n_credit = round(lg.CREDIT_NOTE_SHARE * invoices)
    n_cancel = round(lg.CANCEL_SHARE * invoices)
    n_std = invoices - n_credit - n_cancel
    contracts, ms, proj_first = lg.build_contracts(rng, n_std, cust, today, window_start, cal)
    projects = lg.build_projects(rng, contracts, proj_first, cust, today)
    inv = lg.build_invoices(rng, cust, contracts, ms, n_cancel, n_credit, today, cal)

    std = np.flatnonzero(inv["kind"] == 0)
    k_std = inv["k_cust"][std]
    fx = np.array([lg.FX_TO_CNY[c] for c in ("CNY", "USD", "EUR", "HKD")])
    ccy_code = {"CNY": 0, "USD": 1, "EUR": 2, "HKD": 3}
    inv_ccy = np.select([inv["currency"] == c for c in ccy_code], list(ccy_code.values()), 0)
    gross_cny = inv["gross"][std] / 100.0 * fx[inv_ccy[std]]
    beh = lg.payment_behaviour(
        rng,
        cust,
        k_std,
        inv["issue"][std],
        inv["due"][std],
        inv["terms"][std],
        gross_cny,
        ms["type"][inv["ms_row"][std]],
        cal,
    )

    receipts, links, settle = bk.build_receipts(
        rng, cust, inv, beh, variants, today, cal, contracts=contracts, ms=ms, projects=projects
    )
    sup_cn = np.array(
        [
            nm.company_name(rng, "private", c, i, "CNY")[0]
            for c, i in zip(
                nm.pick(rng, [c[0] for c in nm.CITIES], max(30, n_cust // 4)),
                nm.pick(rng, ["建筑业", "制造业", "信息技术", "电力能源"], max(30, n_cust // 4)),
                strict=True,
            )
        ],
        dtype=object,
    )
    sup_en = np.array(
        [
            nm.company_name(rng, "foreign", "上海", "制造业", c)[0]
            for c in nm.pick(rng, ["USD", "EUR", "HKD"], 30)
        ],
        dtype=object,
    )
    first_bank_day = window_start
    others = bk.other_lines(rng, receipts, cust, first_bank_day, today, cal, sup_cn, sup_en)

    lines = _assemble_lines(rng, receipts, others, cust, today)
    del others  # copied into `lines`
    receipts.pop("text")  # now held once, compactly, in `lines`
    stats = _write_all(
        out,
        rng,
        seed,
        as_of,
        today,
        sales,
        cust,
        contracts,
        ms,
        projects,
        inv,
        beh,
        receipts,
        links,
        settle,
        lines,
        cal,
    )
    return stats


def _assemble_lines(rng, r: dict, o: dict, cust: dict, today: int) -> dict:
    """One table of bank lines over all accounts: sorted, keyed, with running balances."""
    n_r, n_o = len(r["day"]), len(o["day"])
    cat = lambda a, b: np.concatenate([np.asarray(a, dtype=object), np.asarray(b, dtype=object)])
    L = {
        "account": np.concatenate([r["account"], o["account"]]).astype(np.int64),
        "day": np.concatenate([r["day"], o["day"]]).astype(np.int64),
        "amount": np.concatenate([r["amount"], o["amount"]]).astype(np.int64),
        "category": np.concatenate([np.zeros(n_r, np.int64), o["category"]]).astype(np.int64),
        "cp_name": cat(r["cp_name"], o["cp_name"]),
        "cp_account": cat(r["cp_account"], o["cp_account"]),
        "text": cat(r["text"], o["text"]),
        "receipt": np.concatenate([np.arange(n_r), np.full(n_o, -1)]),
    }
    foreign = np.array([bk.ACCOUNTS[a].currency != "CNY" for a in range(len(bk.ACCOUNTS))])[L["account"]]
    cross_bank = (rng.random(n_r) >= 0.5).astype(np.int64)
    summary_r = np.array(["汇入", "跨行汇款", "TRF"], dtype=object)[np.where(foreign[:n_r], 2, cross_bank)]
    L["summary"] = cat(summary_r, o["summary"])
    L["tx_code"] = cat(np.full(n_r, "RCDT", dtype=object), o["tx_code"])
    n = n_r + n_o
    # value date: mostly the booking date, sometimes a day later for incoming transfers
    L["value_day"] = L["day"] + ((L["amount"] > 0) & (rng.random(n) < 0.1))
    e2e = np.full(n, None, dtype=object)
    has_e2e = (np.arange(n) < n_r) & (rng.random(n) < 0.45)
    ymd = np.asarray(L["day"]).astype("datetime64[D]").astype(str)
    e2e[has_e2e] = (
        "P"
        + np.char.replace(ymd[has_e2e], "-", "").astype(object)
        + np.char.zfill(rng.integers(0, 10**6, int(has_e2e.sum())).astype(str), 6).astype(object)
    )
    L["e2e"] = e2e
    sref = np.full(n, None, dtype=object)
    sref[:n_r] = r["structured_ref"]
    L["structured_ref"] = sref
    L["mt_structured"] = rng.random(n) < 0.5

    order = np.lexsort((rng.random(n), L["day"], L["account"]))
    L = {k: v[order] for k, v in L.items()}
    L["month"] = month_index(L["day"])
    L["text"] = w.sarr(L["text"])  # compact: the texts are unique strings
    # bank references: bank prefix, booking date, sequence within the account; MT940 allows 16
    # characters, so HSBC uses a two-digit year and seven digits
    first = np.searchsorted(L["account"], np.arange(len(bk.ACCOUNTS)))
    seq = pc.cast(pa.array(np.arange(n) - first[L["account"]] + 1), pa.string())
    ymd = pc.replace_substring(w.fmt_date(L["day"]), "-", "")
    hs = pa.array(np.array([a.bank == "hsbc" for a in bk.ACCOUNTS])[L["account"]])
    prefixes = pa.array([a.bank.upper() if a.bank != "hsbc" else "HS" + a.currency[0] for a in bk.ACCOUNTS])
    L["key"] = w.cat(
        w.take(prefixes, L["account"]),
        pc.if_else(hs, pc.utf8_slice_codeunits(ymd, 2, 8), ymd),
        pc.if_else(hs, pc.utf8_lpad(seq, 7, "0"), pc.utf8_lpad(seq, 8, "0")),
    )
    L["balance"] = np.zeros(n, np.int64)
    L["opening"] = {}
    for ai in range(len(bk.ACCOUNTS)):
        m = np.flatnonzero(L["account"] == ai)
        run = np.cumsum(L["amount"][m])
        # opening balance: enough that the account never goes overdrawn, in round 10,000s
        opening = int(max(0, -(run.min() if len(run) else 0)) // 1_000_000 * 1_000_000 + 50_000_000)
        L["opening"][ai] = opening
        L["balance"][m] = opening + run
    return L


def _write_all(
    out,
    rng,
    seed,
    as_of,
    today,
    sales,
    cust,
    contracts,
    ms,
    projects,
    inv,
    beh,
    receipts,
    links,
    settle,
    L,
    cal,
) -> dict:
    files: dict[str, tuple[int, str]] = {}
    erp, invd, bankd, truth = (
        out / "landing" / "erp",
        out / "landing" / "invoicing",
        out / "landing" / "bank",
        out / "truth",
    )
    for d in (erp, invd, bankd, truth):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.iterdir():  # a rerun into the same folder replaces, never mixes, outputs
            if old.is_file():
                old.unlink()

    def put(path: Path, header, cols, **kw):
        files[str(path.relative_to(out))] = w.write_csv(path, header, cols, **kw)

    def put_table(path: Path, header, index, make_columns, **kw):
        files[str(path.relative_to(out))] = w.write_table(path, header, index, make_columns, **kw)

    def contract_csv(folder, entity, data: dict, bom):
        names = CONTRACTS[entity].column_names
        missing = set(names) - set(data)
        if missing:
            raise RuntimeError(f"{entity}: generator lacks columns {sorted(missing)}")
        put(folder / f"{entity}.csv", names, [data[c] for c in names], bom=bom)

    n_c = len(cust["customer_id"])
    std = np.flatnonzero(inv["kind"] == 0)
    inv_no_pa = inv["invoice_no"]
    cid_pa = w.sarr(cust["customer_id"])
    # ---- customers: credit limit from last year's billing, created before the first contract
    year_ago = inv["issue"] >= today - 365
    billed = np.bincount(
        inv["k_cust"][year_ago & (inv["kind"] == 0)],
        weights=inv["gross"][year_ago & (inv["kind"] == 0)],
        minlength=n_c,
    )
    limit = np.maximum(np.ceil(billed * rng.uniform(0.25, 0.7, n_c) / 1_000_000) * 1_000_000, 5_000_000)
    limit = np.where(cust["customer_type"] == "individual", 2_000_000, limit).astype(np.int64)
    first_sign = np.full(n_c, today, np.int64)
    np.minimum.at(first_sign, contracts["k_cust"], contracts["signed"])
    created = first_sign - rng.integers(30, 1500, n_c)
    last_sign = np.full(n_c, -1, np.int64)
    np.maximum.at(last_sign, contracts["k_cust"], contracts["signed"])
    active = (last_sign >= today - 730) | (rng.random(n_c) < 0.3)
    parent_id = np.where(
        cust["parent_idx"] >= 0, cust["customer_id"][np.maximum(cust["parent_idx"], 0)], None
    )
    contract_csv(
        erp,
        "customers",
        {
            "customer_id": cust["customer_id"],
            "customer_name": cust["customer_name"],
            "tax_id": cust["tax_id"],
            "parent_customer_id": parent_id,
            "region": cust["region"],
            "industry": np.where(cust["industry"] == "", "个人", cust["industry"]),
            "customer_type": cust["customer_type"],
            "salesperson_id": cust["salesperson_id"],
            "payment_terms_days": pc.cast(pa.array(cust["payment_terms_days"]), pa.string()),
            "credit_limit": w.fmt_cents(limit),
            "currency": cust["currency"],
            "created_date": w.fmt_date(created),
            "is_active": pa.array(np.where(active, "true", "false")),
        },
        bom=True,
    )
    contract_csv(erp, "salespeople", sales, bom=True)
    cid = cust["customer_id"]
    contract_csv(
        erp,
        "projects",
        {
            "project_id": projects["project_id"],
            "project_name": projects["project_name"],
            "customer_id": cid[projects["k_cust"]],
            "project_manager": projects["project_manager"],
            "start_date": w.fmt_date(projects["start"]),
            "planned_end_date": w.fmt_date(projects["planned_end"]),
            "contract_value": w.fmt_cents(projects["value_cents"]),
            "currency": projects["currency"],
            "status": projects["status"],
        },
        bom=True,
    )
    contract_csv(
        erp,
        "contracts",
        {
            "contract_id": contracts["contract_id"],
            "project_id": projects["project_id"][contracts["proj_idx"]],
            "customer_id": cid[contracts["k_cust"]],
            "signed_date": w.fmt_date(contracts["signed"]),
            "contract_amount": w.fmt_cents(contracts["amount_cents"]),
            "currency": contracts["currency"],
            "payment_terms_days": pc.cast(pa.array(contracts["terms"]), pa.string()),
            "retention_pct": pc.cast(pa.array(contracts["retention_pct"].astype(np.int64)), pa.string()),
        },
        bom=True,
    )
    contract_csv(
        erp,
        "payment_milestones",
        {
            "milestone_id": ms["milestone_id"],
            "contract_id": contracts["contract_id"][ms["m_k"]],
            "seq": pc.cast(pa.array(ms["seq"]), pa.string()),
            "milestone_type": np.array(lg.MILESTONE_TYPES, dtype=object)[ms["type"]],
            "pct": w.fmt_fixed(ms["pct"], 2),
            "amount": w.fmt_cents(ms["amount_cents"]),
            "planned_date": w.fmt_date(ms["planned"]),
            "invoice_no": pc.if_else(
                pa.array(ms["invoice_row"] < 0),
                pa.nulls(len(ms["m_k"]), pa.string()),
                w.take(inv_no_pa, np.maximum(ms["invoice_row"], 0)),
            ),
        },
        bom=True,
    )

    # ---- invoices: ERP-applied cash (booked >= 15 days before as_of), status as the ERP sees it
    n_inv = len(inv["kind"])
    r_day = receipts["day"][links["r"]]
    erp_seen = r_day <= today - ERP_CLEARING_LAG_DAYS
    cleared = np.zeros(n_inv, np.int64)
    np.add.at(cleared, links["inv_row"][erp_seen], (links["applied"] + links["short"])[erp_seen])
    cleared_day = np.full(n_inv, -1, np.int64)
    np.maximum.at(cleared_day, links["inv_row"][erp_seen], r_day[erp_seen])
    # full reversals: the credit note clears the invoice without cash
    bc = std[settle["by_credit"]]
    cn_rows = settle["cn_of"][settle["by_credit"]]
    bc_day = inv["issue"][cn_rows]
    seen = bc_day <= today - ERP_CLEARING_LAG_DAYS
    cleared[bc[seen]] = inv["gross"][bc[seen]]
    cleared[cn_rows[seen]] = inv["gross"][cn_rows[seen]]
    cleared_day[bc[seen]] = bc_day[seen]
    cleared_day[cn_rows[seen]] = bc_day[seen]

    defaulted = np.zeros(n_inv, bool)
    defaulted[std] = beh["defaulted"]
    disputed = np.zeros(n_inv, bool)
    disputed[std] = beh["disputed"]
    wo_day = np.where(defaulted, inv["due"] + rng.integers(300, 500, n_inv), -1)
    written_off = defaulted & (wo_day <= today)
    status = np.where(
        cleared == 0, "issued", np.where(cleared == inv["gross"], "paid", "partially_paid")
    ).astype(object)
    status[written_off] = "written_off"
    status[inv["kind"] == 1] = "cancelled"
    orig_row = np.where(inv["original"] >= 0, std[np.maximum(inv["original"], 0)], -1)
    ms_id_pa = ms["milestone_id"]
    proj_pa = w.sarr(projects["project_id"])
    contract_pa = w.sarr(contracts["contract_id"])
    kinds_pa = pa.array(["standard", "standard", "credit_note"], pa.string())
    order = np.lexsort((inv["seq"], inv["year"]))  # file order: by invoice number

    def invoice_columns(ix):
        k = inv["k_contract"][ix]
        is_cn = inv["kind"][ix] == 2
        orow = orig_row[ix]
        return [
            w.take(inv_no_pa, ix),
            w.take(kinds_pa, inv["kind"][ix]),
            w.take(cid_pa, inv["k_cust"][ix]),
            w.take(proj_pa, contracts["proj_idx"][k]),
            w.take(contract_pa, k),
            pc.if_else(pa.array(is_cn), pa.nulls(len(ix), pa.string()), w.take(ms_id_pa, inv["ms_row"][ix])),
            w.fmt_date(inv["issue"][ix]),
            w.fmt_date(inv["due"][ix]),
            inv["currency"][ix],
            w.fmt_cents(inv["net"][ix]),
            w.fmt_cents(inv["tax"][ix]),
            w.fmt_cents(inv["gross"][ix]),
            w.fmt_fixed(inv["rate"][ix], 2),
            pc.if_else(
                pa.array(orow < 0), pa.nulls(len(ix), pa.string()), w.take(inv_no_pa, np.maximum(orow, 0))
            ),
            status[ix],
            w.fmt_date(cleared_day[ix]),
            w.fmt_cents(cleared[ix], mask=cleared_day[ix] < 0),
        ]

    put_table(invd / "invoices.csv", CONTRACTS["invoices"].column_names, order, invoice_columns)

    # ---- invoice events (types and actors as codes; text only per written chunk)
    ev_rows, ev_type, ev_day, ev_sec, ev_actor = [], [], [], [], []
    sp_pos = {s: i for i, s in enumerate(sales["salesperson_id"].tolist())}
    n_sp = len(sp_pos)
    owner = np.array([sp_pos[s] for s in cust["salesperson_id"].tolist()], np.int64)[inv["k_cust"]]
    actors = pa.array(
        list(sales["email"])
        + [
            "finance.zhao@corp.example.cn",
            "finance.qian@corp.example.cn",
            "finance.sun@corp.example.cn",
            "tax-invoice-system",
            "customer",
            "finance.manager@corp.example.cn",
        ],
        pa.string(),
    )
    system, customer, manager = n_sp + 3, n_sp + 4, n_sp + 5
    clerk = n_sp + rng.integers(0, 3, n_inv)
    type_code = {t: i for i, t in enumerate(INVOICE_EVENT_TYPES)}
    issue = inv["issue"]
    all_rows = np.arange(n_inv)

    def ev(rows, etype, days, lo, hi, actor):
        ev_rows.append(rows.astype(np.int32))
        ev_type.append(np.full(len(rows), type_code[etype], np.int8))
        ev_day.append(np.asarray(days, np.int32))
        ev_sec.append(_time_of_day(rng, len(rows), lo, hi).astype(np.int32))
        ev_actor.append(
            np.full(len(rows), actor, np.int32) if np.ndim(actor) == 0 else actor[rows].astype(np.int32)
        )

    created = issue - rng.integers(0, 4, n_inv)
    ev(all_rows, "created", created, 8.5, 10, owner)
    ev(all_rows, "approved", np.maximum(issue - rng.integers(0, 2, n_inv), created), 10, 12, clerk)
    ev(all_rows, "issued", issue, 13, 15, system)
    live = np.flatnonzero(inv["kind"] == 0)
    sent = issue[live] + rng.integers(0, 4, len(live))
    ev(live, "sent", sent, 15, 17.5, owner)
    acked = rng.random(len(live)) < 0.85
    ack = live[acked]
    ack_day = sent[acked] + rng.integers(1, 11, len(ack))
    ev(ack, "acknowledged", ack_day, 9, 18, customer)
    dis = np.flatnonzero(disputed)
    d_day = issue[dis] + rng.integers(15, 45, len(dis))
    ev(dis, "disputed", d_day, 9, 18, customer)
    res = ~defaulted[dis]
    r_day2 = d_day[res] + rng.integers(30, 90, int(res.sum()))
    ev(dis[res], "dispute_resolved", r_day2, 9, 18, owner)
    can = np.flatnonzero(inv["kind"] == 1)
    ev(can, "cancelled", inv["cancel_at"][can], 9, 18, clerk)
    wo = np.flatnonzero(written_off)
    ev(wo, "written_off", wo_day[wo], 9, 18, manager)
    ed = np.concatenate(ev_day)
    keep = ed <= today
    ed = ed[keep]
    er = np.concatenate(ev_rows)[keep]
    es = np.concatenate(ev_sec)[keep]
    et = np.concatenate(ev_type)[keep]
    ea = np.concatenate(ev_actor)[keep]
    for parts in (ev_rows, ev_type, ev_day, ev_sec, ev_actor):
        parts.clear()
    eo = np.lexsort((es, ed, inv["seq"][er], inv["year"][er]))
    types_pa = pa.array(INVOICE_EVENT_TYPES, pa.string())
    put_table(
        invd / "invoice_events.csv",
        CONTRACTS["invoice_events"].column_names,
        eo,
        lambda ix: [
            w.take(inv_no_pa, er[ix]),
            w.take(types_pa, et[ix]),
            w.fmt_timestamp(ed[ix], es[ix]),
            w.take(actors, ea[ix]),
        ],
    )
    n_events = len(er)
    er = ed = es = et = ea = eo = keep = None  # the largest table: free it before the bank files

    # ---- bank statement files
    months = np.arange(
        month_index(np.array([day_number(_months_back(as_of, 36)) + 1]))[0],
        month_index(np.array([today]))[0] + 1,
    )
    writers = {"icbc": st.write_icbc, "cmb": st.write_camt, "hsbc": st.write_mt940}
    for ai, acc in enumerate(bk.ACCOUNTS):
        a, b = np.searchsorted(L["account"], [ai, ai + 1])  # lines are sorted by account
        part = {k: v[a:b] for k, v in L.items() if isinstance(v, (np.ndarray, pa.Array))}
        for path, info in writers[acc.bank](bankd, acc, part, months, L["opening"][ai], today):
            files[str(path.relative_to(out))] = info

    # ---- truth
    rk = L["receipt"]
    is_r = rk >= 0
    line_of_receipt = np.full(len(receipts["day"]), -1)
    line_of_receipt[rk[is_r]] = np.flatnonzero(is_r)
    acct_ids = pa.array([a.number for a in bk.ACCOUNTS], pa.string())
    acct_ccy = pa.array([a.currency for a in bk.ACCOUNTS], pa.string())
    categories = pa.array(bk.CATEGORIES, pa.string())
    tf = pa.array(["false", "true"], pa.string())
    receipt_kinds = pa.array(list(RECEIPT_KINDS), pa.string())
    variant_kinds = w.sarr(receipts["variant_kind"])

    def bank_line_columns(ix):  # formatted per chunk: the largest truth table
        r = rk[ix]
        nr = pa.array(r < 0)
        rr = np.maximum(r, 0)
        none = pa.nulls(len(ix), pa.string())

        def receipt_only(col):
            return pc.if_else(nr, none, col)

        return [
            w.take(L["key"], ix),
            w.take(acct_ids, L["account"][ix]),
            w.fmt_date(L["day"][ix]),
            w.fmt_cents(L["amount"][ix]),
            w.take(acct_ccy, L["account"][ix]),
            w.take(categories, L["category"][ix]),
            receipt_only(w.take(cid_pa, receipts["k"][rr])),
            receipt_only(w.take(cid_pa, receipts["payer"][rr])),
            receipt_only(w.take(tf, receipts["has_ref"][rr])),
            receipt_only(w.take(variant_kinds, rr)),
            receipt_only(w.take(receipt_kinds, receipts["kind"][rr])),
        ]

    put_table(
        truth / "bank_lines.csv",
        [
            "bank_txn_key",
            "account_id",
            "booking_date",
            "amount",
            "currency",
            "category",
            "true_customer_id",
            "payer_customer_id",
            "has_invoice_ref",
            "payer_variant_kind",
            "receipt_kind",
        ],
        np.arange(len(rk)),
        bank_line_columns,
    )
    by_parent = receipts["by_parent"][links["r"]]
    link_kinds = pa.array([*LINK_KINDS, "parent_pays"], pa.string())
    lkind = np.where(by_parent & (links["kind"] == 0), len(LINK_KINDS), links["kind"])
    lo = np.lexsort((inv["seq"][links["inv_row"]], line_of_receipt[links["r"]]))
    put_table(
        truth / "payment_links.csv",
        ["bank_txn_key", "invoice_no", "applied_amount", "link_kind", "short_amount", "paid_by_parent"],
        lo,
        lambda ix: [
            w.take(L["key"], line_of_receipt[links["r"]][ix]),
            w.take(inv_no_pa, links["inv_row"][ix]),
            w.fmt_cents(links["applied"][ix]),
            w.take(link_kinds, lkind[ix]),
            w.fmt_cents(links["short"][ix]),
            w.take(tf, by_parent[ix]),
        ],
    )

    paid_day = settle["paid_day"]
    paid = paid_day >= 0
    paid_by_as_of = paid & (paid_day <= today)
    days_to_pay = np.where(paid, paid_day - inv["issue"][std], -1)
    days_late = np.where(paid, paid_day - inv["due"][std], 0)
    tf = pa.array(["false", "true"], pa.string())

    def outcome_columns(ix):  # ix: positions among standard invoices
        rows = std[ix]
        unpaid = pa.array(~paid[ix])
        return [
            w.take(inv_no_pa, rows),
            w.take(cid_pa, inv["k_cust"][rows]),
            w.fmt_date(inv["issue"][rows]),
            w.fmt_date(inv["due"][rows]),
            w.fmt_fixed(beh["expected_delay"][ix], 2),
            pc.cast(pa.array(beh["expected_days_late"][ix]), pa.string()),
            w.fmt_fixed(beh["expected_delay_after_dispute"][ix], 2),
            w.fmt_fixed(beh["delay_scale"][ix], 2),
            w.fmt_fixed(beh["p_default"][ix], 5),
            w.fmt_fixed(beh["p_default_after_dispute"][ix], 5),
            w.fmt_fixed(beh["p_unpaid_90_after_due"][ix], 5),
            w.take(tf, beh["defaulted"][ix]),
            w.take(tf, beh["disputed"][ix]),
            w.take(tf, settle["by_credit"][ix]),
            w.fmt_date(np.where(paid[ix], paid_day[ix], -1)),
            w.take(tf, paid_by_as_of[ix]),
            pc.if_else(
                unpaid, pa.nulls(len(ix), pa.string()), pc.cast(pa.array(days_to_pay[ix]), pa.string())
            ),
            pc.if_else(unpaid, pa.nulls(len(ix), pa.string()), pc.cast(pa.array(days_late[ix]), pa.string())),
            w.fmt_date(np.where(written_off[rows], wo_day[rows], -1)),
        ]

    put_table(
        truth / "invoice_outcomes.csv",
        [
            "invoice_no",
            "customer_id",
            "issue_date",
            "due_date",
            "expected_delay_days",
            "expected_days_late",
            "expected_delay_after_dispute_days",
            "delay_scale",
            "p_default",
            "p_default_after_dispute",
            "p_unpaid_90_after_due",
            "defaulted",
            "disputed",
            "settled_by_credit_note",
            "paid_date",
            "paid_by_as_of",
            "days_to_pay",
            "days_late",
            "written_off_date",
        ],
        np.lexsort((inv["seq"][std], inv["year"][std])),
        outcome_columns,
    )
    put(
        truth / "customer_profiles.csv",
        [
            "customer_id",
            "customer_type",
            "propensity",
            "deteriorating",
            "deterioration_start",
            "deterioration_days_per_month",
        ],
        [
            cid,
            cust["customer_type"],
            w.fmt_fixed(cust["propensity"], 4),
            np.where(cust["deteriorating"], "true", "false").astype(object),
            w.fmt_date(np.where(cust["deteriorating"], cust["det_start"], -1)),
            pa.array(
                np.where(cust["deteriorating"], np.char.mod("%.2f", cust["det_slope"]), "").astype(object)
            ),
        ],
    )

    # ---- statistics and manifest
    floor_m = paid_by_as_of
    floor = noise_floor_mae(
        days_to_pay[floor_m], inv["terms"][std][floor_m], beh["expected_days_late"][floor_m]
    )
    floor_after_dispute = noise_floor_mae(
        days_to_pay[floor_m], inv["terms"][std][floor_m], beh["expected_delay_after_dispute"][floor_m]
    )
    n_receipts = len(receipts["day"])
    n_links_r = np.bincount(links["r"], minlength=n_receipts)
    credit_lines = L["amount"] > 0
    types = cust["customer_type"][inv["k_cust"][std]]
    mean_delay = {
        t: round(float(beh["expected_delay"][types == t].mean()), 2)
        for t in lg.CUSTOMER_TYPE_P
        if (types == t).any()
    }
    shares = {
        "receipts_without_invoice_ref": _share(~receipts["has_ref"]),
        "receipts_combined": _share(n_links_r[receipts["kind"] == 2] >= 2, n_receipts),
        "invoices_paid_in_parts": _share(settle["part"][paid_by_as_of]),
        "receipts_fee_short": _share(receipts["kind"] == 3),
        "receipts_paid_by_parent": _share(receipts["by_parent"]),
        "receipts_payer_name_variant": _share(receipts["variant_kind"] != "exact"),
        "credit_lines_non_receivable": _share(L["category"][credit_lines] == bk.NON_RECEIVABLE),
        "invoices_credit_notes": _share(inv["kind"] == 2),
        "invoices_cancelled": _share(inv["kind"] == 1),
        "invoices_disputed": _share(beh["disputed"]),
        "invoices_defaulted": _share(beh["defaulted"]),
        "invoices_open_at_as_of": _share(~paid_by_as_of & ~settle["by_credit"]),
    }
    counts = {
        "customers": n_c,
        "salespeople": len(sales["salesperson_id"]),
        "projects": len(projects["project_id"]),
        "contracts": len(contracts["contract_id"]),
        "payment_milestones": len(ms["m_k"]),
        "unbilled_milestones": int((ms["invoice_row"] < 0).sum()),
        "invoices": n_inv,
        "invoice_events": int(n_events),
        "bank_lines": len(L["day"]),
        "receipts": n_receipts,
        "payment_links": len(links["r"]),
    }
    recv = L["category"] == bk.RECEIVABLE
    bytes_written = int(sum(b for b, _ in files.values()))
    manifest = {
        "generator": "huikuan.generate",
        "seed": seed,
        "as_of": as_of.isoformat(),
        "window_start": str(
            dt.date(1970, 1, 1) + dt.timedelta(days=int(day_number(_months_back(as_of, 36)) + 1))
        ),
        "counts": counts,
        "shares": shares,
        "noise_floor_mae_days": round(floor, 3),
        "noise_floor_invoices": int(floor_m.sum()),
        # for reference only: knowing at issue which invoices will be disputed (no model can)
        "noise_floor_mae_days_after_dispute": round(floor_after_dispute, 3),
        "oracle_default_auc": round(auc(beh["defaulted"], beh["p_default"]), 4),
        "oracle_default_auc_after_dispute": round(auc(beh["defaulted"], beh["p_default_after_dispute"]), 4),
        "mean_expected_delay_by_type": mean_delay,
        "receivable_lines": int(recv.sum()),
        "files": {rel: {"bytes": files[rel][0], "sha256": files[rel][1]} for rel in sorted(files)},
        "bytes_written": bytes_written,
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    (out / "manifest.json").write_text(text, encoding="utf-8")
    manifest["bytes_written"] = bytes_written + len(text.encode("utf-8"))
    return manifest


def _share(mask, denom: int | None = None) -> float:
    mask = np.asarray(mask, bool)
    d = len(mask) if denom is None else denom
    return round(float(mask.sum()) / d, 4) if d else 0.0
