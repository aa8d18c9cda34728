"""Bank side: receipts for paid invoices (with real-world noise), other credits, debits, balances.

Produces one table of bank lines over all accounts (sorted, keyed, with running balances) and the
true payment-to-invoice links. Loops run per account or per multi-invoice receipt, never per line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from huikuan.generate import names as nm
from huikuan.generate.calendar import Calendar, calendar_month, month_index


@dataclass(frozen=True)
class Account:
    bank: str  # icbc | cmb | hsbc: decides the file format
    number: str  # account number, used as account_id and in file names
    currency: str
    bank_name: str


ACCOUNTS = (
    Account("icbc", "1202021109900123456", "CNY", "中国工商银行股份有限公司北京海淀支行"),
    Account("cmb", "110912345610801", "CNY", "招商银行股份有限公司北京分行"),
    Account("hsbc", "808123456201", "USD", "The Hongkong and Shanghai Banking Corporation Limited"),
    Account("hsbc", "808123456202", "EUR", "The Hongkong and Shanghai Banking Corporation Limited"),
    Account("hsbc", "808123456203", "HKD", "The Hongkong and Shanghai Banking Corporation Limited"),
)
FOREIGN_ACCOUNT = {a.currency: i for i, a in enumerate(ACCOUNTS) if a.bank == "hsbc"}

# Noise targets (measured back in the manifest).
PARTIAL_SHARE = 0.055  # invoices paid in 2-3 receipts (measured ~5.2 %: defaulted and netted ones are not)
COMBINED_GROUP_P = 0.38  # (measured ~10.5 % of receipts) chance a customer-month with several payments is paid in one transfer
FEE_SHORT_SHARE = 0.043  # of single-invoice receipts, ~3 % of all receipts
PARENT_PAYS_SHARE = 0.05
HAS_REF_P = 0.72  # the rest of the receipts carry no invoice number at all
NON_RECEIVABLE_SHARE = 0.055  # of receipts: ~5.2 % of all credit lines
RF_SHARE_CMB = 0.12  # single-invoice CMB receipts with an ISO 11649 structured reference

# Category codes
RECEIVABLE, NON_RECEIVABLE, DEBIT = 0, 1, 2
CATEGORIES = ("receivable", "non_receivable", "debit")

SPELLINGS = 8
CN_REF_TEMPLATES = (
    ("", ""),
    ("支付", "工程款"),
    ("付", "进度款"),
    ("货款 ", ""),
    ("发票号:", ""),
    ("付款", ""),
    ("", " 服务费"),
    ("结算款 ", ""),
    ("转账 ", " 项目款"),
    ("支付发票", "款项"),
)
EN_REF_TEMPLATES = (
    ("Payment for invoice ", ""),
    ("INV ", ""),
    ("", ""),
    ("Settlement ", ""),
    ("Invoice ", " payment"),
)
CN_NOREF = ("工程款", "货款", "进度款", "往来款", "服务费", "项目款", "", "付款", "网银转账", "CONTRACT")
EN_NOREF = ("PAYMENT", "TRADE SETTLEMENT", "PROJECT PAYMENT", "SERVICE FEE", "", "CONTRACT")
# What a payer writes instead of an invoice number (receipts without one): generic words (the
# lists above, where 进度款 is as often wrong as right), the milestone being paid (with the billing
# month now and then), the project's name, or the contract number. Shares of those receipts:
NOREF_CLUE_P = (0.45, 0.20, 0.20, 0.15)  # generic, milestone word, project name, contract number
WRONG_MILESTONE_WORD_P = 0.10  # a payer names the wrong milestone (进度款 for an acceptance payment)
# Milestone words per ledger.MILESTONE_TYPES (advance, progress, acceptance, final, retention), in
# the spellings payers use.
MILESTONE_WORDS_CN = (
    ("预付款", "预付", "首付款"),
    ("进度款", "工程进度款"),
    ("验收款", "验收款项"),
    ("结算款", "尾款"),
    ("质保金", "保修金", "质保款"),
)
MILESTONE_WORDS_EN = (
    "ADVANCE PAYMENT",
    "PROGRESS PAYMENT",
    "ACCEPTANCE PAYMENT",
    "FINAL PAYMENT",
    "RETENTION",
)
SEPARATORS = np.array([",", "、", "/", " ", ";", "，"], dtype=object)


def spell_invoice_numbers(year: np.ndarray, seq: np.ndarray, spelling: np.ndarray) -> np.ndarray:
    """Invoice numbers the way payers type them: with or without prefix, dashes, spaces, case."""
    out = np.empty(len(year), dtype=object)
    forms = (
        ("INV-", "-"),
        ("INV", ""),
        ("inv-", "-"),
        ("INV ", " "),
        ("", "-"),
        ("", ""),
        ("INV-", ""),
        ("INV ", "-"),
    )
    for i, (pre, mid) in enumerate(forms):
        m = spelling == i
        if m.any():
            y = year[m].astype(str).astype(object)
            s = np.char.zfill(seq[m].astype(str), 7).astype(object)
            out[m] = pre + y + mid + s
    return out


def _round_to(x: np.ndarray, unit: int) -> np.ndarray:
    return (np.round(x / unit) * unit).astype(np.int64)


def _account_numbers(rng, n: int, currency: np.ndarray) -> np.ndarray:
    """A bank account per payer: Chinese corporate accounts are long digit strings, foreign vary."""
    digits = rng.integers(0, 10, size=(n, 19)).astype(str)
    joined = np.array(["".join(r) for r in digits.tolist()], dtype=object)
    lens = rng.integers(15, 20, n)
    out = np.array([j[:ln] for j, ln in zip(joined.tolist(), lens.tolist(), strict=True)], dtype=object)
    eur = currency == "EUR"
    out[eur] = np.array([_iban("DE", b[:18]) for b in joined[eur].tolist()], dtype=object)
    hkd = currency == "HKD"
    out[hkd] = np.array([f"{b[:3]}-{b[3:9]}-{b[9:12]}" for b in joined[hkd].tolist()], dtype=object)
    return out


def _iban(country: str, bban: str) -> str:
    num = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(num) % 97:02d}{bban}"


def build_receipts(
    rng,
    cust: dict,
    inv: dict,
    beh: dict,
    variants: np.ndarray,
    as_of: int,
    cal: Calendar,
    contracts: dict | None = None,
    ms: dict | None = None,
    projects: dict | None = None,
) -> tuple[dict, dict, dict]:
    """Receipts for paid invoices, their true links, and per-invoice settlement facts.

    Returns (receipt lines, links, settlement) where settlement holds per standard invoice the
    actual last receipt date (may be after as_of: then the invoice is open at as_of). With
    `contracts`, `ms` and `projects`, receipts without an invoice number often name the milestone,
    project or contract instead (`noref_clue_texts`).
    """
    std = np.flatnonzero(inv["kind"] == 0)
    ns = len(std)
    k = inv["k_cust"][std]
    gross = inv["gross"][std]
    issue = inv["issue"][std]
    pay = beh["pay_drawn"].copy()
    defaulted = beh["defaulted"]

    # credit notes against standard invoices: netted when the customer pays after the credit note
    cn_rows = np.flatnonzero(inv["kind"] == 2)
    cn_of = np.full(ns, -1)
    cn_of[inv["original"][cn_rows]] = cn_rows
    has_cn = cn_of >= 0
    cn_amt = np.where(has_cn, inv["gross"][np.maximum(cn_of, 0)], 0)
    cn_day = np.where(has_cn, inv["issue"][np.maximum(cn_of, 0)], 0)
    netted = has_cn & (pay > cn_day) & ~defaulted
    pay_amount = np.where(netted, gross + cn_amt, gross)
    by_credit = netted & (pay_amount == 0)  # fully reversed: settled by the credit note, no cash
    netted &= ~by_credit
    payable = ~defaulted & ~by_credit

    # partial payments: 2-3 receipts, earlier parts weeks before the final one
    part = payable & ~netted & (rng.random(ns) < PARTIAL_SHARE)
    # combined: customer-months with several payments, sometimes paid in one transfer
    cand = payable & ~part & ~netted & (pay <= as_of)
    ci = np.flatnonzero(cand)
    month = month_index(pay[ci])
    key = k[ci].astype(np.int64) * 10_000 + (month - month.min() if len(ci) else month)
    o = np.lexsort((ci, pay[ci], key))
    ks = key[o]
    starts = np.r_[0, np.flatnonzero(np.diff(ks)) + 1] if len(ks) else np.array([], np.int64)
    sizes = np.diff(np.r_[starts, len(ks)])
    gid = np.repeat(np.arange(len(starts)), sizes)
    rank = np.arange(len(ks)) - np.repeat(starts, sizes)
    chosen = (sizes >= 2) & (rng.random(len(starts)) < COMBINED_GROUP_P)
    csize = rng.integers(2, 6, len(starts))
    chunk = rank // csize[gid]
    chunk_key = gid.astype(np.int64) * 1000 + chunk
    in_chosen = chosen[gid]
    _, ck_inv, ck_cnt = np.unique(chunk_key, return_inverse=True, return_counts=True)
    combined_m = in_chosen & (ck_cnt[ck_inv] >= 2)
    comb_inv = ci[o][combined_m]  # standard-invoice positions, grouped by chunk
    comb_chunk = np.unique(chunk_key[combined_m], return_inverse=True)[1]
    n_chunks = int(comb_chunk.max() + 1) if len(comb_chunk) else 0
    chunk_day = np.zeros(n_chunks, np.int64)
    np.maximum.at(chunk_day, comb_chunk, pay[comb_inv])
    pay[comb_inv] = chunk_day[comb_chunk]
    combined = np.zeros(ns, bool)
    combined[comb_inv] = True

    single = payable & ~part & ~combined
    fee = single & ~netted & (rng.random(ns) < FEE_SHORT_SHARE)
    ccy = inv["currency"][std]
    fee_amt = np.where(
        ccy == "CNY",
        rng.choice([1000, 1500, 2000, 2500, 3000, 5000], ns),
        np.where(
            ccy == "HKD", rng.choice([10000, 15000, 20000], ns), rng.choice([1500, 2500, 3500, 4500], ns)
        ),
    )
    fee_amt = np.where(fee, np.minimum(fee_amt, pay_amount // 10), 0)

    # --- receipts (r) and links (l) ---
    r_parts = []  # per receipt-kind blocks of (cust, day, amount, kind, multi, first std pos)
    l_parts = []  # (receipt local id, invoice row, applied, link kind, short)
    # singles
    si = np.flatnonzero(single)
    s_kind = np.where(netted[si], 4, np.where(fee[si], 3, 0))
    r_parts.append((k[si], pay[si], pay_amount[si] - fee_amt[si], s_kind, np.zeros(len(si), np.int64), si))
    base = 0
    lid = np.arange(len(si))
    l_parts.append(
        (lid, std[si], np.where(netted[si], gross[si], pay_amount[si] - fee_amt[si]), s_kind, fee_amt[si])
    )
    nl = netted[si]
    l_parts.append(
        (lid[nl], cn_of[si][nl], cn_amt[si][nl], np.full(int(nl.sum()), 4), np.zeros(int(nl.sum()), np.int64))
    )
    base += len(si)
    # partials
    pi = np.flatnonzero(part)
    nparts = rng.integers(2, 4, len(pi))
    rep = np.repeat(np.arange(len(pi)), nparts)
    pno = np.arange(len(rep)) - np.repeat(np.cumsum(nparts) - nparts, nparts)
    back = nparts[rep] - 1 - pno  # 0 for the final part
    gaps = rng.integers(12, 40, len(rep))
    p_day = pay[pi][rep] - back * gaps
    p_day = cal.next_business_day(np.maximum(p_day, issue[pi][rep] + 3))
    p_day = np.minimum(p_day, pay[pi][rep])
    share = np.where(
        nparts[rep] == 2,
        np.where(pno == 0, rng.choice([0.3, 0.4, 0.5, 0.6], len(rep)), 0.0),
        np.where(pno < 2, rng.choice([0.2, 0.3], len(rep)), 0.0),
    )
    unit = np.where(ccy[pi][rep] == "CNY", 10_000, 100)
    p_amt = (np.round(pay_amount[pi][rep] * share / unit) * unit).astype(np.int64)
    first_sum = np.bincount(rep, weights=p_amt, minlength=len(pi)).astype(np.int64)
    final = back == 0
    p_amt[final] = pay_amount[pi] - first_sum  # final part settles the rest
    r_parts.append((k[pi][rep], p_day, p_amt, np.full(len(rep), 1), pno + 1, pi[rep]))
    l_parts.append(
        (base + np.arange(len(rep)), std[pi][rep], p_amt, np.full(len(rep), 1), np.zeros(len(rep), np.int64))
    )
    base += len(rep)
    # combined
    first = np.r_[0, np.flatnonzero(np.diff(comb_chunk)) + 1] if n_chunks else np.array([], np.int64)
    c_amt = np.bincount(comb_chunk, weights=pay_amount[comb_inv], minlength=n_chunks).astype(np.int64)
    r_parts.append(
        (
            k[comb_inv][first],
            chunk_day,
            c_amt,
            np.full(n_chunks, 2),
            np.zeros(n_chunks, np.int64),
            comb_inv[first],
        )
    )
    l_parts.append(
        (
            base + comb_chunk,
            std[comb_inv],
            pay_amount[comb_inv],
            np.full(len(comb_inv), 2),
            np.zeros(len(comb_inv), np.int64),
        )
    )

    r = {
        key_: np.concatenate([p[i] for p in r_parts])
        for i, key_ in enumerate(("k", "day", "amount", "kind", "part_no", "std_pos"))
    }
    links = {
        key_: np.concatenate([p[i] for p in l_parts])
        for i, key_ in enumerate(("r", "inv_row", "applied", "kind", "short"))
    }

    # settlement per standard invoice: the last receipt date (also after as_of), or none
    last_day = np.full(ns, -1, np.int64)
    std_pos_of_row = np.full(len(inv["kind"]), -1)
    std_pos_of_row[std] = np.arange(ns)
    lp = std_pos_of_row[links["inv_row"]]
    ok = lp >= 0
    np.maximum.at(last_day, lp[ok], r["day"][links["r"][ok]])
    settlement = {
        "paid_day": last_day,
        "by_credit": by_credit,
        "fee": fee_amt,
        "netted": netted,
        "part": part,
        "combined": combined,
        "cn_of": cn_of,
    }

    # keep what the bank has booked by as_of
    visible = r["day"] <= as_of
    new_id = np.cumsum(visible) - 1
    r = {kk: v[visible] for kk, v in r.items()}
    lk = visible[links["r"]]
    links = {kk: v[lk] for kk, v in links.items()}
    links["r"] = new_id[links["r"]]
    n = len(r["day"])

    # payer: sometimes the parent group pays for a subsidiary
    parent = cust["parent_idx"][r["k"]]
    has_parent = parent >= 0
    p_pp = min(0.7, PARENT_PAYS_SHARE * n / max(int(has_parent.sum()), 1))
    by_parent = has_parent & (rng.random(n) < p_pp)
    payer = np.where(by_parent, parent, r["k"])
    r["payer"] = payer
    r["by_parent"] = by_parent
    r["currency"] = cust["currency"][r["k"]]

    # receiving account: CNY customers use the main ICBC or the CMB account (a habit per payer)
    nc = len(cust["customer_id"])
    prefers_cmb = rng.random(nc) < 0.35
    acct = np.where(prefers_cmb[payer], 1, 0)
    for c, ai in FOREIGN_ACCOUNT.items():
        acct = np.where(r["currency"] == c, ai, acct)
    r["account"] = acct

    # payer name variant
    ptype = cust["customer_type"][payer]
    u = rng.random(n)
    vk = np.zeros(n, np.int64)
    corp = np.isin(ptype, ["soe", "private"])
    cut = np.cumsum([0.50, 0.15, 0.12, 0.10, 0.13])  # exact, no_suffix, short, brackets, branch
    vk[corp] = np.searchsorted(cut, u[corp] * cut[-1], side="right")
    gov = ptype == "government"
    vk[gov] = np.where(u[gov] < 0.55, 0, np.where(u[gov] < 0.9, 6, 2))
    fo = ptype == "foreign"
    cutf = np.cumsum([0.35, 0.15, 0.1, 0.05, 0.05, 0.15, 0.15])
    vk[fo] = np.searchsorted(cutf, u[fo] * cutf[-1], side="right")
    vk = np.minimum(vk, len(nm.VARIANT_KINDS) - 1)
    r["cp_name"] = variants[payer, vk]
    kind_names = np.array(nm.VARIANT_KINDS, dtype=object)[vk]
    kind_names[fo & (vk == 6)] = "case"
    kind_names[r["cp_name"] == cust["customer_name"][payer]] = "exact"
    r["variant_kind"] = kind_names
    cp_accounts = _account_numbers(rng, nc, cust["currency"])
    r["cp_account"] = cp_accounts[payer]
    r["by_treasury"] = r["variant_kind"] == "treasury"
    tre = np.flatnonzero(r["by_treasury"])  # the city treasury's own account pays for the agency
    r["cp_account"][tre] = [
        f"2700{cust['tax_id'][p][2:8]}00000{i % 9 + 1}" for i, p in enumerate(payer[tre].tolist())
    ]

    # remittance text
    foreign_ccy = r["currency"] != "CNY"
    has_ref = rng.random(n) < HAS_REF_P
    spelling = rng.integers(0, SPELLINGS, n)
    spelling[foreign_ccy & (spelling == 2)] = 0
    inv_year = inv["year"][links["inv_row"]]
    inv_seq = inv["seq"][links["inv_row"]]
    l_spelled = spell_invoice_numbers(inv_year, inv_seq, spelling[links["r"]])
    # credit notes are not quoted by payers; only the invoice they pay
    quoted = inv["kind"][links["inv_row"]] == 0
    refs = np.full(n, "", dtype=object)
    lo = np.lexsort((inv["seq"][links["inv_row"]], links["r"]))
    lr, ls = links["r"][lo][quoted[lo]], l_spelled[lo][quoted[lo]]
    cnt = np.bincount(lr, minlength=n)
    single_r = cnt == 1
    pos_single = np.flatnonzero(single_r[lr])
    refs[lr[pos_single]] = ls[pos_single]
    multi = np.flatnonzero(cnt > 1)
    if len(multi):
        sep = SEPARATORS[rng.integers(0, len(SEPARATORS), n)]
        sep[foreign_ccy & np.isin(sep, ["、", "，"])] = ","
        mm = cnt[lr] > 1
        groups = np.split(ls[mm], np.flatnonzero(np.diff(lr[mm])) + 1)
        refs[multi] = [sp.join(g) for sp, g in zip(sep[multi].tolist(), groups, strict=True)]
    t_cn = rng.integers(0, len(CN_REF_TEMPLATES), n)
    t_en = rng.integers(0, len(EN_REF_TEMPLATES), n)
    pre = np.where(
        foreign_ccy,
        np.array([t[0] for t in EN_REF_TEMPLATES], dtype=object)[t_en],
        np.array([t[0] for t in CN_REF_TEMPLATES], dtype=object)[t_cn],
    )
    suf = np.where(
        foreign_ccy,
        np.array([t[1] for t in EN_REF_TEMPLATES], dtype=object)[t_en],
        np.array([t[1] for t in CN_REF_TEMPLATES], dtype=object)[t_cn],
    )
    contract_ref = inv["k_contract"][std[r["std_pos"]]]
    with_ref = pre + refs + suf
    noref_cn = np.array(CN_NOREF, dtype=object)[rng.integers(0, len(CN_NOREF), n)]
    noref_en = np.array(EN_NOREF, dtype=object)[rng.integers(0, len(EN_NOREF), n)]
    noref = np.where(foreign_ccy, noref_en, noref_cn)
    noref = np.where(noref == "CONTRACT", "合同款", noref)
    if contracts is not None and ms is not None and projects is not None:
        # A separate stream (spawning leaves `rng` where it is), so these texts shift no other draw.
        clue = noref_clue_texts(rng.spawn(1)[0], links, inv, cust, contracts, ms, projects, foreign_ccy, n)
        noref = np.where(clue != "", clue, noref)
    text = np.where(has_ref, with_ref, noref)
    # parents paying for a subsidiary often say so
    say = by_parent & ~foreign_ccy & (rng.random(n) < 0.4)
    text[say] = "代" + cust["short_name"][r["k"][say]] + "付" + text[say]
    is_part = r["kind"] == 1
    text[is_part & ~foreign_ccy] = (
        text[is_part & ~foreign_ccy]
        + " 第"
        + r["part_no"][is_part & ~foreign_ccy].astype(str).astype(object)
        + "笔"
    )
    r["has_ref"] = has_ref & (refs != "")
    r["text"] = text
    r["contract_k"] = contract_ref
    # structured RF references on some CMB single-invoice receipts
    rf = (acct == 1) & single_r & (rng.random(n) < RF_SHARE_CMB)
    r["structured_ref"] = np.full(n, None, dtype=object)
    if rf.any():
        from huikuan.generate.codes import rf_for_invoice_numbers

        rows = np.full(n, -1)
        rows[lr[pos_single]] = links["inv_row"][lo][quoted[lo]][pos_single]
        r["structured_ref"][rf] = rf_for_invoice_numbers(inv["year"][rows[rf]], inv["seq"][rows[rf]])
        r["has_ref"] = r["has_ref"] | rf
    return r, links, settlement


def noref_clue_texts(
    rng,
    links: dict,
    inv: dict,
    cust: dict,
    contracts: dict,
    ms: dict,
    projects: dict,
    foreign: np.ndarray,
    n: int,
) -> np.ndarray:
    """Per receipt, what its payer writes when it quotes no invoice number ('' = a generic word).

    Milestone words (进度款, 验收款, 质保金 ..., sometimes the wrong one, sometimes with the billing
    month: 2024年3月进度款), the project's name (in full or without the city and customer, as
    people shorten it) with a milestone word, or the contract number. A transfer for several
    invoices names them only when they agree: one milestone type, at most two projects or three
    contracts; otherwise its words stay generic.
    """
    rows = links["inv_row"]
    std = inv["kind"][rows] == 0
    lr, rows = links["r"][std], rows[std]
    o = np.lexsort((rows, lr))
    lr, rows = lr[o], rows[o]
    kc = inv["k_contract"][rows]
    mtype = ms["type"][inv["ms_row"][rows]].astype(np.int64)
    proj = contracts["proj_idx"][kc]
    month = inv["issue"][rows].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    period = (
        (month // 12 + 1970).astype(str).astype(object)
        + "年"
        + (month % 12 + 1).astype(str).astype(object)
        + "月"
    )
    pk = projects["k_cust"][proj]
    full = projects["project_name"][proj]
    prefix_len = np.char.str_len((cust["city"][pk] + cust["short_name"][pk]).astype(str))
    tail = np.array([f[p:] for f, p in zip(full.tolist(), prefix_len.tolist(), strict=True)], dtype=object)
    u_name = rng.random(len(rows)) < 0.5
    pname = np.where(u_name | (np.char.str_len(tail.astype(str)) < 6), full, tail)
    cid = contracts["contract_id"][kc]

    kind = rng.choice(len(NOREF_CLUE_P), size=n, p=NOREF_CLUE_P)
    wrong = rng.random(n) < WRONG_MILESTONE_WORD_P
    wrong_type = rng.integers(0, len(MILESTONE_WORDS_EN), n)
    spelling = rng.integers(0, 3, n)
    with_period = rng.random(n) < 0.4
    contract_form = np.array(["合同号", "合同", ""], dtype=object)[rng.integers(0, 3, n)]
    out = np.full(n, "", dtype=object)
    starts = np.r_[0, np.flatnonzero(np.diff(lr)) + 1] if len(lr) else np.array([], np.int64)
    ends = np.r_[starts[1:], len(lr)]
    words_cn = np.array([[f[j % len(f)] for j in range(3)] for f in MILESTONE_WORDS_CN], dtype=object)
    words_en = np.array(MILESTONE_WORDS_EN, dtype=object)

    # one invoice per receipt: vectorized
    one = (ends - starts) == 1
    s1 = starts[one]
    i1 = lr[s1]
    t1 = np.where(wrong[i1], wrong_type[i1], mtype[s1])
    k1, f1 = kind[i1], foreign[i1]
    cn_word = words_cn[t1, spelling[i1]]
    per = np.where(with_period[i1], period[s1], "")
    en_contract = "CONTRACT " + cid[s1] + " " + words_en[t1]
    txt = np.select(
        [k1 == 1, k1 == 2, k1 == 3],
        [per + cn_word, pname[s1] + cn_word, contract_form[i1] + cid[s1] + " " + cn_word],
        "",
    ).astype(object)
    txt_en = np.select([k1 == 1, k1 >= 2], [words_en[t1], en_contract], "").astype(object)
    out[i1] = np.where(f1, txt_en, txt)

    # several invoices in one transfer: named only when they agree
    for s, e in zip(starts[~one].tolist(), ends[~one].tolist(), strict=True):
        i = int(lr[s])
        k = int(kind[i])
        if k == 0:
            continue
        types = set(mtype[s:e].tolist())
        t = int(wrong_type[i]) if wrong[i] else (next(iter(types)) if len(types) == 1 else -1)
        ids = list(dict.fromkeys(cid[s:e].tolist()))
        if foreign[i]:
            if k >= 2 and len(ids) <= 3:
                out[i] = "CONTRACT " + " ".join(ids) + " " + (words_en[t] if t >= 0 else "PAYMENT")
            elif k == 1 and t >= 0:
                out[i] = words_en[t]
            continue
        word = words_cn[t, spelling[i]] if t >= 0 else "工程款"
        if k == 1 and t >= 0:
            months = set(period[s:e].tolist())
            out[i] = (next(iter(months)) if with_period[i] and len(months) == 1 else "") + word
        elif k == 2:
            names = list(dict.fromkeys(pname[s:e].tolist()))
            if len(names) <= 2:
                out[i] = "、".join(names) + word
        elif k == 3 and len(ids) <= 3:
            out[i] = contract_form[i] + "、".join(ids) + " " + word
    return out


def other_lines(
    rng,
    receipts: dict,
    cust: dict,
    first_day: int,
    as_of: int,
    cal: Calendar,
    suppliers_cn: np.ndarray,
    suppliers_en: np.ndarray,
) -> dict:
    """Non-receivable credits (interest, tax refunds, deposits, loans, subsidies) and all debits."""
    out = {
        k: []
        for k in (
            "account",
            "day",
            "amount",
            "category",
            "cp_name",
            "cp_account",
            "text",
            "summary",
            "tx_code",
        )
    }

    def add(acct, day, amount, category, cp_name, cp_account, text, summary, tx_code):
        n = len(day)
        out["account"].append(np.full(n, acct))
        out["day"].append(np.asarray(day, np.int64))
        out["amount"].append(np.asarray(amount, np.int64))
        out["category"].append(np.full(n, category))
        for key_, v in (
            ("cp_name", cp_name),
            ("cp_account", cp_account),
            ("text", text),
            ("summary", summary),
            ("tx_code", tx_code),
        ):
            out[key_].append(np.broadcast_to(np.asarray(v, dtype=object), (n,)).copy())

    months = np.arange(month_index(np.array([first_day]))[0], month_index(np.array([as_of]))[0] + 1)
    m_start = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    m_end = np.minimum(
        (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1, as_of
    )
    city = "北京"
    for ai, acc in enumerate(ACCOUNTS):
        cn = acc.currency == "CNY"
        mine = receipts["account"] == ai
        r_month = month_index(receipts["day"][mine]) - months[0]
        credits = np.bincount(r_month, weights=receipts["amount"][mine], minlength=len(months))
        n_cred = np.bincount(r_month, minlength=len(months))
        scale = max(float(np.median(receipts["amount"][mine])) if mine.any() else 1e6, 1e5)

        # quarterly interest on the 21st of March, June, September, December
        q = np.isin(calendar_month(m_start), [3, 6, 9, 12])
        iday = m_start[q] + 20
        iday = iday[(iday <= as_of) & (iday >= first_day)]
        # a small book has little interest to post: keep interest within the 5 % budget (latest
        # quarters), so tiny datasets are not dominated by it
        budget = round(NON_RECEIVABLE_SHARE * int(mine.sum()))
        iday = iday[len(iday) - min(len(iday), max(budget // 2, 1)) :]
        iamt = _round_to(rng.uniform(0.002, 0.02, len(iday)) * scale * 10, 1)
        add(
            ai,
            iday,
            np.maximum(iamt, 100),
            NON_RECEIVABLE,
            acc.bank_name,
            "",
            "结息" if cn else "INTEREST",
            "结息" if cn else "INT",
            "INT",
        )
        # other non-receivable credits, about 5 % of the account's credit lines in total
        n_other = max(round(NON_RECEIVABLE_SHARE * int(mine.sum())) - len(iday), 0)
        if n_other:
            day = cal.next_business_day(rng.integers(first_day, as_of + 1, n_other))
            day = np.minimum(day, as_of)
            kind = rng.choice(5, n_other, p=[0.3, 0.35, 0.1, 0.15, 0.1])
            if cn:
                cps = np.array(
                    [
                        f"国家税务总局{city}市税务局",
                        f"{city}市公共资源交易中心",
                        acc.bank_name,
                        f"{city}市财政局",
                        f"{city}市住房公积金管理中心",
                    ],
                    dtype=object,
                )
                texts = np.array(
                    ["增值税留抵退税", "投标保证金退还", "流动资金贷款放款", "稳岗补贴", "公积金退回"],
                    dtype=object,
                )
                summ = np.array(["退税", "保证金退回", "贷款发放", "政府补助", "退款"], dtype=object)
            else:
                cps = np.array(
                    [
                        "HKSAR GOVERNMENT",
                        "TENDER DEPOSIT ESCROW",
                        acc.bank_name,
                        "FX DESK",
                        "HSBC TRADE SERVICES",
                    ],
                    dtype=object,
                )
                texts = np.array(
                    [
                        "TAX REFUND",
                        "TENDER DEPOSIT REFUND",
                        "LOAN DRAWDOWN",
                        "FX CONVERSION",
                        "DEPOSIT RETURNED",
                    ],
                    dtype=object,
                )
                summ = np.array(["REFUND", "DEPOSIT", "LOAN", "FX", "DEPOSIT"], dtype=object)
            amt = np.select(
                [kind == 0, kind == 1, kind == 2, kind == 3],
                [
                    _round_to(rng.uniform(0.05, 2.0, n_other) * scale, 1),
                    _round_to(rng.uniform(0.1, 3.0, n_other) * scale, 1_000_000),
                    _round_to(rng.uniform(5, 40, n_other) * scale, 10_000_000),
                    _round_to(rng.uniform(0.05, 1.0, n_other) * scale, 100),
                ],
                _round_to(rng.uniform(0.02, 0.5, n_other) * scale, 100),
            )
            amt = np.maximum(amt, 10_000)
            cp = cps[kind]
            # a deposit is sometimes returned by a customer itself: same name, never an invoice payment
            dep_cust = (kind == 1) & (rng.random(n_other) < 0.25)
            if dep_cust.any():
                pool = np.flatnonzero(
                    (cust["currency"] == acc.currency) & (cust["customer_type"] != "individual")
                )
                if len(pool):
                    cp[dep_cust] = cust["customer_name"][
                        pool[rng.integers(0, len(pool), int(dep_cust.sum()))]
                    ]
            add(ai, day, amt, NON_RECEIVABLE, cp, "", texts[kind], summ[kind], "RCDT")

        # debits: payroll, taxes, social security, suppliers and fees, sized to the month's inflow
        target = credits * rng.uniform(0.88, 1.04, len(months))  # cash out roughly matches cash in
        n_sup = np.maximum((n_cred * 0.6).astype(np.int64), 1)
        sup_m = np.repeat(np.arange(len(months)), n_sup)
        sup_day = cal.next_business_day(
            m_start[sup_m] + (rng.random(len(sup_m)) * (m_end[sup_m] - m_start[sup_m] + 1)).astype(np.int64)
        )
        sup_day = np.minimum(sup_day, m_end[sup_m])
        w = np.exp(rng.standard_normal(len(sup_m)))
        fixed_share = 0.35 if ai == 0 else 0.0
        wsum = np.bincount(sup_m, weights=w, minlength=len(months))
        sup_amt = _round_to(w / wsum[sup_m] * target[sup_m] * (1 - fixed_share), 1)
        keep = sup_amt > 0
        pool = suppliers_cn if cn else suppliers_en
        sp = rng.integers(0, len(pool), len(sup_m))
        sup_acct = _account_numbers(rng, len(pool), np.full(len(pool), acc.currency, dtype=object))
        s_text = (
            np.array(["材料款", "设备款", "分包工程款", "劳务费", "技术服务费"], dtype=object)
            if cn
            else np.array(["SUPPLIER PAYMENT", "EQUIPMENT", "SUBCONTRACT", "SERVICES"], dtype=object)
        )
        add(
            ai,
            sup_day[keep],
            -sup_amt[keep],
            DEBIT,
            pool[sp][keep],
            sup_acct[sp][keep],
            s_text[rng.integers(0, len(s_text), len(sup_m))][keep],
            "转账支出" if cn else "TRF",
            "ICDT",
        )
        if ai == 0:  # payroll and taxes go through the main account
            for frac, day_of_month, cp, text, summ in (
                (0.18, 9, "", "代发工资", "代发工资"),
                (0.06, 14, f"{city}市社会保险基金管理中心", "社保费", "社保"),
                (0.03, 14, f"{city}住房公积金管理中心", "住房公积金", "公积金"),
                (0.08, 14, f"国家金库{city}市中心支库", "增值税", "税款"),
            ):
                d = np.minimum(cal.next_business_day(m_start + day_of_month), m_end)
                amt = _round_to(target * frac, 1)
                ok = (amt > 0) & (d >= first_day)
                add(ai, d[ok], -amt[ok], DEBIT, cp, "", text, summ, "TAXS" if summ == "税款" else "ICDT")
        # bank charges, a few per month
        n_fee = rng.integers(1, 4, len(months))
        fm = np.repeat(np.arange(len(months)), n_fee)
        fday = np.minimum(cal.next_business_day(m_start[fm] + rng.integers(0, 28, len(fm))), m_end[fm])
        famt = rng.integers(50, 5000, len(fm))
        add(
            ai,
            fday,
            -famt,
            DEBIT,
            acc.bank_name,
            "",
            "手续费" if cn else "CHARGES",
            "手续费" if cn else "CHG",
            "CHRG",
        )
    return {k: np.concatenate(v) if v else np.array([]) for k, v in out.items()}
