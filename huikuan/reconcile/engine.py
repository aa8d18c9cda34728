"""The cash-application engine: bank receipts against open items, rules in DESIGN.md §6 order.

Pure: DataFrames in, a ReconcileResult out; no database, no clock. People's decisions are applied
first and never overridden; then every receipt, in booking order, goes through the rules and the
first confident hit wins: remittance references, then the identified payer's open items (exact
amount, combination, short or partial payment). A match at or above the confidence threshold is
applied (and reduces the open amounts later receipts see); below it, it is proposed for review.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from huikuan.reconcile.clues import NO_CLUES, Clues, bigrams, named_projects, parse_clues
from huikuan.reconcile.config import ReconcileConfig
from huikuan.reconcile.names import NameIndex, normalize_company_name
from huikuan.reconcile.remittance import STRONG, RefIndex, normalize_text
from huikuan.reconcile.subset import find_subsets

MATCH_COLUMNS = [
    "bank_txn_key", "invoice_no", "customer_id", "booking_date", "applied_amount", "currency", "rule",
    "confidence", "evidence", "status", "written_off_amount", "write_off_reason",
]
PROPOSAL_COLUMNS = [
    "bank_txn_key", "invoice_no", "customer_id", "amount", "currency", "rule", "score", "evidence", "rank",
]
UNMATCHED_COLUMNS = [
    "bank_txn_key", "booking_date", "amount", "currency", "counterparty_name", "reason", "detail",
    "suggestions",
]
UNAPPLIED_COLUMNS = ["bank_txn_key", "customer_id", "booking_date", "amount", "currency", "reason"]

# Reasons a bank line ends up without an applied match. Those in EXPLAINED need nobody's attention.
REASONS = {
    "debit": "outgoing payment (debit), not a receipt",
    "zero_amount": "zero amount",
    "reversal": "reversal entry",
    "reversed": "credit later reversed by the bank",
    "not_receivable": "not a customer payment",
    "no_open_items_in_currency": "no open items in this currency",
    "proposed": "match proposed below the auto-apply threshold",
    "rejected": "every proposal rejected by a person",
    "no_candidate": "no invoice reference and no identified payer with a fitting open item",
    "decided": "decided by a person",
}
EXPLAINED = {"debit", "zero_amount", "reversal", "reversed", "not_receivable", "decided"}

# Credits that are not customer payments (interest, tax refunds, own transfers): only used when no
# reference or payer was found, so a real receipt mentioning 利息 is never hidden.
NON_RECEIVABLE_WORDS = (
    "利息", "结息", "存款息", "退税", "理财", "赎回", "内部转账", "资金调拨", "资金归集", "归集", "贷款",
    "放款", "政府补助", "补贴", "保证金", "押金", "公积金", "INTEREST", "TAX REFUND", "INTERNAL TRANSFER",
    "OWN ACCOUNT", "DEPOSIT", "LOAN", "FX CONVERSION", "DRAWDOWN",
)
# Receivable phrases that contain one of those words: retention money (质量保证金) is an invoice paid.
RECEIVABLE_PHRASES = ("质量保证金", "质量保修金")
# Public bodies pay through the city treasury (国库集中支付): the name says which city, not which body.
_TREASURY = re.compile(r"^(.{2,8}?)市?财政(?:局)?(?:国库)?(?:集中)?支付")

PAYER_CONFIDENCE = {"account": 0.99, "alias": 0.98, "name": 0.98, "account_seen": 0.97, "contract_in_text": 0.95}


@dataclass
class ReconcileResult:
    matches: pd.DataFrame
    proposals: pd.DataFrame
    unmatched: pd.DataFrame
    unapplied: pd.DataFrame
    stats: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """Headline figures: lines, receipts, how many were applied automatically or by people."""
        return dict(self.stats)


def to_cents(values) -> np.ndarray:
    """Amounts (decimals, floats, strings) to integer cents; blanks become 0."""
    arr = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").astype("float64")
    return np.rint(arr.fillna(0.0).to_numpy() * 100).astype(np.int64)


def to_days(values) -> np.ndarray:
    """Dates to integer days since 1970; blanks become a very early day."""
    ts = pd.to_datetime(pd.Series(values), errors="coerce")
    days = ts.to_numpy().astype("datetime64[D]").astype(np.int64)
    return np.where(ts.isna().to_numpy(), -(10**6), days)


def _col(df: pd.DataFrame, name: str, default=None) -> list:
    if name not in df.columns:
        return [default] * len(df)
    col = df[name]
    return col.astype(object).where(col.notna(), default).tolist()


def _str_col(df: pd.DataFrame, name: str) -> list[str]:
    """A column as stripped strings, blanks as '' (vectorized: this runs over millions of rows)."""
    if name not in df.columns:
        return [""] * len(df)
    col = df[name]
    if col.dtype == object or str(col.dtype).startswith(("str", "string")):
        return col.fillna("").astype(str).str.strip().tolist()
    return col.astype(object).where(col.notna(), "").astype(str).str.strip().tolist()


def _cents_out(c: int) -> float:
    return round(c / 100.0, 2)


class _Items:
    """Open items with mutable open amounts, indexed by invoice number and by (customer, currency)."""

    def __init__(self, open_items: pd.DataFrame):
        df = open_items.reset_index(drop=True)
        self.no = _str_col(df, "invoice_no")
        self.cust = _str_col(df, "customer_id")
        self.cur = [c.upper() for c in _str_col(df, "currency")]
        self.open = to_cents(df["open_amount"] if "open_amount" in df.columns else [0] * len(df)).tolist()
        # Gross (invoice) amount: partial payments are usually a round share of it.
        self.gross = to_cents(df["gross_amount"]).tolist() if "gross_amount" in df.columns else list(self.open)
        self.issue = to_days(_col(df, "issue_date")).tolist()
        self.due = to_days(_col(df, "due_date")).tolist()
        self.by_no = {no: i for i, no in enumerate(self.no) if no}
        # Credit notes by the invoice they correct: a payer nets them against that invoice.
        self.credits_of: dict[str, list[int]] = defaultdict(list)
        self.original = _str_col(df, "original_invoice_no")
        # Items of one contract with the same customer, currency and amount are interchangeable for
        # cash application (equal milestone instalments): settling the oldest fitting one is what
        # an accountant does and leaves the same receivable. Without a contract nothing is a twin.
        self.contract = _str_col(df, "contract_id")
        # What a remittance text may name instead of an invoice number (clues.py).
        self.project = _str_col(df, "project_id")
        self.project_name = _str_col(df, "project_name")
        self.mtype = [t.lower() for t in _str_col(df, "milestone_type")]
        months = np.asarray(self.issue, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        self.month = np.where(np.asarray(self.issue) > -(10**5), months, -1).tolist()
        self.by_contract: dict[str, str] = {}
        for c, cust in zip(self.contract, self.cust):
            if c:
                self.by_contract[c] = cust if self.by_contract.get(c, cust) == cust else ""
        for i, orig in enumerate(self.original):
            if orig and self.open[i] < 0:
                self.credits_of[orig].append(i)
        # A credit note that fully reverses its invoice settles it without cash: neither is open.
        for orig, notes in self.credits_of.items():
            o = self.by_no.get(orig)
            if o is not None and len(notes) == 1 and self.open[o] + self.open[notes[0]] == 0:
                self.open[o] = self.open[notes[0]] = 0
        by_cust: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i in range(len(self.no)):
            if self.open[i] != 0:
                by_cust[(self.cust[i], self.cur[i])].append(i)
        # Oldest first: issue date, then due date, then number — the order ties are broken in.
        self.by_cust = {k: sorted(v, key=lambda i: (self.issue[i], self.due[i], self.no[i])) for k, v in by_cust.items()}
        self.currencies = {self.cur[i] for i in range(len(self.no)) if self.open[i] > 0}
        by_amount: dict[tuple[str, int], list[int]] = defaultdict(list)
        for i in range(len(self.no)):
            if self.open[i] > 0:
                by_amount[(self.cur[i], self.open[i])].append(i)
        self.by_amount = by_amount

    def order_key(self, i: int):
        return (self.issue[i], self.due[i], self.no[i])

    def twin_key(self, i: int):
        """What an item is interchangeable by: customer, currency, contract, gross and open amount;
        an item without a contract is only itself."""
        if not self.contract[i]:
            return ("item", i)
        return (self.cust[i], self.cur[i], self.contract[i], self.gross[i], self.open[i])

    def interchangeable(self, groups: list[list[int]]) -> bool:
        """Do all these item sets hold the same multiset of twins (so any of them settles the same)?"""
        keys = {tuple(sorted(map(str, (self.twin_key(x) for x in g)))) for g in groups}
        return len(keys) == 1


class _Customers:
    def __init__(self, customers: pd.DataFrame):
        df = customers.reset_index(drop=True)
        ids = _str_col(df, "customer_id")
        names = _str_col(df, "customer_name")
        parents = _str_col(df, "parent_customer_id")
        self.name = dict(zip(ids, names))
        self.type = dict(zip(ids, _str_col(df, "customer_type")))
        parent = {c: p for c, p in zip(ids, parents) if p and p != c}
        self.root: dict[str, str] = {}
        for c in ids:
            seen, r = {c}, c
            while r in parent and parent[r] not in seen:
                r = parent[r]
                seen.add(r)
            self.root[c] = r
        members: dict[str, list[str]] = defaultdict(list)
        for c in ids:
            members[self.root[c]].append(c)
        self.members = {r: sorted(m) for r, m in members.items()}

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one instance per run, a few hundred cities
    def public_bodies(self, city: str) -> list[str]:
        """Customers a city treasury may pay for: public bodies whose name starts with the city."""
        out = []
        for cid, nm in self.name.items():
            kind = self.type.get(cid, "")
            if nm.startswith(city) and (kind == "government" if kind else "公司" not in nm):
                out.append(cid)
        return tuple(sorted(out))

    def group_of(self, cid: str) -> list[str]:
        """The other customers in cid's group (parent, children, siblings)."""
        root = self.root.get(cid, cid)
        return [c for c in self.members.get(root, [cid]) if c != cid]

    def same_group(self, a: str, b: str) -> bool:
        return self.root.get(a, a) == self.root.get(b, b)


class _Decisions:
    """Latest-wins view of people's decisions, per bank line and per (bank line, invoice) pair."""

    def __init__(self, decisions: pd.DataFrame | None):
        self.rejected: set[tuple[str, str]] = set()
        self.line: dict[str, dict] = {}  # whole-line decisions (invoice_no empty)
        self.pairs: dict[str, list[dict]] = defaultdict(list)  # confirm / manual_match / write_off
        if decisions is None or len(decisions) == 0:
            return
        df = decisions.copy()
        order = "decision_id" if "decision_id" in df.columns else None
        if order:
            df = df.sort_values(order, kind="stable")
        latest: dict[tuple[str, str], dict] = {}
        for row in df.to_dict("records"):
            key = str(row.get("bank_txn_key") or "").strip()
            inv = row.get("invoice_no")
            inv = "" if inv is None or (isinstance(inv, float) and np.isnan(inv)) else str(inv).strip()
            if key:
                latest[(key, inv)] = row  # a later row for the same subject supersedes the earlier
        for (key, inv), row in latest.items():
            d = row["decision"]
            if not inv:
                self.line[key] = row
            elif d == "reject":
                self.rejected.add((key, inv))
            elif d in ("confirm", "manual_match", "write_off"):
                self.pairs[key].append(row)
        for key in self.pairs:
            self.pairs[key].sort(key=lambda r: (str(r.get("invoice_no")), r.get("decision_id") or 0))


def _payers(bank_names: list[str], bank_accounts: list[str], customers: _Customers,
            aliases: pd.DataFrame | None, config: ReconcileConfig, bank_texts: list[str] | None = None,
            ref_customers: list[set[str]] | None = None) -> list[tuple]:
    """Identify the paying customer of every line: (customer_id or None, method, confidence, candidates).

    `candidates` lists the customers an ambiguous name fits (empty when identified or unknown).

    Work is per distinct name and account, and the fuzzy search only sees names nothing else resolved.
    """
    account_map: dict[str, set[str]] = defaultdict(set)
    names: dict[str, list[str]] = defaultdict(list)
    for cid, nm in customers.name.items():
        names[cid].append(nm)
    alias_names: dict[str, set[str]] = defaultdict(set)
    if aliases is not None and len(aliases):
        for row in aliases.to_dict("records"):
            cid = str(row.get("customer_id") or "").strip()
            if not cid:
                continue
            acct = _norm_account(row.get("counterparty_account"))
            if acct:
                account_map[acct].add(cid)
            nm = row.get("payer_name")
            if isinstance(nm, str) and nm.strip():
                norm = normalize_company_name(nm)
                if norm:
                    alias_names[norm].add(cid)
    index = NameIndex(names)
    cache: dict[tuple[str, str], tuple] = {}
    fuzzy_cache: dict[str, list[tuple[str, float]]] = {}
    out = []
    texts = bank_texts if bank_texts is not None else [""] * len(bank_names)
    for name, acct, text in zip(bank_names, bank_accounts, texts):
        k = (name, acct) if name else (name, acct, text)
        hit = cache.get(k)
        if hit is None:
            hit = (None, "", 0.0, ())
            a = _norm_account(acct)
            if a and len(account_map.get(a, ())) == 1:
                hit = (next(iter(account_map[a])), "account", PAYER_CONFIDENCE["account"], ())
            elif name:
                exact, norm = index.lookup(name)
                if norm and len(alias_names.get(norm, ())) == 1:
                    hit = (next(iter(alias_names[norm])), "alias", PAYER_CONFIDENCE["alias"], ())
                elif len(exact) == 1:
                    hit = (next(iter(exact)), "name", PAYER_CONFIDENCE["name"], ())
                elif len(exact) > 1:
                    hit = (None, "ambiguous_name", PAYER_CONFIDENCE["name"], tuple(sorted(exact)))
                elif norm:
                    if norm not in fuzzy_cache:
                        fuzzy_cache[norm] = index.fuzzy(norm, min_score=config.fuzzy_min_score,
                                                        margin=config.fuzzy_margin)
                    fz = fuzzy_cache[norm]
                    if len(fz) == 1:
                        hit = (fz[0][0], "fuzzy_name", fz[0][1], ())
                    elif fz:
                        hit = (None, "ambiguous_name", fz[0][1], tuple(c for c, _ in fz))
                    # A brand written alone names a whole group when only that group's companies
                    # carry it: the group's head is the payer, its members' items are candidates.
                    if hit[0] is None:
                        holders = index.containing(norm)
                        roots = {customers.root.get(c, c) for c in holders}
                        if len(roots) == 1:
                            hit = (next(iter(roots)), "group_brand", 0.9, ())
            if hit[0] is None and not name and text:
                hit = _name_in_text(text, index) or hit
            if hit[0] is None and name:
                m = _TREASURY.match(normalize_text(name))
                if m:
                    public = customers.public_bodies(m.group(1))
                    if public:
                        hit = (None, "treasury", 0.9, tuple(public))
            cache[k] = hit
        out.append(hit)
    # A counterparty account seen with a payer identified by name (or alias) in this run identifies
    # the payer of the same account's other lines, whatever name the bank printed on them.
    # Lines whose invoice references all belong to one customer teach their account the same way.
    seen: dict[str, set[str]] = defaultdict(set)
    refc = ref_customers if ref_customers is not None else [set()] * len(out)
    for (cid, method, _, _), acct, rc in zip(out, bank_accounts, refc):
        a = _norm_account(acct)
        if not a:
            continue
        if cid and method in ("name", "alias", "account"):
            seen[a].add(cid)
        elif len(rc) == 1:
            seen[a] |= rc
    for j, ((cid, method, _, _), acct) in enumerate(zip(out, bank_accounts)):
        if method in ("name", "alias", "account"):
            continue
        a = _norm_account(acct)
        who = seen.get(a, ()) if a else ()
        if len(who) == 1:
            out[j] = (next(iter(who)), "account_seen", PAYER_CONFIDENCE["account_seen"], ())
        elif who and len({customers.root.get(c, c) for c in who}) == 1:
            # One group's companies all paid from this account: the group's head pays for them.
            out[j] = (customers.root.get(next(iter(who))), "account_seen_group", 0.95, ())
    return out


def _name_in_text(text: str, index: NameIndex) -> tuple | None:
    """Statements without a name field (unstructured MT940 :86:) start the text with the payer's name."""
    hit = index.by_prefix(text.split("|")[0])
    return (next(iter(hit)), "name_in_text", 0.95, ()) if hit else None


@functools.lru_cache(maxsize=1 << 20)
def _norm_account(acct) -> str:
    if not isinstance(acct, str):
        return "" if acct is None or (isinstance(acct, float) and np.isnan(acct)) else str(acct)
    return "".join(ch for ch in normalize_text(acct) if ch.isalnum())


def _pair_reversals(keys, cents, days, is_rev, accounts, names) -> dict[str, str]:
    """Pair each reversal with the earlier opposite line it cancels: {key: partner key} both ways."""
    pairs: dict[str, str] = {}
    candidates: dict[tuple, list[int]] = defaultdict(list)
    order = sorted(range(len(keys)), key=lambda i: (days[i], keys[i]))
    for i in order:
        if not is_rev[i]:
            candidates[(accounts[i], cents[i])].append(i)
    for i in order:
        if not is_rev[i]:
            continue
        pool = candidates.get((accounts[i], -cents[i]), [])
        # The latest earlier line with the opposite amount (same payer when names are given).
        best = None
        for j in pool:
            if days[j] <= days[i] and keys[j] not in pairs and (not names[i] or not names[j] or names[i] == names[j]):
                best = j
        if best is not None:
            pairs[keys[i]] = keys[best]
            pairs[keys[best]] = keys[i]
    return pairs


class _Engine:
    def __init__(self, bank, open_items, customers, decisions, aliases, config: ReconcileConfig):
        self.cfg = config
        b = bank.reset_index(drop=True)
        self.keys = _str_col(b, "bank_txn_key")
        dup = pd.Series(self.keys).duplicated()
        if dup.any():
            raise ValueError(f"bank_txn_key must be unique; duplicated: {pd.Series(self.keys)[dup].head(5).tolist()}")
        self.cents = to_cents(b["amount"]).tolist()
        self.cur = [c.upper() for c in _str_col(b, "currency")]
        self.days = to_days(b["booking_date"]).tolist()
        self.dates = pd.to_datetime(b["booking_date"], errors="coerce").dt.date.tolist()
        rev = _col(b, "is_reversal", False)
        self.is_rev = [bool(v) and str(v).lower() not in ("false", "0") for v in rev]
        self.names = _str_col(b, "counterparty_name")
        self.accounts = _str_col(b, "counterparty_account")
        self.account_ids = _str_col(b, "account_id")
        texts = zip(_str_col(b, "remittance_text"), _str_col(b, "end_to_end_id"), _str_col(b, "structured_reference"))
        self.texts = [" | ".join(t for t in parts if t) for parts in texts]
        self.items = _Items(open_items)
        self.customers = _Customers(customers)
        self.decisions = _Decisions(decisions)
        self.aliases = aliases
        self.matches: list[tuple] = []
        self.proposals: list[tuple] = []
        self.unmatched: list[tuple] = []
        self.unapplied: list[tuple] = []
        self.stats: dict[str, int] = defaultdict(int)
        # Days from due date to payment seen on this run's confident matches, per customer: how
        # late a payer usually pays tells which of several same-amount invoices a receipt settles.
        self.delays: dict[str, list[int]] = defaultdict(list)
        self._contract_index: RefIndex | None = None
        self._clue_cache: dict[str, Clues] = {}
        self._project_grams: dict[str, frozenset[str]] = {}

    # ---- remittance clues (clues.py) -------------------------------------------------------------
    def clues(self, i: int) -> Clues:
        """Milestone words, months, contracts and project segments in line i's text (cached per text)."""
        text = self.texts[i]
        hit = self._clue_cache.get(text)
        if hit is None:
            if self._contract_index is None:
                self._contract_index = RefIndex.build(sorted(self.items.by_contract), min_digits=99)
            hit = parse_clues(text, self._contract_index) if text else NO_CLUES
            self._clue_cache[text] = hit
        return hit

    def clue_filter(self, clues: Clues, items: list[int]) -> tuple[list[int], dict]:
        """The items that agree with every clue the text gives, and what was used (evidence).

        Contract numbers and project names are firm (`firm` in the evidence); milestone words and
        months are not (payers write 进度款 for whatever they pay now and then).
        """
        it = self.items
        used: dict = {}
        out = items
        if clues.contracts:
            named = [x for x in out if it.contract[x] in clues.contracts]
            if named:
                out, used["contracts"] = named, sorted(clues.contracts)
        if clues.segments:
            grams = {}
            for x in out:
                pid = it.project[x]
                if pid and pid not in grams:
                    g = self._project_grams.get(pid)
                    if g is None:
                        g = self._project_grams[pid] = bigrams(normalize_text(it.project_name[x]))
                    grams[pid] = g
            named_p = named_projects(clues, grams) if grams else set()
            if named_p and len(named_p) < len(grams):
                out, used["projects"] = [x for x in out if it.project[x] in named_p], sorted(named_p)
        used["firm"] = bool(used)
        if clues.milestone_types:
            out = [x for x in out if it.mtype[x] in clues.milestone_types]
            used["milestone_types"] = sorted(clues.milestone_types)
        if clues.periods:
            # 2024年3月进度款: the work of March, billed in March or early April.
            out = [x for x in out if any(it.month[x] - p in (0, 1) for p in clues.periods)]
            used["periods"] = sorted(f"{p // 12 + 1970}-{p % 12 + 1:02d}" for p in clues.periods)
        return out, used

    # ---- output helpers -------------------------------------------------------------------------
    def _unmatched(self, i: int, reason: str, detail: str = "", suggestions: list | None = None) -> None:
        self.stats[f"unmatched_{reason}"] += 1
        self.unmatched.append((
            self.keys[i], self.dates[i], _cents_out(self.cents[i]), self.cur[i], self.names[i] or None,
            reason, detail or REASONS[reason], json.dumps(suggestions or [], ensure_ascii=False),
        ))

    def _apply(self, i: int, allocations: list[tuple[int, int, int]], rule: str, conf: float, evidence: dict,
               *, status: str = "auto", write_off_reason: str | None = None, unapplied: int = 0,
               customer: str | None = None) -> None:
        """Record applied allocations (item index, applied cents, written-off cents)."""
        ev = json.dumps(evidence, ensure_ascii=False, sort_keys=True)
        for idx, applied, wo in allocations:
            it = self.items
            it.open[idx] -= applied + wo
            if status == "auto" and it.due[idx] > -(10**5):
                self.delays[it.cust[idx]].append(self.days[i] - it.due[idx])
            self.matches.append((
                self.keys[i], it.no[idx], it.cust[idx], self.dates[i], _cents_out(applied), self.cur[i], rule,
                round(conf, 3), ev, status, _cents_out(wo), write_off_reason if wo else None,
            ))
        if unapplied > 0:
            self.unapplied.append((self.keys[i], customer, self.dates[i], _cents_out(unapplied), self.cur[i],
                                   "overpayment kept as credit"))
        self.stats[f"{status}_lines"] += 1

    def _propose(self, i: int, options: list[tuple[list[tuple[int, int, int]], str, float, dict]]) -> None:
        for rank, (allocs, rule, score, evidence) in enumerate(options[: self.cfg.max_suggestions], start=1):
            ev = json.dumps(evidence, ensure_ascii=False, sort_keys=True)
            for idx, applied, _wo in allocs:
                it = self.items
                self.proposals.append((self.keys[i], it.no[idx], it.cust[idx], _cents_out(applied), self.cur[i],
                                       rule, round(score, 3), ev, rank))

    def _decide(self, i: int, allocs, rule: str, conf: float, evidence: dict, **kw) -> bool:
        """Apply when confident, else propose; returns True when the line is settled either way."""
        if conf >= self.cfg.auto_threshold:
            self._apply(i, allocs, rule, conf, evidence, **kw)
        else:
            self._propose(i, [(allocs, rule, conf, evidence)])
            self._unmatched(i, "proposed", f"{rule} at confidence {conf:.2f}")
        return True

    # ---- candidate selection -------------------------------------------------------------------
    def _open_for(self, i: int, customers: list[str], *, credits: bool = False) -> list[int]:
        it, day, cur, key = self.items, self.days[i], self.cur[i], self.keys[i]
        window = self.cfg.window_days
        rejected = self.decisions.rejected
        out = []
        lo = -(10**9) if window is None else day - window
        opn, issue = it.open, it.issue
        for cid in customers:
            lst = it.by_cust.get((cid, cur))
            if not lst:
                continue
            settled = 0
            # Lists are oldest first: stop at the first item issued after the booking date.
            end = bisect.bisect_right(lst, day, key=issue.__getitem__)
            for idx in lst[:end]:
                o = opn[idx]
                if o == 0:
                    settled += 1
                elif (o > 0 or credits) and lo <= issue[idx] <= day:
                    out.append(idx)
            if settled > 16 and settled * 2 > end:
                it.by_cust[(cid, cur)] = [x for x in lst if opn[x] != 0]  # drop settled items
        if rejected:
            out = [x for x in out if (key, it.no[x]) not in rejected]
        if len(customers) > 1:
            out.sort(key=it.order_key)
        return out

    # ---- the rules -----------------------------------------------------------------------------
    def run(self, payers, refs) -> None:
        cfg, it = self.cfg, self.items
        n = len(self.keys)
        reversal_pairs = _pair_reversals(self.keys, self.cents, self.days, self.is_rev, self.account_ids, self.names)
        self.stats["lines"] = n
        todo = []
        # People first: their decisions are applied before any rule runs and are never revisited.
        for i in range(n):
            key = self.keys[i]
            line = self.decisions.line.get(key)
            pairs = self.decisions.pairs.get(key)
            if self.cents[i] > 0:
                self.stats["credits"] += 1
            if pairs:
                self._apply_decisions(i, pairs)
                continue
            if line is not None and line["decision"] == "not_receivable":
                self._unmatched(i, "not_receivable", f"decided by {line.get('decided_by')}: {line.get('reason') or ''}".strip())
                continue
            if self.cents[i] == 0:
                self._unmatched(i, "zero_amount")
            elif self.is_rev[i]:
                partner = reversal_pairs.get(key)
                self._unmatched(i, "reversal", f"reverses {partner}" if partner else "reversal without a matching original line")
            elif key in reversal_pairs:
                self._unmatched(i, "reversed", f"reversed by {reversal_pairs[key]}")
            elif self.cents[i] < 0:
                self._unmatched(i, "debit")
            elif line is not None and line["decision"] == "reject":
                self._unmatched(i, "rejected", f"rejected by {line.get('decided_by')}")
            elif self.cur[i] not in it.currencies:
                self._unmatched(i, "no_open_items_in_currency", f"no open items in {self.cur[i] or 'an unknown currency'}")
            else:
                todo.append(i)
        self.stats["receipts_considered"] = len(todo)
        todo.sort(key=lambda i: (self.days[i], self.keys[i]))
        for i in todo:
            cid, method, pconf, cands = payers[i]
            if not refs[i] and method not in ("name", "alias", "account"):
                # A contract number in the text belongs to one customer: that customer's items are
                # the candidates (a city treasury or an unknown account paying for it), unless a
                # name or account identified a payer of the same group.
                owners = {it.by_contract.get(c, "") for c in self.clues(i).contracts}
                if (len(owners) == 1 and "" not in owners
                        and not (cid and self.customers.same_group(cid, next(iter(owners))))):
                    cid, method, pconf = next(iter(owners)), "contract_in_text", PAYER_CONFIDENCE["contract_in_text"]
            if refs[i] and self._by_reference(i, refs[i], cid, method, pconf):
                continue
            if not refs[i] and self._looks_not_receivable(i):
                continue
            if cid and self._by_payer(i, cid, method, pconf):
                continue
            limit = cfg.max_treasury_candidates if method == "treasury" else cfg.max_payer_candidates
            if cands and len(cands) <= limit and self._by_payer_set(i, cands, method, pconf):
                continue
            self._no_match(i, cid, method, pconf, refs[i])

    def _apply_decisions(self, i: int, rows: list[dict]) -> None:
        it = self.items
        allocs, wos = [], []
        total = 0
        for row in rows:
            idx = it.by_no.get(str(row["invoice_no"]).strip())
            amount = row.get("amount")
            cents = None if amount is None or (isinstance(amount, float) and np.isnan(amount)) else round(float(amount) * 100)
            if idx is None:
                self._unmatched(i, "decided", f"decision names unknown invoice {row['invoice_no']}")
                continue
            if row["decision"] == "write_off":
                wos.append((idx, 0, cents if cents is not None else max(it.open[idx], 0), row))
                continue
            if cents is None:  # a confirmation without an amount applies what is open, up to the line
                cents = max(0, min(it.open[idx], self.cents[i] - total))
            total += cents
            allocs.append((idx, cents, row))
        for idx, cents, row in allocs:
            self._apply(i, [(idx, cents, 0)], "decision", 1.0, _decision_evidence(row), status="manual")
        for idx, _, wo, row in wos:
            self._apply(i, [(idx, 0, wo)], "decision", 1.0, _decision_evidence(row), status="manual",
                        write_off_reason=row.get("reason") or "written off by a person")
        rest = self.cents[i] - total
        if rest > 0 and allocs:
            self.unapplied.append((self.keys[i], it.cust[allocs[0][0]], self.dates[i], _cents_out(rest), self.cur[i],
                                   "remainder after people's decisions"))

    def _by_reference(self, i: int, found: list[tuple[str, str]], cid, method, pconf) -> bool:
        cfg, it = self.cfg, self.items
        A, key = self.cents[i], self.keys[i]
        idxs, kinds, closed = [], [], []
        for no, kind in found:
            idx = it.by_no.get(no)
            if idx is None or it.cur[idx] != self.cur[i] or (key, no) in self.decisions.rejected:
                continue
            if it.open[idx] == 0 or it.issue[idx] > self.days[i]:
                closed.append(no)
                continue
            idxs.append(idx)
            kinds.append(kind)
        if not idxs:
            return False
        idxs_sorted = sorted(idxs, key=it.order_key)
        strong = all(k == STRONG for k in kinds)
        tol = round(cfg.exact_tolerance * 100)
        # A payer nets open credit notes against the invoices they correct, quoting only the invoice.
        notes = [c for x in idxs_sorted for c in it.credits_of.get(it.no[x], ())
                 if it.open[c] < 0 and it.issue[c] <= self.days[i] and (key, it.no[c]) not in self.decisions.rejected]
        if notes and abs(A - sum(it.open[x] for x in idxs_sorted + notes)) <= tol:
            idxs_sorted = idxs_sorted + notes
            idxs = idxs + notes
        refs_ev = [it.no[x] for x in idxs_sorted]
        ev = {"references": refs_ev, "reference_kind": "number" if strong else "digits", "amount": _cents_out(A)}
        if closed:
            ev["closed_references"] = closed
        ref_customers = {it.cust[x] for x in idxs}
        # A payer identified by name or account who is outside the referenced invoices' group is a
        # conflict (a typo in the number, or a third party paying): never applied without a person.
        factor = exact_factor = 1.0
        if cid:
            ev["payer"] = {"customer_id": cid, "method": method, "score": pconf}
            if not any(self.customers.same_group(cid, c) for c in ref_customers):
                # An exact amount on a written invoice number outweighs a payer name that disagrees
                # (third parties and unregistered group companies pay too); anything looser does not.
                firm = method in ("name", "alias", "account")
                factor, exact_factor = (0.8, 0.93) if firm else (0.9, 0.97)
                ev["payer_conflict"] = True
        base = 0.99 if strong else 0.95
        S = sum(it.open[x] for x in idxs)
        ev["open_sum"] = _cents_out(S)
        cust = it.cust[idxs_sorted[0]]
        if abs(A - S) <= tol:
            allocs = [(x, it.open[x], 0) for x in idxs_sorted]
            if A != S:  # rounding difference: taken off the last item
                x, a, _ = allocs[-1]
                allocs[-1] = (x, a + A - S, S - A) if A < S else (x, a + A - S, 0)
            return self._decide(i, allocs, "reference_exact", base * exact_factor, ev)
        positives = [x for x in idxs_sorted if it.open[x] > 0]
        if len(positives) > 1:
            sub = find_subsets([it.open[x] for x in positives], A, max_size=len(positives), min_size=1, limit=2)
            if sub.solutions:
                chosen = [positives[k] for k in sub.solutions[0]]
                conf = (base - 0.04 if sub.unique else 0.8) * factor
                ev["subset_of_references"] = True
                return self._decide(i, [(x, it.open[x], 0) for x in chosen], "reference_subset", conf, ev)
        if 0 < S - A <= cfg.fee_cents(self.cur[i], S):
            allocs = [(x, it.open[x], 0) for x in idxs_sorted]
            x, a, _ = allocs[-1]
            allocs[-1] = (x, a - (S - A), S - A)
            ev["short_by"] = _cents_out(S - A)
            return self._decide(i, allocs, "reference_short_payment", (base - 0.04) * factor, ev,
                                write_off_reason="short payment within fee tolerance (bank charges)")
        if A < S:
            allocs, rest = [], A
            for x in idxs_sorted:
                if rest <= 0:
                    break
                take = min(rest, it.open[x])
                if take > 0:
                    allocs.append((x, take, 0))
                    rest -= take
            conf = (0.93 if len(positives) == 1 else 0.8) * factor
            if not strong:
                conf -= 0.02
            ev["partial"] = True
            return self._decide(i, allocs, "reference_partial", conf, ev)
        ev["overpaid_by"] = _cents_out(A - S)
        allocs = [(x, it.open[x], 0) for x in idxs_sorted if it.open[x] > 0]
        conf = (0.9 if strong else 0.8) * factor
        return self._decide(i, allocs, "reference_overpayment", conf, ev, unapplied=A - sum(a for _, a, _ in allocs),
                            customer=cust)

    def _by_payer(self, i: int, cid: str, method: str, pconf: float) -> bool:
        cfg, it = self.cfg, self.items
        A = self.cents[i]
        pf = 0.5 + 0.5 * pconf  # how far the payer identification carries the amount evidence
        payer_ev = {"customer_id": cid, "method": method, "score": pconf, "name": self.names[i] or None}
        own = self._open_for(i, [cid])
        group = self.customers.group_of(cid)
        scopes = [("", own)]
        if group:
            scopes.append(("group_", self._open_for(i, [cid, *group])))
        clues = self.clues(i)
        for prefix, items in scopes:
            if not items:
                continue
            scope_f = 1.0 if not prefix else 0.97
            ev = {"payer": payer_ev, "amount": _cents_out(A), "scope": "group" if prefix else "customer"}
            # Rule 3: one open item with exactly this amount.
            same = [x for x in items if it.open[x] == A]
            if same:
                conf = 0.98
                ev2 = {**ev, "candidates_with_amount": len(same)}
                rule = "payer_exact"
                fit, used = self.clue_filter(clues, same) if len(same) > 1 and not clues.empty else (same, {})
                if len(fit) == 1 and len(same) > 1:
                    # Several items with the amount, one of them the milestone / contract / project
                    # the text names.
                    conf = cfg.clue_confidence_firm if used["firm"] else cfg.clue_confidence
                    return self._decide(i, [(fit[0], A, 0)], prefix + "payer_exact_text", conf * pf * scope_f,
                                        {**ev2, "text": used})
                if len(same) > 1:
                    same, gap, delay = self._by_expected_date(i, same)
                    # Clearly nearer its expected payment date than any other: the habit decides.
                    conf = 0.94 if gap >= cfg.habit_gap_days else 0.85
                    ev2.update(expected_delay_days=delay, next_candidate_days_further=gap)
                    if cfg.twin_gap_days <= gap < cfg.habit_gap_days and it.interchangeable([[x] for x in same]):
                        # Twins of one contract: whichever is settled, the receivable is the same;
                        # the one due nearest the payer's habit (then the oldest) is settled. A lean
                        # of under `twin_gap_days` is a coin flip that later receipts inherit.
                        rule, conf = "payer_exact_twin", 0.93
                        ev2["interchangeable_twins"] = len(same)
                return self._decide(i, [(same[0], A, 0)], prefix + rule, conf * pf * scope_f, ev2)
            credits = [x for x in self._open_for(i, [cid] + (group if prefix else []), credits=True) if it.open[x] < 0][:3]
            for credit in credits:  # an invoice paid net of its credit note
                net = [x for x in items if it.open[x] + it.open[credit] == A]
                net.sort(key=lambda x: (it.no[x] not in it.credits_of or credit not in it.credits_of[it.no[x]],) + it.order_key(x))
                if net:
                    # The invoice the credit note names settles with it: other items that happen to
                    # net to the amount (its equal instalments) do not make that doubtful.
                    corrects = credit in it.credits_of.get(it.no[net[0]], ())
                    conf = (0.96 if len(net) == 1 or corrects else 0.8) * pf * scope_f
                    ev2 = {**ev, "credit_note": it.no[credit], "credit_note_corrects_it": corrects,
                           "candidates_net_of_credit": len(net)}
                    return self._decide(i, [(net[0], it.open[net[0]], 0), (credit, it.open[credit], 0)],
                                        prefix + "payer_exact_net_of_credit", conf, ev2)
            # Rule 4: a combination of open items (bounded; ties to the best date fit, then the
            # oldest). In a group, a combination stays within one customer: a parent pays one
            # subsidiary's invoices together, and pooling a whole group invites coincidences.
            pools = [items] if not prefix else [[x for x in items if it.cust[x] == m] for m in group]
            hits = []
            for member_items in pools:
                hit = self._combination(i, member_items, credits, clues) if member_items else None
                if hit:
                    hits.append(hit)
            if hits:
                allocs, conf, ev_c = min(hits, key=lambda h: (h[2]["date_fit_days"], -h[1]))
                if len(hits) > 1:
                    conf = min(conf, 0.75)
                    ev_c = {**ev_c, "customers_with_a_combination": len(hits)}
                rule = ("payer_combination_window" if "expected_window" in ev_c else
                        "payer_combination_text" if "text" in ev_c else
                        "payer_combination_twin" if ev_c.get("interchangeable") else "payer_combination")
                return self._decide(i, allocs, prefix + rule, conf * pf * scope_f, {**ev, **ev_c})
            pool = self._pool(i, items)
            size_f = 1.0 if len(pool) <= 8 else (0.97 if len(pool) <= 16 else 0.93)
            # Rule 5a: short payment within the fee tolerance (single item, then a combination).
            short = [x for x in items if 0 < it.open[x] - A <= cfg.fee_cents(self.cur[i], it.open[x])]
            if short:
                x = short[0]
                conf = (0.95 if len(short) == 1 else 0.8) * pf * scope_f
                ev2 = {**ev, "short_by": _cents_out(it.open[x] - A), "candidates_within_tolerance": len(short)}
                return self._decide(i, [(x, A, it.open[x] - A)], prefix + "payer_short_payment", conf, ev2,
                                    write_off_reason="short payment within fee tolerance (bank charges)")
            if prefix:
                continue
            fee = cfg.fee_cents(self.cur[i], A)
            sub = find_subsets([it.open[x] for x in pool], A, over=fee, max_size=cfg.subset_max_size,
                               node_budget=cfg.subset_node_budget, limit=8)
            if sub.solutions:
                # Measured: a combination that is also short is rarely the right one; people decide.
                chosen, conf, fit_ev = self._pick_combination(i, pool, sub, 0.85, size_f)
                S = sum(it.open[x] for x in chosen)
                allocs = [(x, it.open[x], 0) for x in chosen]
                x, a, _ = allocs[-1]
                allocs[-1] = (x, a - (S - A), S - A)
                ev2 = {**ev, "combination": [it.no[c] for c in chosen], "short_by": _cents_out(S - A),
                       "pool": len(pool), **fit_ev}
                return self._decide(i, allocs, prefix + "payer_combination_short", conf * pf * scope_f, ev2,
                                    write_off_reason="short payment within fee tolerance (bank charges)")
        # Rule 5b, against the payer's own items only: a round share of one invoice, a partial
        # payment oldest first, or an overpayment kept as credit.
        items = own
        if not items:
            return False
        ev = {"payer": payer_ev, "amount": _cents_out(A), "scope": "customer"}
        total = sum(it.open[x] for x in items)
        shares = [x for x in items if it.open[x] > A and _round_share(A, it.gross[x])]
        if len(shares) > 1 and not clues.empty:
            fit, used = self.clue_filter(clues, shares)
            if len(fit) == 1:
                conf = (cfg.clue_confidence_firm if used["firm"] else cfg.clue_confidence) * 0.98 * pf
                ev2 = {**ev, "share_of_invoice": round(A / it.gross[fit[0]], 3), "text": used,
                       "candidates_with_round_share": len(shares)}
                return self._decide(i, [(fit[0], A, 0)], "payer_partial_share_text", conf, ev2)
        if shares:
            conf = (0.93 if len(shares) == 1 else 0.7) * pf
            ev2 = {**ev, "share_of_invoice": round(A / it.gross[shares[0]], 3),
                   "candidates_with_round_share": len(shares)}
            return self._decide(i, [(shares[0], A, 0)], "payer_partial_share", conf, ev2)
        if A < total:
            allocs, rest = [], A
            for x in items:
                if rest <= 0:
                    break
                take = min(rest, it.open[x])
                allocs.append((x, take, 0))
                rest -= take
            conf = (0.85 if len(items) == 1 else 0.7) * pf
            return self._decide(i, allocs, "payer_partial", conf, {**ev, "open_items": len(items)})
        allocs = [(x, it.open[x], 0) for x in items]
        return self._decide(i, allocs, "payer_overpayment", 0.75 * pf, {**ev, "overpaid_by": _cents_out(A - total)},
                            unapplied=A - total, customer=cid)

    def _pool(self, i: int, items: list[int]) -> list[int]:
        """The items a combination search looks at: a payer with a long tail of stale items would drown
        it, so beyond `subset_max_items` the items due nearest the payment are kept (oldest first)."""
        it, cfg = self.items, self.cfg
        if len(items) <= cfg.subset_max_items:
            return items
        # Nearest to when this payer usually pays (due + its median delay so far), not to the due
        # date: a payer that pays a month late settles items due a month before the receipt.
        day = self.days[i] - self._usual_delay(it.cust[items[0]])
        near = sorted(items, key=lambda x: (abs(it.due[x] - day), it.order_key(x)))[: cfg.subset_max_items]
        return sorted(near, key=it.order_key)

    def _usual_delay(self, cid: str) -> int:
        """Median days from due date to payment on this payer's latest confident matches (0 when none)."""
        past = self.delays.get(cid, [])[-12:]
        return int(np.median(past)) if past else 0

    def _combination(self, i: int, items: list[int], credits: list[int], clues: Clues = NO_CLUES):
        """Best combination of `items` paying line i: (allocations, confidence, evidence) or None.

        A unique solution in a big pool is less telling unless its items are all due around when
        this payer usually pays; a credit note only enters together with the invoice it corrects.
        A text naming contracts or projects first narrows the items to theirs; milestone words
        and months then choose among several solutions.
        """
        it, cfg, A = self.items, self.cfg, self.cents[i]
        fit: set[int] = set()
        used: dict = {}
        if not clues.empty:
            fit_items, used = self.clue_filter(clues, items)
            fit = set(fit_items)
            if used["firm"] and 2 <= len(fit_items):
                firm_items = [x for x in items if x in fit]  # in the payer's order
                firm_pool = self._pool(i, firm_items)
                sub = find_subsets([it.open[x] for x in firm_pool], A, max_size=cfg.subset_max_size, min_size=2,
                                   node_budget=cfg.subset_node_budget, limit=8)
                if sub.unique:
                    chosen = sorted((firm_pool[k] for k in sub.solutions[0]), key=it.order_key)
                    ev = {"combination": [it.no[x] for x in chosen], "unique": True, "pool": len(firm_pool),
                          "text": used, "date_fit_days": self._date_fit(i, chosen)}
                    return [(x, it.open[x], 0) for x in chosen], cfg.clue_confidence_firm, ev
        pool = self._pool(i, items)
        size_f = 1.0 if len(pool) <= 8 else (0.97 if len(pool) <= 16 else 0.93)
        for credit in [None, *credits]:
            forced: list[int] = []
            target = A
            if credit is not None:
                orig = it.by_no.get(it.original[credit])
                if orig is None or orig not in pool:
                    continue
                forced = [orig, credit]
                target = A - it.open[credit] - it.open[orig]
                if target <= 0:
                    continue
            cand = [x for x in pool if x not in forced]
            sub = find_subsets([it.open[x] for x in cand], target, max_size=cfg.subset_max_size - len(forced),
                               min_size=1 if forced else 2, node_budget=cfg.subset_node_budget, limit=8)
            if sub.solutions:
                chosen, conf, fit_ev = self._pick_combination(i, cand, sub, 0.95, size_f)
                if fit and not sub.unique and sub.complete and conf < cfg.auto_threshold:
                    # Several combinations: the one whose items all agree with the text's words.
                    agree = [[cand[k] for k in sol] for sol in sub.solutions if all(cand[k] in fit for k in sol)]
                    if len(agree) == 1:
                        chosen = agree[0]
                        conf = cfg.clue_confidence_firm if used.get("firm") else cfg.clue_confidence
                        fit_ev = {**fit_ev, "text": used, "date_fit_days": self._date_fit(i, chosen)}
                if credit is None and conf < cfg.auto_threshold:
                    month = self._month_combination(i, items)
                    if month is not None:
                        chosen, conf, fit_ev = month
                allocs = [(x, it.open[x], 0) for x in sorted(chosen + forced[:1], key=it.order_key) + forced[1:]]
                ev = {"combination": [it.no[x] for x, _, _ in allocs], "unique": sub.unique, "pool": len(pool), **fit_ev}
                return allocs, conf, ev
        return None

    def _month_combination(self, i: int, items: list[int]):
        """A payer that settles several invoices at once settles those it meant to pay in the past
        month or so: among the items expected then (due + the payer's usual delay, from
        `combine_window_days` before the receipt to `combine_ahead_days` after it), a unique exact
        combination is applied. Returns (items, confidence, evidence) or None."""
        it, cfg, A, day = self.items, self.cfg, self.cents[i], self.days[i]
        delay = self._usual_delay(it.cust[items[0]]) if items else 0
        near = [x for x in items if -cfg.combine_ahead_days <= day - (it.due[x] + delay) <= cfg.combine_window_days]
        if len(near) < 2 or len(near) > cfg.subset_max_items * 2:
            return None
        sub = find_subsets([it.open[x] for x in near], A, max_size=cfg.subset_max_size, min_size=2,
                           node_budget=cfg.subset_node_budget, limit=2)
        if not sub.unique:
            return None
        chosen = [near[k] for k in sub.solutions[0]]
        ev = {"expected_window": [cfg.combine_window_days, cfg.combine_ahead_days], "window_items": len(near),
              "unique": True, "date_fit_days": self._date_fit(i, chosen), "solutions": 1}
        return chosen, cfg.combine_window_confidence, ev

    def _date_fit(self, i: int, xs: list[int]) -> int:
        """Largest distance (days) of any item from its expected payment date: due + the payer's usual delay."""
        it = self.items
        worst = 0
        for x in xs:
            past = self.delays.get(it.cust[x], [])[-12:]
            delay = int(np.median(past)) if past else 0
            worst = max(worst, abs(self.days[i] - (it.due[x] + delay)))
        return worst

    def _pick_combination(self, i: int, pool: list[int], sub, base: float, size_f: float):
        """Choose among subset-sum solutions: the one whose items are all due when this payer pays.

        Unique solutions keep `base` (less in a big pool unless they fit the payment date); among
        several, the best date fit wins clearly or the match is only proposed.
        """
        cfg = self.cfg
        sols = [[pool[k] for k in sol] for sol in sub.solutions]
        fits = [self._date_fit(i, sol) for sol in sols]
        order = sorted(range(len(sols)), key=lambda k: (fits[k], sorted(self.items.order_key(x) for x in sols[k])))
        best = order[0]
        ev = {"date_fit_days": fits[best], "solutions": len(sols) if sub.complete else f"{len(sols)}+"}
        if len(sols) > 1:
            ev["runner_up_fit_days"] = fits[order[1]]
        # Measured on generated data: coincidences grow with the pool and with the number of items.
        window = cfg.habit_window_days if len(pool) <= 16 else cfg.habit_window_days // 2
        fits_well = fits[best] <= window
        many = 0.93 if len(sols[best]) >= 5 else 1.0
        if sub.unique:
            return sols[best], base * many * (1.0 if fits_well else size_f), ev
        clear = fits_well and sub.complete and fits[order[1]] - fits[best] >= cfg.habit_gap_days
        if not clear and sub.complete and self.items.interchangeable(sols):
            # Every solution is the same set of twins (equal instalments of the same contracts):
            # which twin is settled changes nothing, so the best date fit is applied.
            ev["interchangeable"] = True
            return sols[best], (base - 0.01) * many, ev
        if not clear and sub.complete:
            # Payers settle a run of consecutive items (by due date): when exactly one solution is
            # such a run and it is also the best date fit, two independent signs agree.
            by_due = {x: r for r, x in enumerate(sorted(pool, key=lambda x: (self.items.due[x], self.items.no[x])))}
            runs = [k for k, sol in enumerate(sols)
                    if max(by_due[x] for x in sol) - min(by_due[x] for x in sol) == len(sol) - 1]
            if runs == [best]:
                ev["consecutive_run"] = True
                return sols[best], (base - 0.02) * many, ev
        return sols[best], (base - 0.01 if clear else 0.8) * many * size_f ** 0.5, ev

    def _looks_not_receivable(self, i: int) -> bool:
        """Interest, refunds, loans, deposits: a credit whose text says it is no customer payment."""
        text = normalize_text(self.texts[i]) + " " + normalize_text(self.names[i])
        for phrase in RECEIVABLE_PHRASES:
            text = text.replace(phrase, " ")
        word = next((w for w in NON_RECEIVABLE_WORDS if w in text), None)
        if word:
            self._unmatched(i, "not_receivable", f"text mentions {word!r} and no invoice reference")
        return word is not None

    def _by_expected_date(self, i: int, cands: list[int]) -> tuple[list[int], int, int]:
        """Order same-amount candidates by distance to their expected payment date (due + usual delay).

        Returns the ordered candidates, how many days further the runner-up is, and the delay used.
        """
        it = self.items
        past = self.delays.get(it.cust[cands[0]], [])[-12:]
        delay = int(np.median(past)) if past else 0
        dist = sorted((abs(self.days[i] - (it.due[x] + delay)),) + it.order_key(x) + (x,) for x in cands)
        ordered = [d[-1] for d in dist]
        return ordered, dist[1][0] - dist[0][0], delay

    def _by_payer_set(self, i: int, cands: tuple[str, ...], method: str, pconf: float) -> bool:
        """A name that fits a few customers: only an amount that fits exactly one of their items counts."""
        it, A = self.items, self.cents[i]
        items = self._open_for(i, list(cands))
        same = [x for x in items if it.open[x] == A]
        if not same:
            return self._by_payer_set_combination(i, cands, items, method, pconf)
        ev = {"payer_candidates": list(cands)[:10], "method": method, "name": self.names[i] or None,
              "amount": _cents_out(A),
              "candidates_with_amount": len(same)}
        conf = (0.96 if len(same) == 1 else 0.7) * (0.5 + 0.5 * pconf)
        return self._decide(i, [(same[0], A, 0)], "payer_set_exact", conf, ev)

    def _by_payer_set_combination(self, i: int, cands: tuple[str, ...], items: list[int], method: str,
                                  pconf: float) -> bool:
        """No single item of the candidate customers has the amount: the text may name a project or
        contract of exactly one of them (then that customer is the payer), or exactly one of them
        has exactly one combination of items expected in the past month adding up to the amount."""
        it, cfg, A, day = self.items, self.cfg, self.cents[i], self.days[i]
        clues = self.clues(i)
        if not clues.empty:
            fit, used = self.clue_filter(clues, items)
            owners = {it.cust[x] for x in fit}
            if used["firm"] and len(owners) == 1:
                return self._by_payer(i, next(iter(owners)), method + "_text", pconf)
        found = []
        by_cust: dict[str, list[int]] = defaultdict(list)
        for x in items:
            by_cust[it.cust[x]].append(x)
        for c in sorted(by_cust):
            own = by_cust[c]
            delay = self._usual_delay(c)
            near = [x for x in own if -cfg.combine_ahead_days <= day - (it.due[x] + delay) <= cfg.combine_window_days]
            if len(near) < 2:
                continue
            sub = find_subsets([it.open[x] for x in near], A, max_size=cfg.subset_max_size, min_size=2,
                               node_budget=cfg.subset_node_budget, limit=2)
            if not sub.complete:
                return False  # a search cut short proves nothing about uniqueness
            found.extend([near[k] for k in sol] for sol in sub.solutions)
            if len(found) > 1:
                return False
        if len(found) != 1:
            return False
        chosen = sorted(found[0], key=it.order_key)
        ev = {"payer_candidates": list(cands)[:10], "method": method, "name": self.names[i] or None,
              "amount": _cents_out(A), "combination": [it.no[x] for x in chosen], "unique": True,
              "expected_window": [cfg.combine_window_days, cfg.combine_ahead_days],
              "date_fit_days": self._date_fit(i, chosen)}
        conf = cfg.combine_window_confidence * (0.5 + 0.5 * pconf) / 0.95
        return self._decide(i, [(x, it.open[x], 0) for x in chosen], "payer_set_combination", conf, ev)

    def _no_match(self, i: int, cid, method, pconf, found) -> None:
        it, A = self.items, self.cents[i]
        options = []
        same = [x for x in it.by_amount.get((self.cur[i], A), ()) if it.open[x] == A and it.issue[x] <= self.days[i]
                and (self.keys[i], it.no[x]) not in self.decisions.rejected]
        same.sort(key=it.order_key)
        for x in same[: self.cfg.max_suggestions]:
            score = 0.5 / len(same) ** 0.5
            options.append(([(x, A, 0)], "amount_only", score, {"amount": _cents_out(A), "candidates_with_amount": len(same)}))
        self._propose(i, options)
        sugg = [{"invoice_no": it.no[a[0][0]], "customer_id": it.cust[a[0][0]], "score": round(s, 3)} for a, _, s, _ in options]
        detail = REASONS["no_candidate"]
        if cid:
            detail = f"payer {cid} ({method}) has no open item fitting {_cents_out(A)} {self.cur[i]}"
        elif method == "ambiguous_name":
            detail = f"payer name {self.names[i]!r} fits several customers"
        self._unmatched(i, "no_candidate", detail, sugg)


def _round_share(amount: int, gross: int) -> bool:
    """Is `amount` a round share (10 %, 20 % … 90 %) of `gross`, rounded as people round payments?

    Instalments on a project invoice are typically 30 % / 50 % of it rounded to a hundred yuan.
    """
    if gross <= 0 or amount <= 0 or amount >= gross:
        return False
    unit = 10_000 if amount % 10_000 == 0 else (100 if amount % 100 == 0 else 1)
    for tenth in range(1, 10):
        if abs(amount - gross * tenth / 10) <= unit / 2:
            return True
    return False


def _decision_evidence(row: dict) -> dict:
    return {k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v)
            for k, v in row.items() if k in ("decision_id", "decision", "decided_by", "decided_at", "reason", "amount")}


def parse_references(texts: list[str], index: RefIndex) -> list[list[tuple[str, str]]]:
    """Invoice references of every text, parsing each distinct text once."""
    cache: dict[str, list[tuple[str, str]]] = {}
    out = []
    for t in texts:
        hit = cache.get(t)
        if hit is None:
            hit = index.find(t) if t else []
            cache[t] = hit
        out.append(hit)
    return out


def reconcile(
    bank: pd.DataFrame,
    open_items: pd.DataFrame,
    customers: pd.DataFrame,
    decisions: pd.DataFrame | None = None,
    aliases: pd.DataFrame | None = None,
    *,
    config: ReconcileConfig | None = None,
) -> ReconcileResult:
    """Match bank lines to open items (DESIGN.md §6). Inputs may be pandas DataFrames or Arrow tables."""
    config = config or ReconcileConfig()
    bank, open_items, customers, decisions, aliases = (
        x.to_pandas() if hasattr(x, "to_pandas") and not isinstance(x, pd.DataFrame) else x
        for x in (bank, open_items, customers, decisions, aliases)
    )
    for name, df, cols in (
        ("bank", bank, ("bank_txn_key", "booking_date", "amount", "currency")),
        ("open_items", open_items, ("invoice_no", "customer_id", "currency", "open_amount", "issue_date")),
        ("customers", customers, ("customer_id", "customer_name")),
    ):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{name} is missing columns {missing}")
    eng = _Engine(bank, open_items, customers, decisions, aliases, config)
    index = RefIndex.build(eng.items.no)
    refs = parse_references(eng.texts, index)
    it = eng.items
    ref_customers = [{it.cust[it.by_no[no]] for no, kind in found if kind == STRONG and no in it.by_no} for found in refs]
    payers = _payers(eng.names, eng.accounts, eng.customers, aliases, config, eng.texts, ref_customers)
    eng.run(payers, refs)
    matches = pd.DataFrame(eng.matches, columns=MATCH_COLUMNS)
    proposals = pd.DataFrame(eng.proposals, columns=PROPOSAL_COLUMNS)
    unmatched = pd.DataFrame(eng.unmatched, columns=UNMATCHED_COLUMNS)
    unapplied = pd.DataFrame(eng.unapplied, columns=UNAPPLIED_COLUMNS)
    stats = dict(eng.stats)
    stats["matched_lines_auto"] = int(matches.loc[matches.status == "auto", "bank_txn_key"].nunique())
    stats["matched_lines_manual"] = int(matches.loc[matches.status == "manual", "bank_txn_key"].nunique())
    stats["review_lines"] = int(unmatched.reason.isin(["proposed", "no_candidate", "rejected"]).sum())
    return ReconcileResult(matches, proposals, unmatched, unapplied, stats)
