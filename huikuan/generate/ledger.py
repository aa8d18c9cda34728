"""The business side: customers, salespeople, projects, contracts, milestones, invoices, behaviour.

Everything is held as columns of numpy arrays (dates as int day numbers); loops run per customer
at most, never per invoice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from huikuan.generate import names as nm
from huikuan.generate import writers as w
from huikuan.generate.calendar import Calendar, calendar_month, spring_festival_days, year_of
from huikuan.generate.codes import make_usccs

# Fixed conversion used to size foreign-currency contracts and to compare amounts across currencies.
FX_TO_CNY = {"CNY": 1.0, "USD": 7.10, "EUR": 7.75, "HKD": 0.91}
CUSTOMER_TYPE_P = {"soe": 0.27, "private": 0.45, "government": 0.14, "foreign": 0.08, "individual": 0.06}
TYPE_CODE = {t: i for i, t in enumerate(CUSTOMER_TYPE_P)}  # soe 0, private 1, government 2, ...

# Behaviour model (docs/generator.md): median days late by customer type, noise scale by type.
BASE_DELAY = np.array([15.0, 6.0, 28.0, 4.0, 2.0])
DELAY_SCALE = np.array([8.0, 6.0, 10.0, 5.0, 5.0])  # Laplace scale b (mean absolute deviation)
DEFAULT_TYPE_LOGIT = np.array([-0.6, 0.3, -1.2, 0.0, 0.7])
PROPENSITY_DAYS = 12.0  # days of delay per standard deviation of customer propensity
DISPUTE_SHARE = 0.04
CREDIT_NOTE_SHARE = 0.02
CANCEL_SHARE = 0.01

# Business lines: VAT rate, plan shape choices.
LINES = ("construction", "equipment", "it_services", "services")
LINE_VAT = np.array([0.09, 0.13, 0.06, 0.06])
LINE_MEDIAN_CNY = np.array([3_000_000.0, 1_200_000.0, 600_000.0, 400_000.0])
INDUSTRY_LINE_P = {
    "建筑业": (0.8, 0.1, 0.05, 0.05),
    "房地产业": (0.75, 0.1, 0.1, 0.05),
    "交通运输": (0.7, 0.15, 0.1, 0.05),
    "电力能源": (0.4, 0.45, 0.1, 0.05),
    "制造业": (0.2, 0.55, 0.15, 0.1),
    "信息技术": (0.05, 0.15, 0.6, 0.2),
    "医疗卫生": (0.3, 0.3, 0.3, 0.1),
    "教育": (0.35, 0.2, 0.35, 0.1),
    "金融业": (0.1, 0.1, 0.6, 0.2),
    "公共管理": (0.4, 0.1, 0.35, 0.15),
    "水利环保": (0.6, 0.3, 0.05, 0.05),
    "": (0.5, 0.2, 0.2, 0.1),
}
TYPE_INDUSTRY_P = {
    "soe": {
        "建筑业": 4,
        "交通运输": 3,
        "电力能源": 3,
        "房地产业": 2,
        "金融业": 1,
        "制造业": 2,
        "水利环保": 1,
    },
    "private": {
        "建筑业": 3,
        "房地产业": 3,
        "制造业": 3,
        "信息技术": 3,
        "医疗卫生": 1,
        "电力能源": 1,
        "金融业": 1,
    },
    "government": {"公共管理": 5, "医疗卫生": 2, "教育": 2, "交通运输": 1, "水利环保": 1},
    "foreign": {"制造业": 3, "电力能源": 2, "信息技术": 2, "建筑业": 1},
    "individual": {"": 1},
}

# Milestone plan shapes: (milestone_type, pct, fraction of duration, extra days after that point).
# Retention is released 12 months after acceptance.
SHAPES = (
    (
        ("advance", 30, 0.0, 15),
        ("progress", 40, 0.5, 0),
        ("acceptance", 25, 1.0, 0),
        ("retention", 5, 1.0, 365),
    ),
    (
        ("advance", 10, 0.0, 15),
        ("progress", 15, 0.2, 0),
        ("progress", 15, 0.4, 0),
        ("progress", 15, 0.6, 0),
        ("progress", 15, 0.8, 0),
        ("acceptance", 25, 1.0, 0),
        ("retention", 5, 1.0, 365),
    ),
    (("advance", 30, 0.0, 10), ("acceptance", 60, 1.0, 0), ("final", 10, 1.0, 60)),
    (
        ("progress", 25, 0.25, 0),
        ("progress", 25, 0.5, 0),
        ("progress", 25, 0.75, 0),
        ("progress", 25, 1.0, 0),
    ),
    (("advance", 30, 0.0, 10), ("progress", 60, 1.0, 0), ("retention", 10, 1.0, 365)),
)
LINE_SHAPE_P = np.array(
    [
        [0.6, 0.4, 0.0, 0.0, 0.0],  # construction
        [0.0, 0.0, 0.2, 0.0, 0.8],  # equipment
        [0.1, 0.0, 0.7, 0.2, 0.0],  # it_services
        [0.0, 0.0, 0.3, 0.7, 0.0],  # services
    ]
)
LINE_DURATION = np.array([[180, 720], [90, 270], [90, 365], [300, 400]])  # days, uniform range
CARRY_DAYS = 540
MILESTONE_TYPES = ("advance", "progress", "acceptance", "final", "retention")


@dataclass
class Ledger:
    """All business tables, as dicts of equal-length numpy arrays, plus the per-invoice truth."""

    as_of: int
    window_start: int
    customers: dict = field(default_factory=dict)
    salespeople: dict = field(default_factory=dict)
    projects: dict = field(default_factory=dict)
    contracts: dict = field(default_factory=dict)
    milestones: dict = field(default_factory=dict)
    invoices: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)
    variants: np.ndarray | None = None  # customers x len(VARIANT_KINDS) payer names
    calendar: Calendar | None = None


def _lognormal(rng, median, sigma, n):
    return median * np.exp(sigma * rng.standard_normal(n))


def _choice(rng, n, p):
    p = np.asarray(p, float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def build_salespeople(rng, n: int) -> dict:
    names, pinyin = nm.person_names(rng, n)
    region_w = np.array([3, 5, 2, 3, 2, 1, 1], float)
    region = np.array(nm.REGIONS, dtype=object)[_choice(rng, n, region_w)]
    team_no = rng.integers(1, 3, n)
    team = region + np.where(team_no == 1, "销售一部", "销售二部").astype(object)
    # the first salesperson runs overseas accounts, the second the key state-owned accounts
    team[0] = "海外业务部"
    region[0] = "华东"
    if n > 1:
        team[1] = "大客户部"
    sid = np.array([f"SP{i + 1:04d}" for i in range(n)], dtype=object)
    email = pinyin + np.array([f"{i + 1}@corp.example.cn" for i in range(n)], dtype=object)
    return {"salesperson_id": sid, "name": names, "team": team, "region": region, "email": email}


def build_customers(rng, n: int, sales: dict, as_of: int, window_start: int) -> tuple[dict, np.ndarray]:
    """Customer master plus latent behaviour (propensity, deterioration) and payer-name variants."""
    types = np.array(list(CUSTOMER_TYPE_P), dtype=object)[_choice(rng, n, list(CUSTOMER_TYPE_P.values()))]
    tcode = np.array([TYPE_CODE[t] for t in types])
    city_i = _choice(rng, n, nm.CITY_WEIGHTS)
    cities = np.array([c[0] for c in nm.CITIES], dtype=object)[city_i]
    region = np.array([c[1] for c in nm.CITIES], dtype=object)[city_i]
    division = np.array([c[2] for c in nm.CITIES], dtype=object)[city_i]
    industry = np.empty(n, dtype=object)
    for t, probs in TYPE_INDUSTRY_P.items():
        m = types == t
        keys = list(probs)
        industry[m] = np.array(keys, dtype=object)[_choice(rng, int(m.sum()), list(probs.values()))]
    currency = np.full(n, "CNY", dtype=object)
    fm = types == "foreign"
    currency[fm] = np.array(["USD", "EUR", "HKD"], dtype=object)[
        _choice(rng, int(fm.sum()), [0.45, 0.3, 0.25])
    ]

    # Groups: some soe/private/foreign customers are parents; some others their subsidiaries.
    corp = np.isin(types, ["soe", "private", "foreign"])
    is_parent = corp & (rng.random(n) < 0.12)
    if not is_parent.any():
        is_parent[np.flatnonzero(corp)[:1]] = True
    parent = np.full(n, -1)
    for t in ("soe", "private", "foreign"):
        parents = np.flatnonzero(is_parent & (types == t))
        kids = np.flatnonzero(~is_parent & (types == t) & (rng.random(n) < 0.35))
        if len(parents) and len(kids):
            parent[kids] = parents[rng.integers(0, len(parents), len(kids))]
    currency[parent >= 0] = currency[parent[parent >= 0]]  # a foreign group bills in one currency

    terms_p = {
        "soe": [0.2, 0.4, 0.4],
        "private": [0.4, 0.4, 0.2],
        "government": [0.2, 0.3, 0.5],
        "foreign": [0.5, 0.3, 0.2],
        "individual": [1.0, 0.0, 0.0],
    }
    terms = np.zeros(n, dtype=np.int64)
    for t, p in terms_p.items():
        m = types == t
        terms[m] = np.array([30, 60, 90])[_choice(rng, int(m.sum()), p)]

    # Names: one Python call per customer (parents first so subsidiaries can reuse the brand).
    full = np.empty(n, dtype=object)
    short = np.empty(n, dtype=object)
    order = np.concatenate([np.flatnonzero(is_parent), np.flatnonzero(~is_parent)])
    used: set[str] = set()
    for i in order.tolist():
        par = (full[parent[i]], short[parent[i]]) if parent[i] >= 0 else None
        for attempt in range(20):
            f, s = nm.company_name(
                rng, types[i], cities[i], industry[i], currency[i], par, bool(is_parent[i])
            )
            if f not in used or types[i] == "individual":
                break
            if attempt >= 10:  # crowded vocabulary at large scale: disambiguate like real registrations do
                f = f"{cities[i]}{f}" if types[i] != "foreign" else f"{f} {attempt}"
                if f not in used:
                    break
        if f in used and types[i] != "individual":
            f = f"{f}({i})" if types[i] != "foreign" else f"{f} ({i})"
        used.add(f)
        full[i], short[i] = f, s
    variants = np.array(
        [nm.payer_variants(full[i], short[i], types[i], cities[i]) for i in range(n)], dtype=object
    ).reshape(n, len(nm.VARIANT_KINDS))

    # Credit codes: companies '9'+'1', agencies and public institutions '1'+'1'/'2'.
    cn = ~np.isin(types, ["foreign", "individual"])
    auth = np.where(types == "government", "1", "9").astype(object)
    cat = np.where(types == "government", np.where(rng.random(n) < 0.5, "1", "2"), "1").astype(object)
    tax_id = np.full(n, None, dtype=object)
    tax_id[cn] = make_usccs(rng, auth[cn], cat[cn], division[cn])

    # Salesperson by region; overseas team for foreign customers, key accounts for big SOEs.
    sp_region = sales["region"]
    sp = np.empty(n, dtype=object)
    for r in nm.REGIONS:
        m = region == r
        pool = np.flatnonzero(sp_region == r)
        if len(pool) == 0:
            pool = np.arange(len(sp_region))
        sp[m] = sales["salesperson_id"][pool[rng.integers(0, len(pool), int(m.sum()))]]
    sp[fm] = sales["salesperson_id"][0]
    if len(sp_region) > 1:
        sp[is_parent & (types == "soe")] = sales["salesperson_id"][1]

    # Latent payment behaviour (truth only): propensity, deterioration onset and slope.
    propensity = rng.standard_normal(n)
    deteriorating = np.isin(types, ["private", "soe", "foreign"]) & (rng.random(n) < 0.08)
    det_start = rng.integers(as_of - 540, as_of - 60, n)
    det_slope = rng.uniform(2.0, 5.0, n)  # extra days late per month since onset

    cust = {
        "customer_id": np.array([f"CUST{i + 1:06d}" for i in range(n)], dtype=object),
        "customer_name": full,
        "tax_id": tax_id,
        "parent_idx": parent,
        "region": region,
        "industry": industry,
        "customer_type": types,
        "salesperson_id": sp,
        "payment_terms_days": terms,
        "currency": currency,
        "city": cities,
        "short_name": short,
        "tcode": tcode,
        "is_parent": is_parent,
        "propensity": propensity,
        "deteriorating": deteriorating,
        "det_start": det_start,
        "det_slope": det_slope,
    }
    return cust, variants


def _signing_days(rng, n: int, window_start: int, last: int, cal: Calendar) -> np.ndarray:
    """Signing dates with ~15 %/year growth, busier spring and autumn, quiet around Spring Festival."""
    days = np.arange(window_start, last + 1)
    t = (days - window_start) / 365.0
    month = calendar_month(days)
    season = np.array([0.7, 0.6, 1.1, 1.1, 1.05, 1.1, 0.9, 0.9, 1.1, 0.9, 1.1, 1.2])[month - 1]
    w = np.exp(0.14 * t) * season * np.where(cal.is_holiday(days), 0.08, 1.0)
    return days[rng.choice(len(days), size=n, p=w / w.sum())]


def build_contracts(rng, n_std: int, cust: dict, as_of: int, window_start: int, cal: Calendar):
    """Contracts and their milestone plans, enough to bill exactly `n_std` standard invoices."""
    nc = len(cust["customer_id"])
    cust_w = np.exp(1.1 * rng.standard_normal(nc))  # a few big customers carry most of the business
    cust_w[cust["customer_type"] == "individual"] *= 0.3
    n_try = int(n_std / 2.6) + 50
    while True:
        k_cust = rng.choice(nc, size=n_try, p=cust_w / cust_w.sum())
        ind = cust["industry"][k_cust]
        line = np.empty(n_try, dtype=np.int64)
        for key, p in INDUSTRY_LINE_P.items():
            m = ind == key
            line[m] = _choice(rng, int(m.sum()), p)
        shape = np.empty(n_try, dtype=np.int64)
        for li in range(4):
            m = line == li
            shape[m] = _choice(rng, int(m.sum()), LINE_SHAPE_P[li])
        # contracts signed up to 18 months before the window are still running at its start, so the
        # invoice stream starts near its steady state instead of ramping up from nothing
        signed = _signing_days(rng, n_try, window_start - CARRY_DAYS, as_of - 3, cal)
        lo, hi = LINE_DURATION[line, 0], LINE_DURATION[line, 1]
        duration = rng.integers(lo, hi + 1)
        # milestones: flatten the shapes
        sizes = np.array([len(s) for s in SHAPES])[shape]
        m_k = np.repeat(np.arange(n_try), sizes)
        m_seq = np.arange(len(m_k)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        tmpl = np.zeros((5, 8, 4))
        tmpl_type = np.zeros((5, 8), dtype=np.int64)
        for si, s in enumerate(SHAPES):
            for j, (mt, pct, frac, extra) in enumerate(s):
                tmpl[si, j] = (pct, frac, extra, 0)
                tmpl_type[si, j] = MILESTONE_TYPES.index(mt)
        ms = shape[m_k]
        m_pct = tmpl[ms, m_seq, 0]
        m_planned = (signed[m_k] + np.round(tmpl[ms, m_seq, 1] * duration[m_k]) + tmpl[ms, m_seq, 2]).astype(
            np.int64
        )
        m_type = tmpl_type[ms, m_seq]
        # billing: a few days to weeks after the planned date; year-end rush pulls January billing
        # into late December; nothing is invoiced on a holiday.
        issue = m_planned + rng.integers(0, 21, len(m_k))
        jan = (calendar_month(issue) == 1) & (rng.random(len(m_k)) < 0.3) & (m_type != 4)
        issue[jan] = _dec_base(issue[jan]) - rng.integers(0, 12, int(jan.sum()))
        issue = cal.next_business_day(issue)
        issue = np.maximum(issue, signed[m_k])
        alive = issue >= window_start  # billed before the window: outside the extract
        billed = (issue <= as_of) & alive
        nb = np.bincount(m_k, weights=billed, minlength=n_try).astype(np.int64)
        cum = np.cumsum(nb)
        if cum[-1] >= n_std:
            break
        n_try = int(n_try * 1.5) + 10
    n_k = int(np.searchsorted(cum, n_std) + 1)  # contracts needed
    keep_m = m_k < n_k
    excess = int(cum[n_k - 1] - n_std)
    billed = billed & keep_m
    if excess:  # the last contract's latest billed milestones stay unbilled (billing backlog)
        idx = np.flatnonzero(billed & (m_k == n_k - 1))
        billed[idx[np.argsort(issue[idx], kind="stable")][-excess:]] = False
    sl = slice(0, n_k)
    k_cust, line, shape, signed, duration = k_cust[sl], line[sl], shape[sl], signed[sl], duration[sl]
    m_k, m_seq, m_pct, m_planned, m_type, issue, billed, alive = (
        a[keep_m] for a in (m_k, m_seq, m_pct, m_planned, m_type, issue, billed, alive)
    )

    ctype = cust["customer_type"][k_cust]
    ccy = cust["currency"][k_cust]
    fx = np.array([FX_TO_CNY[c] for c in ccy.tolist()])
    size_mult = np.select(
        [ctype == "government", ctype == "soe", ctype == "individual"], [1.4, 1.6, 0.05], 1.0
    )
    amount_cny = _lognormal(rng, LINE_MEDIAN_CNY[line], 0.9, n_k) * size_mult
    amount = np.maximum(np.round(amount_cny / fx / 1000.0) * 1000.0, 10_000.0)
    amount_cents = (amount * 100).astype(np.int64)
    # milestone amounts: pct of the contract, last milestone absorbs the rounding
    m_amount = np.round(amount_cents[m_k] * m_pct / 100.0).astype(np.int64)
    sums = np.bincount(m_k, weights=m_amount, minlength=n_k).astype(np.int64)
    last = np.r_[np.flatnonzero(np.diff(m_k)), len(m_k) - 1]
    m_amount[last] += amount_cents - sums
    # Contracts running at the window start: the extract holds their remaining plan only, so the
    # contract amount is what remains and the percentages are restated over it.
    has_alive = np.bincount(m_k, weights=alive, minlength=n_k) > 0
    carried = np.bincount(m_k, weights=~alive, minlength=n_k) > 0
    new_k = np.cumsum(has_alive) - 1
    m_k, m_seq, m_pct, m_planned, m_type, issue, billed, m_amount = (
        a[alive] for a in (m_k, m_seq, m_pct, m_planned, m_type, issue, billed, m_amount)
    )
    keep_k = has_alive
    carried = carried[keep_k]
    m_k = new_k[m_k]
    k_cust, line, shape, signed, duration, amount_cents = (
        a[keep_k] for a in (k_cust, line, shape, signed, duration, amount_cents)
    )
    n_k = len(k_cust)
    ccy = ccy[keep_k]
    remaining = np.bincount(m_k, weights=m_amount, minlength=n_k).astype(np.int64)
    amount_cents = np.where(carried, remaining, amount_cents)
    restated = carried[m_k]
    m_pct = np.where(restated, np.round(m_amount / amount_cents[m_k] * 10000) / 100, m_pct)
    pct_sum = np.bincount(m_k, weights=m_pct, minlength=n_k)
    last = np.r_[np.flatnonzero(np.diff(m_k)), len(m_k) - 1]
    m_pct[last] = np.round(m_pct[last] + 100.0 - pct_sum, 2)
    retention = np.where(np.isin(shape, [0, 1]), 5.0, np.where(shape == 4, 10.0, 0.0))

    # Projects: most contracts open a project; some are supplements to the customer's last project.
    order = np.lexsort((signed, k_cust))
    supplement = np.zeros(n_k, dtype=bool)
    same_prev = np.r_[False, k_cust[order][1:] == k_cust[order][:-1]]
    supplement[order] = same_prev & (rng.random(n_k) < 0.12)
    proj_of = np.arange(n_k)
    prev = np.r_[-1, order[:-1]]
    for _ in range(3):  # follow supplement chains back to the opening contract
        s_ord = supplement[order]
        tgt = np.where(s_ord, proj_of[prev], proj_of[order])
        proj_of[order] = tgt
    uniq, proj_idx = np.unique(proj_of, return_inverse=True)
    year = year_of(signed)
    contract_id = np.array([f"HT{y}{i + 1:06d}" for i, y in enumerate(year.tolist())], dtype=object)
    contracts = {
        "contract_id": contract_id,
        "k_cust": k_cust,
        "line": line,
        "shape": shape,
        "signed": signed,
        "duration": duration,
        "amount_cents": amount_cents,
        "currency": ccy,
        "retention_pct": retention,
        "proj_idx": proj_idx,
        "terms": cust["payment_terms_days"][k_cust],
    }
    milestones = {
        "m_k": m_k,
        "seq": m_seq + 1,
        "type": m_type,
        "pct": m_pct,
        "amount_cents": m_amount,
        "planned": m_planned,
        "issue": issue,
        "billed": billed,
        "milestone_id": w.cat(
            w.take(w.sarr(contract_id), m_k),
            "-M",
            pc.utf8_lpad(pc.cast(pa.array(m_seq + 1), pa.string()), 2, "0"),
        ),
    }
    return contracts, milestones, uniq


def _dec_base(days: np.ndarray) -> np.ndarray:
    """The 31st of December before each day (day numbers)."""
    y = year_of(days)
    return (y - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) - 1


def build_projects(rng, contracts: dict, proj_first: np.ndarray, cust: dict, as_of: int) -> dict:
    """One row per project: the opening contract's customer and dates, value = all its contracts."""
    n = len(proj_first)
    k = proj_first  # index of the opening contract
    pidx = contracts["proj_idx"]
    value = np.bincount(pidx, weights=contracts["amount_cents"], minlength=n).astype(np.int64)
    end_c = contracts["signed"] + contracts["duration"]
    planned_end = np.zeros(n, dtype=np.int64)
    np.maximum.at(planned_end, pidx, end_c)
    kc = contracts["k_cust"][k]
    line = contracts["line"][k]
    city = cust["city"][kc]
    kinds = (
        ("综合楼施工总承包工程", "道路改造工程", "厂房建设工程", "市政管网工程", "装修改造工程"),
        ("设备采购及安装项目", "机电设备供货项目", "配电系统改造项目", "生产线设备安装项目"),
        ("信息化系统建设项目", "ERP实施项目", "智慧园区平台项目", "数据中心建设项目", "软件开发项目"),
        ("运维服务项目", "技术咨询服务项目", "物业智能化运维项目", "监理服务项目"),
    )
    kind = np.empty(n, dtype=object)
    for li, opts in enumerate(kinds):
        m = line == li
        kind[m] = np.array(opts, dtype=object)[rng.integers(0, len(opts), int(m.sum()))]
    area = np.array(["一期", "二期", "三期", "", "", "", "北区", "南区"], dtype=object)[rng.integers(0, 8, n)]
    name = city + cust["short_name"][kc] + area + kind
    pm, _ = nm.person_names(rng, n)
    status = np.where(planned_end <= as_of, "completed", "active").astype(object)
    status[(status == "active") & (rng.random(n) < 0.03)] = "suspended"
    return {
        "project_id": np.array([f"PRJ{i + 1:07d}" for i in range(n)], dtype=object),
        "project_name": name,
        "k_cust": kc,
        "project_manager": pm,
        "start": contracts["signed"][k],
        "planned_end": planned_end,
        "value_cents": value,
        "currency": contracts["currency"][k],
        "status": status,
    }


def _nearest_spring_festival(days: np.ndarray) -> np.ndarray:
    sf = np.sort(spring_festival_days())
    i = np.clip(np.searchsorted(sf, days), 1, len(sf) - 1)
    before, after = sf[i - 1], sf[i]
    return np.where(days - before < after - days, before, after)


DISPUTE_EXTRA_DAYS = (30.0, 75.0)  # a dispute adds Uniform(30, 75) days to the delay
DISPUTE_SCALE = 1.3  # and widens its noise


def _laplace_cdf(z: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(z < 0, 0.5 * np.exp(np.minimum(z, 0) / b), 1.0 - 0.5 * np.exp(-np.maximum(z, 0) / b))


def _laplace_cdf_integral(z: np.ndarray, b: np.ndarray) -> np.ndarray:
    """An antiderivative of the Laplace(0, b) CDF in z (continuous at 0)."""
    return np.where(
        z < 0, 0.5 * b * np.exp(np.minimum(z, 0) / b), z + 0.5 * b * np.exp(-np.maximum(z, 0) / b)
    )


def _delay_cdfs(x: np.ndarray, mu: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(delay <= x) without and with a dispute (mu + Laplace(0, b), mu + Uniform(30, 75) + Laplace(0, 1.3 b))."""
    lo_x, hi_x = DISPUTE_EXTRA_DAYS
    bd = DISPUTE_SCALE * b
    z = x - mu
    disputed = (_laplace_cdf_integral(z - lo_x, bd) - _laplace_cdf_integral(z - hi_x, bd)) / (hi_x - lo_x)
    return _laplace_cdf(z, b), disputed


def issue_time_median_delay(mu: np.ndarray, b: np.ndarray, p_dispute: np.ndarray) -> np.ndarray:
    """Median of the delay as known at issue, before it is known whether the invoice will be disputed.

    The delay is mu + Laplace(0, b) without a dispute and mu + Uniform(30, 75) + Laplace(0, 1.3 b)
    with one (probability `p_dispute`); disputes are raised 15-45 days after issue, so no model can
    know them at the issue date. The median minimises the expected absolute error; found by bisection
    on the mixture's CDF (closed form: the Laplace CDF integrated over the uniform extra).
    """
    lo = mu - 10.0 * b
    hi = mu + DISPUTE_EXTRA_DAYS[1] + 10.0 * DISPUTE_SCALE * b
    for _ in range(40):  # interval 100s of days wide: 40 halvings leave far below a day
        mid = 0.5 * (lo + hi)
        plain, disputed = _delay_cdfs(mid, mu, b)
        below = (1.0 - p_dispute) * plain + p_dispute * disputed < 0.5
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def _last_business_day(cal: Calendar, d: np.ndarray) -> np.ndarray:
    """Move each day back to the last working day on or before it."""
    d = np.array(d, dtype=np.int64, copy=True)
    for _ in range(14):
        m = cal.is_holiday(d)
        if not m.any():
            break
        d[m] -= 1
    return d


def payment_behaviour(
    rng,
    cust: dict,
    k: np.ndarray,
    issue: np.ndarray,
    due: np.ndarray,
    terms: np.ndarray,
    gross_cny: np.ndarray,
    mtype: np.ndarray,
    cal: Calendar,
) -> dict:
    """Draw each invoice's delay and default from a known distribution (the truth the ML can learn).

    delay (days after due) = max(mu + dispute extra + Laplace(0, b), lower), lower = 5 - terms
    (nobody pays within five days of issue). The truth is what was knowable at the issue date:
    `expected_delay` is the median of the delay given the customer's state at issue, a mixture over
    the dispute that may or may not come later (`issue_time_median_delay`); `expected_days_late` is
    the median of the days late of the actual pay date (moved to a working day), the best possible
    point prediction; `p_default` is the probability at issue of never paying, averaged over the
    dispute, and `p_unpaid_90_after_due` that of still being unpaid 90 days after due (never paying,
    or paying later than that).
    `expected_delay_after_dispute` (max(mu + extra, lower), knowing the dispute) and
    `p_default_after_dispute` are kept for reference; they use a fact of after the issue date.
    """
    n = len(k)
    tc = cust["tcode"][k]
    u = cust["propensity"][k]
    p_dispute = np.clip(0.04 + 0.015 * u, 0.005, 0.2)
    disputed = rng.random(n) < p_dispute
    dispute_extra = np.where(disputed, rng.uniform(*DISPUTE_EXTRA_DAYS, n), 0.0)
    det_active = cust["deteriorating"][k] & (issue >= cust["det_start"][k])
    det_months = np.where(det_active, (issue - cust["det_start"][k]) / 30.4, 0.0)
    det_extra = np.minimum(det_months * cust["det_slope"][k], 90.0)
    dm = calendar_month(due)
    year_end = np.where((dm == 12) & np.isin(tc, [0, 2]), 14.0, 0.0)
    sf = _nearest_spring_festival(due)
    spring = np.where((due >= sf - 20) & (due <= sf + 7), 10.0, 0.0)
    milestone = np.select([mtype == 4, mtype == 0], [25.0, -4.0], 0.0)
    mu_issue = (
        BASE_DELAY[tc]
        + PROPENSITY_DAYS * u
        + 5.0 * np.log10(np.maximum(gross_cny, 1e3) / 2e5)
        - 0.08 * (terms - 60)
        + year_end
        + spring
        + det_extra
        + milestone
    )
    mu = mu_issue + dispute_extra
    lower = 5.0 - terms
    b = DELAY_SCALE[tc]
    expected = np.maximum(issue_time_median_delay(mu_issue, b, p_dispute), lower)
    # the pay date is a monotone function of the delay, so its median is the median delay's pay date
    expected_days_late = cal.next_business_day(due + np.round(expected).astype(np.int64)) - due
    scale = b * np.where(disputed, DISPUTE_SCALE, 1.0)
    delay = np.maximum(mu + rng.laplace(0.0, scale), lower)
    pay = cal.next_business_day(due + np.round(delay).astype(np.int64))
    logit = (
        -6.0
        + 2.3 * u
        + DEFAULT_TYPE_LOGIT[tc]
        + 2.5 * det_active
        + 0.3 * np.log10(np.maximum(gross_cny, 1e3) / 2e5)
    )
    p_default = 1.0 / (1.0 + np.exp(-(logit + 1.2 * disputed)))
    defaulted = rng.random(n) < p_default
    p_never, p_never_d = 1.0 / (1.0 + np.exp(-logit)), 1.0 / (1.0 + np.exp(-(logit + 1.2)))
    p_issue = (1 - p_dispute) * p_never + p_dispute * p_never_d
    # "unpaid 90 days after due" (the models' default label) also holds for an invoice paid later
    # than that: pay day > due + 90 exactly when due + round(delay) is after the last working day
    # on or before due + 90, i.e. delay >= k + 0.5 with k that day's offset from the due date
    k90 = (_last_business_day(cal, due + 90) - due).astype(float)
    plain, disp = _delay_cdfs(k90 + 0.5, mu_issue, b)
    p_unpaid_90 = (1 - p_dispute) * (p_never + (1 - p_never) * (1 - plain)) + p_dispute * (
        p_never_d + (1 - p_never_d) * (1 - disp)
    )
    return {
        "expected_delay": expected,
        "expected_days_late": expected_days_late,
        "expected_delay_after_dispute": np.maximum(mu, lower),
        "delay_scale": scale,
        "pay_drawn": pay,
        "p_default": p_issue,
        "p_default_after_dispute": p_default,
        "p_unpaid_90_after_due": p_unpaid_90,
        "defaulted": defaulted,
        "disputed": disputed,
    }


def build_invoices(
    rng, cust: dict, contracts: dict, ms: dict, n_cancel: int, n_credit: int, as_of: int, cal: Calendar
) -> dict:
    """Standard milestone invoices, cancelled duplicates and credit notes, numbered by issue date.

    Returns one dict of columns over all invoices; `kind` is 0 standard, 1 cancelled, 2 credit note.
    """
    b = np.flatnonzero(ms["billed"])
    kc = ms["m_k"][b]  # contract index per standard invoice
    k = contracts["k_cust"][kc]
    issue = ms["issue"][b]
    gross = ms["amount_cents"][b]
    rate = LINE_VAT[contracts["line"][kc]]
    terms = contracts["terms"][kc]
    ns = len(b)

    # cancelled duplicates: issued a few days before the valid invoice, cancelled soon after
    ci = np.sort(rng.choice(ns, size=min(n_cancel, ns), replace=False))
    c_issue = np.maximum(
        cal.next_business_day(issue[ci] - rng.integers(3, 8, len(ci))), contracts["signed"][kc[ci]]
    )
    c_issue = np.minimum(c_issue, issue[ci])
    # credit notes: price corrections 5-45 days after the invoice, some full reversals
    eligible = np.flatnonzero(issue <= as_of - 10)
    cn = np.sort(rng.choice(eligible, size=min(n_credit, len(eligible)), replace=False))
    cn_issue = np.minimum(cal.next_business_day(issue[cn] + rng.integers(5, 46, len(cn))), as_of)
    full = rng.random(len(cn)) < 0.2
    frac = np.where(full, 1.0, rng.uniform(0.02, 0.3, len(cn)))
    cn_gross = -np.maximum(np.round(gross[cn] * frac / 100.0).astype(np.int64) * 100, 100)
    cn_gross = np.where(full, -gross[cn], np.maximum(cn_gross, -gross[cn]))

    src = np.concatenate([np.arange(ns), ci, cn])  # standard invoice each row derives from
    kind = np.concatenate([np.zeros(ns, np.int8), np.ones(len(ci), np.int8), np.full(len(cn), 2, np.int8)])
    inv_issue = np.concatenate([issue, c_issue, cn_issue])
    inv_gross = np.concatenate([gross, gross[ci], cn_gross])
    inv_rate = rate[src]
    net = np.round(np.abs(inv_gross) / (1.0 + inv_rate)).astype(np.int64) * np.sign(inv_gross)
    tax = inv_gross - net
    inv_terms = terms[src]
    due = np.where(kind == 2, inv_issue, inv_issue + inv_terms)

    order = np.lexsort((np.arange(len(src)), inv_issue))
    year = year_of(inv_issue)
    seq = np.zeros(len(src), dtype=np.int64)
    oy = year[order]
    first_of_year = np.r_[0, np.flatnonzero(np.diff(oy)) + 1]
    pos = np.arange(len(order)) - np.repeat(first_of_year, np.diff(np.r_[first_of_year, len(order)]))
    seq[order] = pos + 1
    invoice_no = w.cat(
        "INV-",
        pc.cast(pa.array(year), pa.string()),
        "-",
        pc.utf8_lpad(pc.cast(pa.array(seq), pa.string()), 7, "0"),
    )

    inv = {
        "invoice_no": invoice_no,
        "kind": kind,
        "src": src,
        "k_cust": k[src],
        "k_contract": kc[src],
        "ms_row": b[src],
        "issue": inv_issue,
        "due": due,
        "gross": inv_gross,
        "net": net,
        "tax": tax,
        "rate": inv_rate,
        "terms": inv_terms,
        "year": year,
        "seq": seq,
        "currency": contracts["currency"][kc[src]],
        "cancel_at": np.full(len(src), -1, np.int64),
        "original": np.full(len(src), -1, np.int64),
    }
    inv["cancel_at"][ns : ns + len(ci)] = c_issue + rng.integers(1, 5, len(ci))
    inv["original"][ns + len(ci) :] = cn  # row of the corrected standard invoice
    ms_invoice = np.full(len(ms["m_k"]), -1, np.int64)
    ms_invoice[b] = np.arange(ns)  # invoice row once billed, -1 while unbilled
    ms["invoice_row"] = ms_invoice
    return inv
