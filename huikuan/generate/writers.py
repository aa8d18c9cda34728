"""File writers: clean UTF-8 CSV extracts, ICBC GBK CSV, camt.053.001.08 XML and MT940 statements.

Rows are formatted column-wise with pyarrow compute and joined in C++; Python only sees one
string per chunk of rows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHUNK = 400_000


def sarr(values) -> pa.Array:
    """A pyarrow string array from an object/str numpy array (None stays null)."""
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else pc.cast(values, pa.string())
    return pa.array(np.asarray(values, dtype=object), type=pa.string())


def fmt_date(days) -> pa.Array:
    """ISO dates from day numbers; negative day numbers (meaning: none) become null."""
    d = np.asarray(days, dtype=np.int64)
    arr = pa.array(d.astype(np.int32), type=pa.date32(), mask=d < 0)
    return pc.cast(arr, pa.string())


def fmt_yymmdd(days) -> pa.Array:
    return pc.utf8_replace_slice(pc.replace_substring(fmt_date(days), "-", ""), 0, 2, "")


def fmt_cents(
    cents, thousands: bool = False, decimal: str = ".", absolute: bool = False, mask=None
) -> pa.Array:
    """Fixed two-decimal amounts from integer cents: '-1234.56', or '1,234.56' with thousands."""
    c = np.asarray(cents, dtype=np.int64)
    a = np.abs(c)
    whole = a // 100
    frac = pc.utf8_lpad(pc.cast(pa.array(a % 100), pa.string()), 2, "0")
    if thousands:
        groups = [whole // 10**9, (whole // 10**6) % 1000, (whole // 1000) % 1000, whole % 1000]
        text = pc.cast(pa.array(groups[0]), pa.string())
        started = groups[0] > 0
        for g in groups[1:]:
            gs = pc.cast(pa.array(g), pa.string())
            padded = pc.binary_join_element_wise(text, pc.utf8_lpad(gs, 3, "0"), ",")
            text = pc.if_else(pa.array(started), padded, gs)
            started = started | (g > 0)
    else:
        text = pc.cast(pa.array(whole), pa.string())
    sign = pa.array(np.where((c < 0) & ~absolute, "-", ""))
    out = pc.binary_join_element_wise(pc.binary_join_element_wise(sign, text, ""), frac, decimal)
    if mask is not None:
        out = pc.if_else(pa.array(np.asarray(mask)), pa.nulls(len(out), pa.string()), out)
    return out


def join_lines(lines: pa.Array, sep: str = "\n") -> str:
    """Join a string array into one string (in C++)."""
    if len(lines) == 0:
        return ""
    lines = pc.cast(lines, pa.large_string())
    lst = pa.LargeListArray.from_arrays(pa.array([0, len(lines)], pa.int64()), lines)
    return pc.binary_join(lst, pa.scalar(sep, pa.large_string()))[0].as_py()


SPECIAL = (",", '"', "\n", "\r")


def csv_quote(col: pa.Array) -> pa.Array:
    """RFC 4180 quoting only where needed; nulls become empty fields."""
    col = pc.fill_null(col, "")
    text = join_lines(col, "\x1f")  # one C-level scan of the whole column decides the usual case
    if not any(ch in text for ch in SPECIAL):
        return col
    need = pc.or_(
        pc.or_(pc.match_substring(col, ","), pc.match_substring(col, '"')),
        pc.or_(pc.match_substring(col, "\n"), pc.match_substring(col, "\r")),
    )
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
    return pc.if_else(need, quoted, col)


def write_table(
    path: Path,
    header: list[str],
    index: np.ndarray,
    make_columns,
    encoding: str = "utf-8",
    bom: bool = False,
    newline: str = "\n",
) -> tuple[int, str]:
    """Write a CSV file in row chunks: `make_columns(index_chunk)` formats just those rows.

    Formatting per chunk keeps memory flat however many rows there are. Returns (bytes, sha256).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        head = (("\ufeff" if bom else "") + ",".join(header) + newline).encode(encoding)
        fh.write(head)
        digest.update(head)
        written += len(head)
        for start in range(0, len(index), CHUNK):
            cols = [pc.fill_null(sarr(c), "") for c in make_columns(index[start : start + CHUNK])]
            # join with a unit separator first: when no field needs quoting (the usual case for
            # ids, dates and amounts) one scan of the chunk proves it and the separator becomes ','
            flat = join_lines(
                pc.binary_join_element_wise(*cols, "\x1f") if len(cols) > 1 else cols[0], newline
            )
            rows_n = min(CHUNK, len(index) - start)
            if not any(ch in flat for ch in SPECIAL[:2] + ("\r",)) and flat.count("\n") == rows_n - 1:
                data = (flat.replace("\x1f", ",") + newline).encode(encoding)
            else:
                cols = [csv_quote(c) for c in cols]
                rows = pc.binary_join_element_wise(*cols, ",") if len(cols) > 1 else cols[0]
                data = (join_lines(rows, newline) + newline).encode(encoding)
            fh.write(data)
            digest.update(data)
            written += len(data)
    return written, digest.hexdigest()


def write_csv(path: Path, header: list[str], columns: list, **kw) -> tuple[int, str]:
    """Write already formatted columns (numpy object arrays or pyarrow arrays) as CSV."""
    n = len(columns[0]) if columns else 0

    def make(ix):
        a, b = int(ix[0]), int(ix[-1]) + 1
        return [c.slice(a, b - a) if isinstance(c, pa.Array) else c[a:b] for c in columns]

    return write_table(path, header, np.arange(n), make, **kw)


def write_bytes(path: Path, data: bytes) -> tuple[int, str]:
    path.write_bytes(data)
    return len(data), hashlib.sha256(data).hexdigest()


def fmt_fixed(values, decimals: int) -> pa.Array:
    """Fixed-point text for floats, e.g. 12.5 -> '12.50' (decimals <= 6)."""
    scaled = np.round(np.asarray(values, float) * 10**decimals).astype(np.int64)
    a = np.abs(scaled)
    whole = pc.cast(pa.array(a // 10**decimals), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(a % 10**decimals), pa.string()), decimals, "0")
    sign = pa.array(np.where(scaled < 0, "-", ""))
    return pc.binary_join_element_wise(pc.binary_join_element_wise(sign, whole, ""), frac, ".")


def fmt_timestamp(days, secs) -> pa.Array:
    """'YYYY-MM-DD HH:MM:SS' from day numbers and seconds of the day."""
    secs = np.asarray(secs, np.int64)
    parts = [
        pc.utf8_lpad(pc.cast(pa.array(v), pa.string()), 2, "0")
        for v in (secs // 3600, secs // 60 % 60, secs % 60)
    ]
    return pc.binary_join_element_wise(fmt_date(days), pc.binary_join_element_wise(*parts, ":"), " ")


def take(arr: pa.Array, idx) -> pa.Array:
    """arr[idx] for an index array (booleans index a two-value lookup such as ['false', 'true'])."""
    return arr.take(pa.array(np.asarray(idx).astype(np.int64)))


def xml_escape(col) -> pa.Array:
    col = pc.fill_null(sarr(col), "")
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        col = pc.replace_substring(col, a, b)
    return col


def cat(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays and literal strings."""
    arrs = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*arrs, "")


def opt(mask, parts_true) -> pa.Array:
    """parts_true where mask, else empty string."""
    mask = mask if isinstance(mask, (pa.Array, pa.ChunkedArray)) else pa.array(np.asarray(mask, dtype=bool))
    return pc.if_else(mask, parts_true, "")
