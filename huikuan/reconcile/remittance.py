"""Remittance parsing: find invoice numbers and ISO 11649 (RF) creditor references in free bank text.

People write invoice numbers every way: with or without the prefix, with spaces, dashes or dots,
lowercase, full-width, glued to Chinese text (支付INV-2025-0001234工程款), several in one line. Rather
than guessing a format, the index is built from the invoice numbers that exist: every number is
reduced to its alphanumeric skeleton (and, weaker, to its digits alone), and the text is cut into
alphanumeric runs whose consecutive windows are looked up in that index.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_RUN = re.compile(r"[A-Z0-9]+")
# Characters that may sit inside one written invoice number (INV-2025/0001234, INV 2025.0001234).
_JOINERS = set(" \t-_/.#:")
_RF = re.compile(r"RF(\d{2})((?:[ ]?[A-Z0-9]){1,21})")

STRONG = "number"  # full invoice number (prefix and digits)
WEAK = "digits"  # digits only, prefix omitted: weaker evidence, the amount must agree


def normalize_text(text: str | None) -> str:
    """Full-width to half-width (NFKC) and upper case: the form every lookup runs on."""
    if not text:
        return ""
    return unicodedata.normalize("NFKC", str(text)).upper()


def skeleton(invoice_no: str) -> str:
    """Alphanumeric skeleton of an invoice number: INV-2025-0001234 -> INV20250001234."""
    return "".join(_RUN.findall(normalize_text(invoice_no)))


@dataclass(frozen=True)
class RefIndex:
    """Lookup from written forms to invoice numbers; ambiguous forms map to None and are ignored."""

    keys: dict[str, str | None]
    kinds: dict[str, str]
    max_runs: int = 6

    @classmethod
    def build(cls, invoice_numbers: Iterable[str], min_digits: int = 6) -> RefIndex:
        keys: dict[str, str | None] = {}
        kinds: dict[str, str] = {}
        digit_keys: dict[str, str | None] = {}
        for no in invoice_numbers:
            if not isinstance(no, str) or not no:
                continue
            sk = skeleton(no)
            if not sk:
                continue
            if sk in keys and keys[sk] != no:
                keys[sk] = None
            else:
                keys[sk] = no
            kinds[sk] = STRONG
            digits = "".join(ch for ch in sk if ch.isdigit())
            if len(digits) >= min_digits and digits != sk:
                digit_keys[digits] = None if digits in digit_keys and digit_keys[digits] != no else no
        for d, no in digit_keys.items():
            if d not in keys:  # a full number that is all digits wins over a digits-only form
                keys[d] = no
                kinds[d] = WEAK
        return cls(keys, kinds)

    def find(self, text: str | None) -> list[tuple[str, str]]:
        """Invoice numbers written in `text`, in order of appearance, as (invoice_no, kind)."""
        t = normalize_text(text)
        if not t:
            return []
        runs = [(m.start(), m.end(), m.group()) for m in _RUN.finditer(t)]
        found: list[tuple[str, str]] = []
        seen: set[str] = set()
        n = len(runs)
        i = 0
        while i < n:
            # Windows only extend over runs joined by separators that can sit inside a number.
            j_max = i + 1
            while j_max < n and j_max - i < self.max_runs and _joined(t, runs[j_max - 1][1], runs[j_max][0]):
                j_max += 1
            hit = None
            for j in range(j_max, i, -1):  # longest window first
                key = "".join(r[2] for r in runs[i:j])
                no = self.keys.get(key, False)
                if no is not False:
                    hit = (j, key, no)
                    break
            if hit is None:
                i += 1
                continue
            j, key, no = hit
            if no is not None and no not in seen:
                seen.add(no)
                found.append((no, self.kinds[key]))
            i = j
        for payload in rf_payloads(t):
            no = self.keys.get(payload)
            if no and no not in seen:
                seen.add(no)
                found.append((no, STRONG))
        return found


def _joined(text: str, end: int, start: int) -> bool:
    gap = text[end:start]
    return len(gap) <= 3 and all(ch in _JOINERS for ch in gap)


def rf_is_valid(reference: str) -> bool:
    """ISO 11649 check: move 'RFcc' to the end, letters to 10..35, the number mod 97 must be 1."""
    ref = "".join(normalize_text(reference).split())
    if not re.fullmatch(r"RF\d{2}[A-Z0-9]{1,21}", ref):
        return False
    moved = ref[4:] + ref[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def rf_make(payload: str) -> str:
    """Build a valid ISO 11649 reference for `payload` (used to issue references and in tests)."""
    body = "".join(_RUN.findall(normalize_text(payload)))
    digits = "".join(str(int(ch, 36)) for ch in body + "RF00")
    return f"RF{98 - int(digits) % 97:02d}{body}"


def rf_payloads(text: str) -> list[str]:
    """Payloads of the valid RF references in (normalized) text; printed groups of four are joined."""
    out = []
    for m in _RF.finditer(text):
        body = m.group(2).replace(" ", "")
        # The greedy match may swallow a following word; the longest prefix that validates wins.
        for k in range(len(body), 0, -1):
            if rf_is_valid("RF" + m.group(1) + body[:k]):
                out.append(body[:k])
                break
    return out
