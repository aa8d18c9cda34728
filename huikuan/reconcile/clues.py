"""Remittance clues weaker than an invoice number: milestone words, billing months, contracts, projects.

Payers who quote no invoice number often say what they pay: the milestone (进度款, 验收款, 质保金,
预付款 ...), the month billed (2024年3月进度款), the contract number (合同号HT2023000937) or the
project's name, in full or shortened (三期道路改造工程预付款). None of these names one invoice, so
the engine only uses them to choose among items the amount already fits (several with the same
amount, several combinations) or to narrow a long list of a payer's open items; never alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from huikuan.reconcile.remittance import STRONG, RefIndex, normalize_text

# Milestone types (contracts.MILESTONE_TYPES) and the words payers use for them, longest first
# within the table so that 工程进度款 is read before 进度款. English words are matched without
# spaces: MT940 narratives wrap lines anywhere (PROGRESS PAYME NT).
MILESTONE_WORDS: dict[str, tuple[str, ...]] = {
    "advance": ("预付工程款", "预付款", "首付款", "预收款", "定金", "预付", "ADVANCEPAYMENT", "DOWNPAYMENT"),
    "progress": ("工程进度款", "进度款", "PROGRESSPAYMENT"),
    "acceptance": ("验收款项", "验收款", "ACCEPTANCEPAYMENT"),
    "final": ("结算款", "决算款", "尾款", "FINALPAYMENT"),
    "retention": ("质保金", "保修金", "质保款", "质量保证金", "RETENTION"),
}
_WORDS = sorted(((w, t) for t, ws in MILESTONE_WORDS.items() for w in ws), key=lambda p: -len(p[0]))
# Cut out of the text before project names are looked for: the words without a leading 工程, which
# may as well end the project's name (道路改造工程进度款).
_CUT = sorted({w.removeprefix("工程") for w, _ in _WORDS}, key=len, reverse=True)
_PERIOD = re.compile(r"(20\d\d)\s*年\s*(\d{1,2})\s*月")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")
# Segments of a text that may each name a project: people list several with 、 , ; / or 及 / 和.
_SEGMENT = re.compile(r"[、,，;；/|]|及|和")
PROJECT_MIN_BIGRAMS = 4  # shared character bigrams for a segment to name a project at all


@dataclass(frozen=True)
class Clues:
    milestone_types: frozenset[str] = frozenset()
    periods: frozenset[int] = frozenset()  # months as year * 12 + month - 1
    contracts: frozenset[str] = frozenset()
    segments: tuple[frozenset[str], ...] = ()  # bigram sets of the text's Chinese segments

    @property
    def empty(self) -> bool:
        return not (self.milestone_types or self.periods or self.contracts or self.segments)


NO_CLUES = Clues()


def bigrams(text: str) -> frozenset[str]:
    return frozenset(text[k:k + 2] for k in range(len(text) - 1))


def parse_clues(text: str | None, contracts: RefIndex | None = None) -> Clues:
    """The clues in one remittance text (see the module docstring)."""
    t = normalize_text(text)
    if not t:
        return NO_CLUES
    compact = re.sub(r"\s+", "", t)
    types = set()
    rest = compact
    for word, kind in _WORDS:
        if word in rest:
            types.add(kind)
            rest = rest.replace(word, "|" * len(word))  # keeps overlapping words from being read twice
    rest = compact
    for word in _CUT:
        rest = rest.replace(word, "|")
    periods = frozenset((int(y) - 1970) * 12 + int(m) - 1 for y, m in _PERIOD.findall(compact) if 1 <= int(m) <= 12)
    rest = _PERIOD.sub("|", rest)
    found = frozenset(no for no, kind in contracts.find(t) if kind == STRONG) if contracts is not None else frozenset()
    segments = tuple(g for seg in _SEGMENT.split(rest) for run in _CJK_RUN.findall(seg)
                     if len(g := bigrams(run)) >= PROJECT_MIN_BIGRAMS)
    return Clues(frozenset(types), periods, found, segments)


def named_projects(clues: Clues, projects: dict[str, frozenset[str]]) -> set[str]:
    """Projects (id → bigram set of the name) that the text's segments name.

    Each segment names the projects sharing the most bigrams with it (at least
    PROJECT_MIN_BIGRAMS); ties name them all — a shortened name fits every phase of a project kind.
    """
    out: set[str] = set()
    for seg in clues.segments:
        if len(seg) < PROJECT_MIN_BIGRAMS:
            continue
        best, who = PROJECT_MIN_BIGRAMS, []
        for pid, grams in projects.items():
            s = len(seg & grams)
            if s > best:
                best, who = s, [pid]
            elif s == best:
                who.append(pid)
        out.update(who)
    return out
