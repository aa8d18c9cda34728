"""Check-digit codes: China's unified social credit code (GB 32100-2015) and ISO 11649 RF references.

Both come as a scalar function (for validation and tests) and a vectorized builder (for generation).
"""

from __future__ import annotations

import numpy as np

# GB 32100-2015 alphabet: digits plus 21 upper-case letters (no I, O, S, V, Z), value = position.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3**i mod 31
# GB 11714 organization code (positions 9-17 of the USCC): 8 chars plus its own mod-11 check.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code given the first 17."""
    if len(first17) != 17:
        raise ValueError(f"need 17 characters, got {len(first17)}: {first17!r}")
    try:
        total = sum(USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not allowed in a credit code") from None
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """GB 11714 organization-code check character for 8 digits/letters (A=10 ... Z=35)."""
    total = sum(int(c, 36) * w for c, w in zip(first8, ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def is_valid_uscc(code: str) -> bool:
    """True when `code` is 18 characters of the GB 32100 alphabet with a correct check digit."""
    if not isinstance(code, str) or len(code) != 18 or any(c not in USCC_VALUE for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def make_usccs(
    rng: np.random.Generator, authority: np.ndarray, category: np.ndarray, division: np.ndarray
) -> np.ndarray:
    """Vectorized valid credit codes.

    authority/category: single characters per row (e.g. '9','1' for a company, '1','1' for an
    agency); division: 6-digit administrative division codes (e.g. '420100' Wuhan). The 8 body
    digits of the organization code are random; both check characters are computed.
    """
    n = len(authority)
    body = rng.integers(0, 10, size=(n, 8))
    org_total = (body * np.array(ORG_WEIGHTS)).sum(axis=1)
    org_c = 11 - org_total % 11
    # 10 -> 'X' (value 30 in the USCC alphabet), 11 -> '0'
    org_val = np.where(org_c == 10, USCC_VALUE["X"], np.where(org_c == 11, 0, org_c))
    div = np.array([[int(ch) for ch in d] for d in division.tolist()]) if n else np.zeros((0, 6), int)
    auth = np.array([USCC_VALUE[c] for c in authority.tolist()], dtype=np.int64)
    cat = np.array([USCC_VALUE[c] for c in category.tolist()], dtype=np.int64)
    vals = np.column_stack([auth, cat, div, body, org_val]).astype(np.int64)
    total = (vals * np.array(USCC_WEIGHTS)).sum(axis=1)
    check = (31 - total % 31) % 31
    vals = np.column_stack([vals, check])
    alphabet = np.array(list(USCC_ALPHABET))
    chars = alphabet[vals]
    return np.array(["".join(r) for r in chars.tolist()], dtype=object)


def _rf_value(ch: str) -> str:
    return ch if ch.isdigit() else str(int(ch, 36))


def rf_reference(ref: str) -> str:
    """ISO 11649 creditor reference 'RF' + 2 check digits + `ref` (alphanumeric, up to 21 chars)."""
    ref = ref.replace(" ", "").upper()
    if not ref.isalnum() or len(ref) > 21:
        raise ValueError(f"RF reference body must be 1-21 alphanumerics: {ref!r}")
    digits = "".join(_rf_value(c) for c in ref + "RF00")
    return f"RF{98 - int(digits) % 97:02d}{ref}"


def is_valid_rf(ref: str) -> bool:
    """ISO 11649 check: move 'RFnn' to the end, letters to numbers, the number mod 97 must be 1."""
    ref = ref.replace(" ", "").upper()
    if len(ref) < 5 or not ref.startswith("RF") or not ref.isalnum():
        return False
    digits = "".join(_rf_value(c) for c in ref[4:] + ref[:4])
    return int(digits) % 97 == 1


def rf_for_invoice_numbers(year: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """Vectorized RF references for invoice numbers INV-<year>-<seq:07d>, body 'INV<year><seq>'.

    The body as digits is 'INV' -> 18 23 31, then 4+7 digits, then 'RF00' -> 27 15 00; mod 97 is
    computed piecewise so it stays in int64.
    """
    year = np.asarray(year, dtype=np.int64)
    seq = np.asarray(seq, dtype=np.int64)
    head = 182331 % 97  # "INV"
    mid = (year * 10_000_000 + seq) % 97  # 11 digits
    tail = 271500 % 97  # "RF00"
    total = (head * pow(10, 17, 97) + mid * pow(10, 6, 97) + tail) % 97
    check = 98 - total
    ys = year.astype(str).astype(object)
    ss = np.char.zfill(seq.astype(str), 7).astype(object)
    cs = np.char.zfill(check.astype(str), 2).astype(object)
    return "RF" + cs + "INV" + ys + ss
