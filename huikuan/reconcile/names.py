"""Payer names: Chinese and English company-name normalisation and fuzzy matching against customers.

Bank lines show the payer as the paying bank account holder types it: with or without 有限公司 /
有限责任公司 / 股份有限公司, (集团) in half- or full-width brackets, a branch (北京分公司), spaces,
English legal forms in any case. Normalising both sides first makes most variants exact; the rest
are scored by a character-bigram blocked fuzzy match that runs once per distinct name, not per line.
"""

from __future__ import annotations

import bisect
import heapq
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from difflib import SequenceMatcher

# Legal-form endings, longest first so 股份有限公司 is removed whole rather than leaving 股份.
_CN_LEGAL = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "股份公司",
    "集团公司",
    "总公司",
    "公司",
    "有限",
    "集团",
)
# Branches pay for their head office: 北京分公司, 上海分行, 华东办事处, 第三项目部 ...
_BRANCH_WORDS = r"(?:分公司|分行|支行|办事处|项目部|营业部|分部)"
_CN_BRANCH_AFTER_LEGAL = re.compile(r"(公司|集团|\))[\u4e00-\u9fff0-9]{0,10}?" + _BRANCH_WORDS + "$")
_CN_BRANCH = re.compile(r"^(.{2,}?)[\u4e00-\u9fff]{2,3}" + _BRANCH_WORDS + "$")
_EN_LEGAL = re.compile(
    r"\b(?:company limited|co ltd|co limited|corporation|limited|ltd|inc|corp|co|llc|plc|gmbh|ag|sa|"
    r"s a|b v|bv|n v|nv|s r l|srl|s p a|spa|sarl|kg|oy|ab|pte|pty|the|group|holdings?)\b"
)
# Common abbreviations applied to both sides, so 中国XX and 中XX meet.
_ABBREVIATIONS = (
    ("中华人民共和国", "中"),
    ("中国", "中"),
    ("有限责任", ""),
    ("股份", ""),
    ("(集团)", ""),
    ("集团", ""),
    ("科技", "科技"),
    ("&", "and"),
)
_KEEP = re.compile(r"[0-9a-z\u4e00-\u9fff]+")


def normalize_company_name(name: str | None) -> str:
    """Canonical form of a company name: 北京华建（集团）有限公司北京分公司 -> 北京华建."""
    if not name or not isinstance(name, str):
        return ""
    s = unicodedata.normalize("NFKC", name).lower().strip()
    s = s.replace("（", "(").replace("）", ")")
    # A branch named after the legal form (某某有限公司北京分公司) pays for the company itself.
    s = _CN_BRANCH_AFTER_LEGAL.sub(r"\1", s)
    for old, new in _ABBREVIATIONS:
        s = s.replace(old, new)
    s = re.sub(r"[(\[]\s*[)\]]", "", s)
    s = _EN_LEGAL.sub(" ", s.replace(",", " ").replace(".", " "))
    s = "".join(_KEEP.findall(s))
    # Repeatedly strip branch and legal-form endings: 某某有限公司北京分公司 -> 某某.
    changed = True
    while changed and s:
        changed = False
        m = _CN_BRANCH.match(s)
        if m:
            s = m.group(1)
            changed = True
        for ending in _CN_LEGAL:
            if s.endswith(ending) and len(s) > len(ending) + 1:
                s = s[: -len(ending)]
                changed = True
                break
    return s


def light_form(name: str | None) -> str:
    """NFKC, lower case, letters and digits only: spacing and punctuation variants meet, nothing else."""
    if not name or not isinstance(name, str):
        return ""
    return "".join(_KEEP.findall(unicodedata.normalize("NFKC", name).lower()))


def _prefix_hit(norm: str, names: dict[str, set[str]], ordered: list[str], min_len: int) -> set[str] | None:
    for n in range(len(norm), min_len - 1, -1):
        head = norm[:n]
        if head in names:
            return set(names[head]) if len(names[head]) == 1 else set()
        k = bisect.bisect_left(ordered, head)
        hits = []
        while k < len(ordered) and ordered[k].startswith(head) and len(hits) < 2:
            hits.append(ordered[k])
            k += 1
        if hits:
            return set(names[hits[0]]) if len(hits) == 1 and len(names[hits[0]]) == 1 else set()
    return None


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1)} if len(s) > 1 else {s}


def similarity(a: str, b: str) -> float:
    """Similarity of two normalized names in [0, 1]: sequence ratio, with credit for containment."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and short in long_:
        ratio = max(ratio, 0.88 + 0.1 * len(short) / len(long_))
    elif len(short) >= 3 and not Counter(short) - Counter(long_):
        # Chinese short names keep characters of the full name, sometimes reordered:
        # 北京市华建工程 is written 北京华建 or 华建北京.
        ratio = max(ratio, 0.86 + 0.1 * len(short) / len(long_))
    return min(ratio, 0.99)


class NameIndex:
    """Customers by normalized name, with a bigram index to block the fuzzy search."""

    def __init__(self, names: Mapping[str, Iterable[str]]):
        # names: customer_id -> raw names (master name plus any learned alias names)
        self.exact: dict[str, set[str]] = defaultdict(set)
        # Light form (legal form kept): Sterling China GmbH and Sterling China S.r.l. are two customers.
        self.light: dict[str, set[str]] = defaultdict(set)
        for cid, raw_names in names.items():
            for raw in raw_names:
                norm = normalize_company_name(raw)
                if norm:
                    self.exact[norm].add(cid)
                lt = light_form(raw)
                if lt:
                    self.light[lt].add(cid)
        self.sorted_names = sorted(self.exact)
        self.sorted_light = sorted(self.light)
        self.grams: dict[str, list[str]] = defaultdict(list)
        for norm in self.exact:
            for g in _bigrams(norm):
                self.grams[g].append(norm)

    def lookup(self, name: str | None) -> tuple[set[str], str]:
        """Customers with exactly this name: the light form first (it keeps the legal form), then
        the normalised form. Returns the customers and the normalised name."""
        norm = normalize_company_name(name)
        light = self.light.get(light_form(name), ())
        if len(light) == 1:
            return set(light), norm
        return set(self.exact.get(norm, ())), norm

    def by_prefix(self, text: str, min_len: int = 8) -> set[str] | None:
        """Customers named by the start of a text: the longest prefix that is (or starts) one customer's name.

        Statements without a name field put the payer's name first: COASTAL TECHNOLOGIES PAYMENT.
        Returns None when nothing fits and an empty set when the prefix fits several customers.
        """
        hit = _prefix_hit(light_form(text), self.light, self.sorted_light, min_len)
        if hit:
            return hit
        return _prefix_hit(normalize_company_name(text), self.exact, self.sorted_names, min_len)

    def containing(self, norm: str, max_postings: int = 400) -> set[str]:
        """Customers whose normalised name contains `norm` (a brand written alone: 云海 for 云海控股)."""
        if len(norm) < 2:
            return set()
        postings = [self.grams.get(g, ()) for g in _bigrams(norm)]
        if not all(postings):
            return set()
        rarest = min(postings, key=len)
        if len(rarest) > max_postings:
            return set()
        return {cid for cand in rarest if norm in cand for cid in self.exact[cand]}

    def fuzzy(self, norm: str, *, min_score: float, margin: float, max_blocks: int = 12,
              max_postings: int = 400) -> list[tuple[str, float]]:
        """Customers whose name scores within `margin` of the best (>= min_score), best first.

        One entry means the payer is identified; several mean the name is ambiguous between them.
        Bigrams shared by hundreds of names (a city, 工程) carry no identity and are not counted;
        only the few names sharing most bigrams are scored.
        """
        if len(norm) < 2:
            return []
        counts: dict[str, int] = defaultdict(int)
        for g in _bigrams(norm):
            posting = self.grams.get(g, ())
            if len(posting) > max_postings:
                continue
            for cand in posting:
                counts[cand] += 1
        if not counts:
            return []
        top = heapq.nsmallest(max_blocks, counts, key=lambda c: (-counts[c], c))
        scored = sorted(((similarity(norm, c), c) for c in top), key=lambda x: (-x[0], x[1]))
        best_score = scored[0][0]
        if best_score < min_score:
            return []
        out: dict[str, float] = {}
        for score, cand in scored:
            if score < best_score - margin or score < min_score:
                break
            for cid in sorted(self.exact[cand]):
                out.setdefault(cid, round(score, 3))
        return list(out.items())
