"""Load a tabular ERP or invoicing extract (CSV, XLSX, Parquet) into raw.<entity>, vectorized in DuckDB.

The file is read as text (a `read_csv` with every column VARCHAR), mapped through its profile, and
every value parsed and checked by the `hk_*` SQL macros (values already in canonical form are cast
directly) in one pass into a typed temp table; good rows go to raw.<entity>, bad rows (and lines
the CSV reader rejects) to raw.quarantine with the reason and their text as given. No Python runs
per row, except for XLSX, whose cells openpyxl hands over one by one.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from huikuan.contracts import BOOLEAN, CONTRACTS, DATE, DECIMAL, INTEGER, STRING, TIMESTAMP
from huikuan.ingest.profiles import EntityMapping, choose_mapping
from huikuan.ingest.sniff import FileFacts, IngestError, detect_delimiter, text_lines, transcode_to_utf8

# References checked against what is already loaded: (entity, column) -> (entity, column).
REFERENCES = {
    ("invoices", "customer_id"): ("customers", "customer_id"),
    ("projects", "customer_id"): ("customers", "customer_id"),
    ("contracts", "customer_id"): ("customers", "customer_id"),
}
CURRENCY_WORDS = {
    "人民币": "CNY",
    "RMB": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "美元": "USD",
    "欧元": "EUR",
    "港币": "HKD",
    "港元": "HKD",
    "日元": "JPY",
    "英镑": "GBP",
}
# Customer types whose tax_id is a unified social credit code (foreigners and individuals differ).
USCC_EXEMPT_TYPES = ("foreign", "individual")
# The CSV reader's scan buffer. DuckDB's default was the slowest setting measured on the 10M bench
# file (pass 11.0-11.4 s; 64 MB: 9.3-9.5 s); at 16-32 MB the rows landed in more, smaller row groups
# and the final commit merged them again (2.6-5 s). See docs/ingest.md. Lines up to DuckDB's
# max_line_size (2 MB) fit either way.
CSV_BUFFER_BYTES = 64 * 1024 * 1024


@dataclass
class TabularOutcome:
    entity: str
    profile: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reasons: list[str] = field(default_factory=list)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class Source:
    """Where the rows of a tabular file come from, as SQL relations over (i, c0..cN, all text)."""

    headers: list[str]
    relation: str  # c0..cN in file order (a table built from it keeps that order: its rowid)
    reread: str  # the same rows again with i = 1-based position among them (raw text for late finds)
    csv: bool = False  # reader rejects land in hk_reject_errors once `relation` has been scanned


def read_source(con, facts: FileFacts, kind: str, workdir: Path) -> Source:
    """The file's rows as text relations. CSV is not materialized: `relation` reads it (with
    `store_rejects`) and numbers the rows in file order. XLSX and Parquet become temp table `src`.
    `workdir` holds a transcoded copy when one is needed and must outlive the relations."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE rejects (data_row BIGINT, column_name VARCHAR, reason VARCHAR, line_text VARCHAR)"
    )
    if kind in ("parquet", "xlsx"):
        if kind == "parquet":
            cols = [
                r[0]
                for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(facts.path)]).fetchall()
            ]
            sel = ", ".join(f"CAST({q(c)} AS VARCHAR) AS c{i}" for i, c in enumerate(cols))
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE src AS SELECT {sel} FROM read_parquet(?)", [str(facts.path)]
            )
        else:
            cols, rows = _xlsx_rows(facts.path)
            _check_headers(cols, facts)
            extra = [i for i, r in enumerate(rows) if len(r) > len(cols) and any(v for v in r[len(cols) :])]
            if extra:
                raise IngestError(f"{facts.path.name}: row {extra[0] + 1}: more cells than header columns")
            table = pa.table(
                {
                    f"c{i}": pa.array([r[i] if i < len(r) else None for r in rows], pa.string())
                    for i in range(len(cols))
                }
            )
            con.register("xlsx_rows", table)
            con.execute("CREATE OR REPLACE TEMP TABLE src AS SELECT * FROM xlsx_rows")
            con.unregister("xlsx_rows")
        # Temporary tables number rows from an offset.
        base = con.execute("SELECT coalesce(min(rowid), 0) FROM src").fetchone()[0]
        return Source(cols, "src", f"(SELECT rowid - {base} + 1 AS i, * FROM src)")
    # Text: DuckDB reads UTF-8 with one kind of line end; anything else is transcoded first.
    path = facts.path
    if facts.encoding == "gb18030" or facts.mixed_newlines or facts.crlf:
        path = workdir / (facts.sha256[:16] + ".utf8.csv")
        transcode_to_utf8(facts, path)
        if facts.encoding == "gb18030":
            facts.notes.append("decoded as GB18030/GBK")
        if facts.mixed_newlines:
            facts.notes.append("mixed line endings normalised")
    lines = text_lines(facts, limit=2)
    header_line = lines[0].lstrip("\ufeff") if lines else ""
    delim = detect_delimiter(header_line)
    headers = next(csv.reader([header_line], delimiter=delim), [])
    _check_headers(headers, facts)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers))) + "}"
    con.execute(
        "DROP TABLE IF EXISTS hk_reject_errors; DROP TABLE IF EXISTS hk_reject_scans; "
        "DROP TABLE IF EXISTS hk_reject_errors2; DROP TABLE IF EXISTS hk_reject_scans2"
    )

    def reader(suffix: str) -> str:
        return f"""read_csv({lit(str(path))},
              header = true, columns = {columns}, delim = {lit(delim)}, quote = '"', escape = '"',
              new_line = '\\n', strict_mode = true, auto_detect = false, null_padding = false,
              buffer_size = {CSV_BUFFER_BYTES}, store_rejects = true,
              rejects_table = 'hk_reject_errors{suffix}', rejects_scan = 'hk_reject_scans{suffix}')"""

    # The pass reads the file straight into typed rows (no text copy first); the CSV reader and an
    # insert keep file order, so the rows are numbered by their position in the table built.
    return Source(headers, reader(""), f"(SELECT row_number() OVER () AS i, * FROM {reader('2')})", csv=True)


def collect_rejects(con, source: Source) -> int:
    """Copy the lines the CSV reader refused (known once `source.relation` was scanned) into temp
    table `rejects`, one row per line; returns their number."""
    if not source.csv:
        return 0
    con.execute(
        """INSERT INTO rejects
           SELECT line - 1, any_value(column_name),
                  'line ' || line || ': ' || string_agg(DISTINCT error_type || ' (' || error_message || ')', '; '),
                  any_value(csv_line)
           FROM hk_reject_errors GROUP BY line ORDER BY line"""
    )
    return con.execute("SELECT count(*) FROM rejects").fetchone()[0]


def _check_headers(headers: list[str], facts: FileFacts) -> None:
    names = [h.strip() for h in headers]
    if not any(names):
        raise IngestError(f"{facts.path.name}: line 1: no header row")
    dup = sorted({h for h in names if h and names.count(h) > 1})
    if dup:
        raise IngestError(f"{facts.path.name}: line 1: duplicate column name(s) {', '.join(dup)}")
    blank = [i + 1 for i, h in enumerate(names) if not h]
    if blank:
        raise IngestError(f"{facts.path.name}: line 1: column {blank[0]} has no name")


def _xlsx_rows(path: Path) -> tuple[list[str], list[list[str | None]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        rows = [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise IngestError(f"{path.name}: the first worksheet is empty")
    header = [h or "" for h in rows[0]]
    while header and not header[-1]:
        header.pop()
    return header, rows[1:]


def _cell_text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.isoformat(sep=" ") if (v.hour, v.minute, v.second) != (0, 0, 0) else v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _value_map(mapping: EntityMapping, column: str) -> dict[str, str]:
    """The profile's value map of a contract column (currency words included for `currency`)."""
    vmap = dict(mapping.values.get(column, {}))
    return {**CURRENCY_WORDS, **vmap} if column == "currency" else vmap


def _value_expr(mapping: EntityMapping, column: str, src: dict[str, str]) -> str:
    """Text expression for a contract column: the mapped source column, value map and defaults."""
    if column in src:
        raw = src[column]
    elif column in mapping.defaults:
        raw = lit(mapping.defaults[column])
    else:
        return "CAST(NULL AS VARCHAR)"
    vmap = _value_map(mapping, column)
    if vmap:
        # hk_text(x) is nullif(trim(x, BLANKS), ''), cheaper; no key is empty, so both match alike.
        whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in vmap.items())
        raw = f"(CASE hk_text({raw}) {whens} ELSE {raw} END)"
    return raw


# Fast paths: a value already in canonical form is cast directly; only the others go through the
# hk_* macros. A canonical value is one whose cast prints back as the same text (dates), or the
# first branch of the macro itself (amounts, integers), so both give the same result
# (tests/ingest/test_fast_path.py compares the two on a mixed file).
FAST_DATE = "CASE WHEN strftime(TRY_CAST({r} AS DATE), '%Y-%m-%d') = {r} THEN TRY_CAST({r} AS DATE) END"
FAST_TIMESTAMP = "CASE WHEN strftime(TRY_CAST({r} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S') = {r} THEN TRY_CAST({r} AS TIMESTAMP) END"
FAST_AMOUNT = (
    "CASE WHEN regexp_full_match({r}, '-?\\d{{1,14}}(\\.\\d{{1,4}})?') THEN CAST({r} AS DECIMAL(18,4)) END"
)
# A blank (as hk_text trims them) at the start or end of one of the texts joined by chr(31).
BLANK_EDGE = "(^|\x1f)[\\s\u3000]|[\\s\u3000](\x1f|$)"
FAST_INTEGER = "CASE WHEN regexp_full_match({r}, '-?\\d{{1,18}}') THEN CAST({r} AS BIGINT) END"
# Per non-text type: the full parse ({x}), the fast form for canonical text ({r}; None: parsed in
# full) and the quarantine reason when a value does not parse ({t}: its trimmed text).
PARSERS = {
    DATE: ("hk_date({x})", FAST_DATE, "hk_date_reason({t})"),
    TIMESTAMP: ("hk_timestamp({x})", FAST_TIMESTAMP, "'not a timestamp'"),
    DECIMAL: ("hk_amount({x})", FAST_AMOUNT, "'not an amount'"),
    INTEGER: ("hk_integer({x})", FAST_INTEGER, "'not an integer'"),
    BOOLEAN: ("hk_boolean({x})", None, "'not a yes/no value'"),
}


@dataclass
class Staged:
    """The fast CSV pass in two steps. `inner`/`outer` (over c0..cN) give every contract column its
    fast value and, where the fast form did not apply, the value's text in `hk_r<n>` (NULL
    otherwise); `errs` starts empty. Then `slow_set` (an UPDATE's SET list) parses those texts with
    the full macros on the rows matching `slow_where`, and `errs_set` spells out the reasons on the
    rows matching `errs_where` (every row that can have one). The big macro expressions thus run
    only on the rows that need them: DuckDB pays for a large expression on every vector it sees,
    even when no row takes that branch."""

    inner: str
    outer: str
    slow_set: str
    slow_where: str
    errs_set: str
    errs_where: str


def build_select(
    mapping: EntityMapping, headers: list[str], *, fast: bool = True
) -> tuple[str, str, list[str]] | tuple[Staged, list[str]]:
    """The parse of a file's rows (c0..cN) into contract columns with their reasons `errs` ('; '-
    joined, '' when the row is good).

    `fast=False` is the plain form, kept as the reference: two SELECT lists, the inner one parsing
    every contract column once (value `p_<n>`) with the hk_* macros, the outer one keeping the
    values and adding `errs`; returns (inner, outer, unknown headers). With `fast` (the default)
    canonical values skip the macros and the rest is parsed afterwards, row by row only where
    needed: returns (`Staged`, unknown headers). Both give the same rows."""
    contract = CONTRACTS[mapping.entity]
    resolved = mapping.resolve(headers)
    src = {col: f"c{headers.index(h)}" for col, h in resolved.items()}
    inner: list[str] = []
    outer_extra: list[str] = []  # staged: hk_r<n>, the text where the fast form did not apply
    slow_set: list[str] = []
    slow_where: list[str] = []
    errors: list[str] = []
    # Cheap conditions on the pass's values (p_<n>, the source text), one of them true for every row
    # with an error and for every row with a value the fast forms did not parse.
    suspects: list[str] = []
    blank_cols: list[str] = []  # staged: source columns of plain texts, trimmed only where needed
    names = contract.column_names
    # In the staged form the reasons are computed on the table, where column n is named names[n].
    v = (lambda n: q(names[n])) if fast else (lambda n: f"p_{n}")
    for n, col in enumerate(contract.columns):
        raw = _value_expr(mapping, col.name, src)
        p, r = v(n), f"hk_r{n}"
        if col.type == STRING:
            full = "hk_text({x})"
            if col.values:
                full = f"lower({full})"
            if col.name == "currency":
                full = f"upper({full})"
            expr = full.format(x=raw)
            fast_expr = None
            if fast and col.name == "currency" and col.name in src:
                # An upper-case ISO code that no value map rewrites is the value itself: the value
                # map, trims and upper() run only on the other rows.
                keys = ", ".join(lit(k) for k in _value_map(mapping, col.name))
                code = src[col.name]
                expr = f"(CASE WHEN regexp_full_match({code}, '[A-Z]{{3}}') AND {code} NOT IN ({keys}) THEN {code} ELSE {expr} END)"
            if fast and re.fullmatch(r"c\d+", raw):  # the source text itself (no value map)
                fast_expr = full.replace("hk_text({x})", f"nullif({raw}, '')")
                blank_cols.append(raw)
        else:
            t = f"hk_text({r})" if fast else f"t_{n}"
            if not fast:
                inner.append(f"hk_text({raw}) AS {t}")
            full, fast_form, reason = PARSERS[col.type]
            fast_expr = fast_form.format(r=raw) if fast_form else None
            errors.append(
                f"CASE WHEN {p} IS NULL AND {t} IS NOT NULL THEN '{col.name}: ' || {reason.format(t=t)} END"
            )
            if col.type == DECIMAL and col.name in mapping.scale:
                full = f"CAST({full} * {mapping.scale[col.name]!r} AS DECIMAL(18,4))"
                fast_expr = f"CAST({fast_expr} * {mapping.scale[col.name]!r} AS DECIMAL(18,4))"
            expr = full.format(x=raw)
            for rule in mapping.signs if col.type == DECIMAL else ():
                ind = next((f"c{headers.index(h)}" for h in headers if h.strip() in rule.columns), None)
                if ind and col.name in rule.apply_to:
                    neg = ", ".join(lit(x) for x in rule.negative_values)
                    expr = f"(CASE WHEN hk_text({ind}) IN ({neg}) THEN -abs({expr}) ELSE {expr} END)"
                    fast_expr = None  # the indicator is not kept: parsed in full in the pass
            suspects.append(f"(p_{n} IS NULL AND {raw} IS NOT NULL)")
        if fast and col.type == STRING and fast_expr is not None:
            # Trimmed only on the rows where some text starts or ends with a blank (hk_blank).
            inner.append(f"{fast_expr} AS p_{n}")
            outer_extra.append(f"CASE WHEN hk_blank THEN {raw} END AS {r}")
            slow_set.append(f"{p} = CASE WHEN {r} IS NOT NULL THEN {full.format(x=r)} ELSE {p} END")
            slow_where.append(f"{r} IS NOT NULL")
        elif fast and col.type != STRING:
            # The text is kept where the pass left the value missing (for the full parse, if any,
            # and the reasons); without a fast form the pass parses in full.
            outer_extra.append(f"CASE WHEN p_{n} IS NULL THEN {raw} END AS {r}")
            if fast_expr is None:
                inner.append(f"{expr} AS p_{n}")
            else:
                inner.append(f"{fast_expr} AS p_{n}")
                slow = full.format(x=r)
                slow_set.append(f"{p} = CASE WHEN {r} IS NOT NULL THEN {slow} ELSE {p} END")
                slow_where.append(f"{r} IS NOT NULL")
        else:
            inner.append(f"{expr} AS p_{n}")
        if col.required:
            suspects.append(f"p_{n} IS NULL")
            if col.type == STRING:  # the value is the trimmed text itself
                errors.append(f"CASE WHEN {p} IS NULL THEN '{col.name}: required value missing' END")
            else:
                t = f"hk_text({r})" if fast else f"t_{n}"
                errors.append(
                    f"CASE WHEN {p} IS NULL AND {t} IS NULL THEN '{col.name}: required value missing' END"
                )
        if col.values:
            allowed = ", ".join(lit(x) for x in col.values)
            suspects.append(f"p_{n} NOT IN ({allowed})")
            errors.append(
                f"CASE WHEN {p} IS NOT NULL AND {p} NOT IN ({allowed}) "
                f"THEN '{col.name}: not one of {'/'.join(col.values)}' END"
            )
        if col.name == "currency":
            suspects.append(f"NOT regexp_full_match(p_{n}, '[A-Z]{{3}}')")
            errors.append(
                f"CASE WHEN {p} IS NOT NULL AND NOT regexp_full_match({p}, '[A-Z]{{3}}') "
                f"THEN 'currency: not an ISO 4217 code' END"
            )
    if mapping.entity == "customers":
        tax, ctype = v(names.index("tax_id")), v(names.index("customer_type"))
        exempt = ", ".join(lit(x) for x in USCC_EXEMPT_TYPES)
        suspects.append(f"p_{names.index('tax_id')} IS NOT NULL")
        errors.append(
            f"CASE WHEN {tax} IS NOT NULL AND coalesce({ctype}, '') NOT IN ({exempt})"
            f" AND NOT coalesce(hk_uscc_ok({tax}), false)"
            f" THEN 'tax_id: not a valid unified social credit code (GB 32100-2015 check character)' END"
        )
    unknown = [h for h in headers if h.strip() and not mapping.known(h)]
    if blank_cols:
        # One search per row over its texts joined by a unit separator, instead of one per text:
        # a text that starts or ends with a blank sits next to a separator or an end.
        inner.append(
            f"regexp_matches(concat_ws(chr(31), {', '.join(blank_cols)}), {lit(BLANK_EDGE)}) AS hk_blank"
        )
        suspects.append("hk_blank")
    outer = [f"p_{n} AS {q(c.name)}" for n, c in enumerate(contract.columns)]
    errs = "concat_ws('; ', " + ", ".join(errors) + ")" if errors else "''"
    if fast:
        outer += outer_extra
        outer.append("'' AS errs")
        outer.append(f"({' OR '.join(suspects) or 'false'}) AS hk_check")
        staged = Staged(
            inner=", ".join(inner),
            outer=", ".join(outer),
            slow_set=", ".join(slow_set),
            slow_where=f"hk_check AND ({' OR '.join(slow_where)})" if slow_where else "",
            errs_set=f"errs = {errs}",
            errs_where="hk_check" if errors else "false",
        )
        return staged, unknown
    outer.append(f"{errs} AS errs")
    return ", ".join(inner), ", ".join(outer), unknown


def load_tabular(
    con,
    facts: FileFacts,
    kind: str,
    *,
    source_file: str,
    loaded_at: datetime,
    workdir: Path | None = None,
    mappings=None,
    before_insert=None,
    commit_point=None,
    fast: bool = True,
) -> TabularOutcome:
    """Parse, validate and insert one tabular file. The caller holds the transaction.

    One pass reads the file, parses and checks every value and keeps the typed result in temp table
    `parsed` (file order). Duplicate keys, keys already loaded and unknown references are found on
    `parsed`; good rows are then one INSERT ... SELECT from it, and only when some row failed is the
    source text of the failed rows read again for the quarantine. `fast=False` parses with the
    plain macros (see `build_select`). `commit_point()`, when given, is called once the direct
    path's rows are in raw.<entity> with `source_row` still NULL and nothing else was changed; it
    may commit there (see `_load_direct`)."""
    with tempfile.TemporaryDirectory(prefix="huikuan-ingest-", dir=workdir) as tmp:
        source = read_source(con, facts, kind, Path(tmp))
        # On failure the temp tables go with the caller's ROLLBACK; dropping them here would run in
        # the aborted transaction and replace the real cause with "transaction is aborted".
        outcome = _load_source(
            con, facts, source, source_file, loaded_at, mappings, before_insert, fast, commit_point
        )
        con.execute(
            "DROP TABLE IF EXISTS src; DROP TABLE IF EXISTS parsed; DROP TABLE IF EXISTS issues; "
            "DROP TABLE IF EXISTS rej_before; DROP TABLE IF EXISTS dup_keys; DROP TABLE IF EXISTS raw_fetch"
        )
        return outcome


def _load_source(
    con, facts, source: Source, source_file, loaded_at, mappings, before_insert, fast, commit_point=None
):
    headers = source.headers
    mapping = choose_mapping(headers, facts.path.name, mappings)
    entity = mapping.entity
    contract = CONTRACTS[entity]
    if before_insert is not None:
        before_insert(entity)
    out = TabularOutcome(entity=entity, profile=mapping.profile)
    out.reasons.extend(facts.notes)
    built = build_select(mapping, headers, fast=fast)
    staged: Staged | None = None
    if fast:
        staged, unknown = built  # type: ignore[misc]
        inner, outer = staged.inner, staged.outer
    else:
        inner, outer, unknown = built  # type: ignore[misc]
    if unknown:
        out.reasons.append(f"columns not in the {entity} contract, not loaded: {', '.join(unknown)}")

    # Keys (duplicates) and references, on the source text of string columns as given.
    names = contract.column_names
    resolved = mapping.resolve(headers)
    col_expr = {
        # The parsed value itself where it is just that text (no value map, case or default).
        c.name: f"p_{names.index(c.name)}"
        if not (c.values or c.name == "currency" or mapping.values.get(c.name))
        else f"hk_text(c{headers.index(h)})"
        for c in contract.columns
        for h in [resolved.get(c.name)]
        if h is not None and c.type == STRING
    }
    key_sql = [col_expr.get(k, f"CAST(p_{names.index(k)} AS VARCHAR)") for k in contract.key]
    nk = len(key_sql)
    ks = ", ".join(f"k{n}" for n in range(nk))
    key_cols = "/".join(contract.key)
    key_text = " || ', ' || ".join(f"'{k}=' || k{n}" for n, k in enumerate(contract.key))
    raw_cols = ", ".join(f"c{n}" for n in range(len(headers)))

    # The pass: a pure projection over the reader (parallel, and the table keeps file order).
    refs = [
        (col, ref_ent, ref_col)
        for (ent, col), (ref_ent, ref_col) in REFERENCES.items()
        if ent == entity and col in col_expr
    ]
    # Keys and references on the source text are computed in the pass; those on parsed values are
    # read from the table (after the staged parse has completed them), not stored twice.
    pass_extra, view_extra = [], []
    for alias, e in [(f"k{n}", e) for n, e in enumerate(key_sql)] + [
        (f"ref_{c}", col_expr[c]) for c, _, _ in refs
    ]:
        if re.search(r"\bc\d+\b", e):
            pass_extra.append(f", {e} AS {q(alias)}")
        else:
            on_table = re.sub(r"\bp_(\d+)\b", lambda m: q(names[int(m.group(1))]), e)
            view_extra.append(f", {on_table} AS {q(alias)}")
    if staged is not None and source.csv and not pass_extra:
        # Keys and references are read back from the stored columns: the direct path applies.
        direct = Direct(entity, headers, resolved, staged, "".join(view_extra), refs, key_cols, key_text, nk)
        return _load_direct(con, facts, source, direct, out, source_file, loaded_at, commit_point)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE parsed AS
            SELECT {outer}{"".join(pass_extra)} FROM (SELECT {inner}, {raw_cols} FROM {source.relation})"""
    )
    # Usually no row needs the full parse or has a reason: one look at the flag, and the UPDATEs
    # with their large expressions run only when some do.
    if staged is not None and con.execute("SELECT count(*) FROM parsed WHERE hk_check").fetchone()[0]:
        if staged.slow_where:
            con.execute(f"UPDATE parsed SET {staged.slow_set} WHERE {staged.slow_where}")
        con.execute(f"UPDATE parsed SET {staged.errs_set} WHERE {staged.errs_where}")
    n_rej = collect_rejects(con, source)
    n_src, base = con.execute("SELECT count(*), coalesce(min(rowid), 0) FROM parsed").fetchone()
    # i: the row's position among the rows the reader accepted (temporary tables number from an offset).
    rows = f"(SELECT rowid - {base} + 1 AS i, *{''.join(view_extra)} FROM parsed)"

    _row_macro(con, n_rej)

    # Row-level issues, on the parsed table: duplicate keys within the file (a hash aggregate on the
    # key alone, then only the repeated keys), keys already loaded, unknown references.
    not_null = " AND ".join(f"k{n} IS NOT NULL" for n in range(nk))
    con.execute("CREATE OR REPLACE TEMP TABLE issues (i BIGINT, reason VARCHAR)")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE dup_keys AS
        SELECT {ks} FROM {rows} WHERE {not_null} GROUP BY {ks} HAVING count(*) > 1""")
    if con.execute("SELECT count(*) FROM dup_keys").fetchone()[0]:
        con.execute(f"""INSERT INTO issues SELECT i, '{key_cols}: duplicate key ' || {key_text}
                        || ' (first at row ' || hk_row(first_i) || ')'
            FROM (SELECT *, min(i) OVER (PARTITION BY {ks}) AS first_i FROM {rows} JOIN dup_keys USING ({ks}))
            WHERE i <> first_i""")
    if con.execute(f"SELECT count(*) FROM raw.{entity}").fetchone()[0]:
        old_keys = ", ".join(f"CAST({q(k)} AS VARCHAR) AS k{n}" for n, k in enumerate(contract.key))
        con.execute(f"""INSERT INTO issues SELECT v.i, '{key_cols}: duplicate key ' || {key_text}
                        || ' already loaded from ' || old.hit.f || ' row ' || old.hit.r
            FROM {rows} v JOIN (SELECT {old_keys}, any_value(struct_pack(f := source_file, r := source_row)) AS hit
                                FROM raw.{entity} GROUP BY ALL) old USING ({ks})""")
    _unknown_references(con, refs, rows, out)
    n_issue_rows = con.execute("SELECT count(DISTINCT i) FROM issues").fetchone()[0]

    cols = ", ".join(q(c) for c in names)
    # Each row carries its file position in source_row, so the insert need not keep file order:
    # without it DuckDB appends from every thread at once instead of in one ordered batch stream.
    # A failed insert aborts the transaction, where SET is refused: then the caller restores the
    # setting after its ROLLBACK (`restore_insertion_order`).
    keep_order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("SET preserve_insertion_order = false")
    out.rows_loaded = con.execute(
        f"""INSERT INTO raw.{entity} ({cols}, source_file, source_row, file_hash, loaded_at)
            SELECT {cols}, ?, hk_row(i), ?, ? FROM {rows}
            WHERE errs = '' {"AND i NOT IN (SELECT i FROM issues)" if n_issue_rows else ""}""",
        [source_file, facts.sha256, loaded_at],
    ).fetchone()[0]
    con.execute(f"SET preserve_insertion_order = {'true' if keep_order else 'false'}")

    # Quarantine: the whole row as given, the first failing column and its value, all reasons.
    n_bad = 0
    if out.rows_loaded < n_src:
        # The source text of the quarantined rows, read again (the pass keeps typed values only).
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE raw_fetch AS SELECT * FROM {source.reread} "
            f"WHERE i IN (SELECT i FROM {rows} WHERE errs <> '' UNION ALL SELECT i FROM issues)"
        )
        n_bad = con.execute(
            f"""INSERT INTO raw.quarantine
            SELECT ?, hk_row(i), ?, ?, {_FIRST_COL}, {_value_case(headers, resolved)}, reason, {_record(headers)}, ?
            FROM (SELECT p.*, r.* EXCLUDE (i), concat_ws('; ', nullif(p.errs, ''), iss.reason) AS reason
                  FROM {rows} p
                  LEFT JOIN (SELECT i, string_agg(reason, '; ') AS reason FROM issues GROUP BY i) iss ON p.i = iss.i
                  JOIN raw_fetch r ON p.i = r.i
                  WHERE p.errs <> '' OR iss.i IS NOT NULL)
            ORDER BY i""",
            [source_file, facts.sha256, entity, loaded_at],
        ).fetchone()[0]
    _finish(con, facts, source_file, entity, loaded_at, out, n_src, n_bad, n_rej)
    return out


def _row_macro(con, n_rej: int) -> None:
    """hk_row(i): the data-row number in the file of the i-th row the reader accepted (the lines it
    refused shift the numbers after them)."""
    if n_rej:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE rej_before AS "
            "SELECT data_row - row_number() OVER (ORDER BY data_row) AS before FROM rejects"
        )
        con.execute(
            "CREATE OR REPLACE TEMP MACRO hk_row(x) AS x + (SELECT count(*) FROM rej_before WHERE before < x)"
        )
    else:
        con.execute("CREATE OR REPLACE TEMP MACRO hk_row(x) AS x")


# Quarantine record of a row: the column its first reason names, that column's text, the whole row.
_FIRST_COL = "split_part(reason, ':', 1)"


def _value_case(headers: list[str], resolved: dict[str, str]) -> str:
    if not resolved:
        return "NULL"
    whens = " ".join(f"WHEN {_FIRST_COL} = {lit(c)} THEN c{headers.index(h)}" for c, h in resolved.items())
    return f"CASE {whens} END"


def _record(headers: list[str]) -> str:
    return "json_object(" + ", ".join(f"{lit(h)}, c{n}" for n, h in enumerate(headers)) + ")"


def _finish(con, facts, source_file, entity, loaded_at, out: TabularOutcome, n_src, n_bad, n_rej) -> None:
    """Quarantine the lines the reader refused; the file's counts and its top reasons."""
    if n_rej:
        con.execute(
            """INSERT INTO raw.quarantine
               SELECT ?, data_row, ?, ?, column_name, NULL, reason, json_object('line_text', line_text), ?
               FROM rejects ORDER BY data_row""",
            [source_file, facts.sha256, entity, loaded_at],
        )
    out.rows_quarantined = n_bad + n_rej
    out.rows_in = n_src + n_rej
    if out.rows_in == 0:
        out.reasons.append("no data rows (header only)")
    if out.rows_quarantined:
        top = con.execute(
            """SELECT split_part(reason, ' (', 1) AS r, count(*) FROM raw.quarantine
               WHERE file_hash = ? GROUP BY r ORDER BY count(*) DESC, r LIMIT 3""",
            [facts.sha256],
        ).fetchall()
        out.reasons.append("quarantined: " + "; ".join(f"{n} × {r}" for r, n in top))


@dataclass
class Direct:
    """What the direct CSV path needs from the file's mapping (see `_load_direct`)."""

    entity: str
    headers: list[str]
    resolved: dict[str, str]  # contract column -> header
    staged: Staged
    view_extra: str  # ", <expr> AS k0, ..., <expr> AS ref_<col>" over the contract's column names
    refs: list[tuple[str, str, str]]  # (column, referenced entity, referenced column)
    key_cols: str
    key_text: str
    nk: int


def _load_direct(
    con,
    facts: FileFacts,
    source: Source,
    d: Direct,
    out: TabularOutcome,
    source_file,
    loaded_at,
    commit_point=None,
):
    """A CSV file in one pass straight into raw.<entity>; the rest only where some row needs it.

    The pass inserts every row the cheap flag `hk_check` leaves out (false or NULL), typed, with its
    lineage, into raw.<entity>: no temporary copy of the file's rows. It first runs unnumbered
    (in parallel) and numbers the rows by row id when no row was flagged; otherwise it runs again
    numbering the reader's rows (`row_number() OVER ()`: file order, insertion order being
    preserved). A row is flagged when a value is not in
    canonical form or some check may fail (see `build_select`). When the rows inserted and the
    lines the reader refused account for every line of the file, no row was flagged and nothing
    else reads the file. Otherwise a second scan keeps only the flagged rows (temp table `parsed`,
    with their text), parses them in full and spells out their reasons. Duplicate keys (within the
    file and against earlier files) and unknown references are then found on the file's rows in
    raw.<entity> together with `parsed`; the rows they hit are deleted from raw.<entity> again and
    quarantined with the text read back from the file. Until the end `source_row` holds the row's
    position among the rows the reader accepted; lines the reader refused shift it last.

    When the unnumbered pass took every line, `commit_point()` (if given) may commit before the rows
    are numbered: numbering rows the transaction itself wrote to disk made DuckDB write the whole
    table again at COMMIT (2.9 s at 10M rows), numbering committed rows costs 0.3 s. Until the
    load's own COMMIT those rows have no `source_row` and their file no `loaded` registry entry;
    `load.drop_unregistered_rows` removes them if the load fails or the process dies."""
    entity, headers, st = d.entity, d.headers, d.staged
    names = CONTRACTS[entity].column_names
    cols = ", ".join(q(c) for c in names)
    raw_cols = ", ".join(f"c{n}" for n in range(len(headers)))
    ks = ", ".join(f"k{n}" for n in range(d.nk))
    lineage = [source_file, facts.sha256, loaded_at]
    n_old = con.execute(f"SELECT count(*) FROM raw.{entity}").fetchone()[0]

    def fast_pass(numbered: bool) -> int:
        rows = f"(SELECT row_number() OVER () AS i, * FROM {source.relation})" if numbered else source.relation
        i = "i" if numbered else "NULL::BIGINT AS i"
        return con.execute(
            f"""INSERT INTO raw.{entity} ({cols}, source_file, source_row, file_hash, loaded_at)
                SELECT {cols}, ?, i, ?, ? FROM (
                  SELECT i, {st.outer} FROM (SELECT {i}, {st.inner}, {raw_cols} FROM {rows}))
                WHERE hk_check IS NOT TRUE""",
            lineage,
        ).fetchone()[0]

    # Optimistic pass: most files have no flagged row. Numbering rows with a window keeps the
    # reader on one thread, so the pass inserts unnumbered rows in file order and, when every line
    # became a row, numbers them by their (contiguous) row ids. Otherwise its rows are deleted and
    # the numbered pass below runs, which the flagged rows need.
    n_fast = None
    n_rej = None
    if _keeps_insertion_order(con):
        n_fast = fast_pass(numbered=False)
        n_rej = collect_rejects(con, source)
        if n_fast + n_rej == facts.lines - 1 and commit_point is not None:
            commit_point()
        if n_fast + n_rej != facts.lines - 1 or not _number_by_rowid(con, entity, facts.sha256):
            con.execute(f"DELETE FROM raw.{entity} WHERE file_hash = ? AND source_row IS NULL", [facts.sha256])
            con.execute("DROP TABLE IF EXISTS hk_reject_errors; DROP TABLE IF EXISTS hk_reject_scans")
            n_fast = None
    if n_fast is None:
        n_fast = fast_pass(numbered=True)
        if n_rej is None:
            n_rej = collect_rejects(con, source)
    _row_macro(con, n_rej)

    # Every line after the header is an inserted row or a refused line: nothing was flagged. (A
    # quoted line end or a blank line makes the sum smaller: the second scan then finds out.)
    n_slow = 0
    has_parsed = n_fast + n_rej != facts.lines - 1
    if has_parsed:
        con.execute("DROP TABLE IF EXISTS hk_reject_errors2; DROP TABLE IF EXISTS hk_reject_scans2")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE parsed AS SELECT * FROM (
                  SELECT i, {st.outer}, {raw_cols} FROM (SELECT i, {st.inner}, {raw_cols} FROM {source.reread}))
                WHERE hk_check"""
        )
        n_slow = con.execute("SELECT count(*) FROM parsed").fetchone()[0]
        has_parsed = n_slow > 0
    if has_parsed:
        if st.slow_where:
            con.execute(f"UPDATE parsed SET {st.slow_set} WHERE {st.slow_where}")
        con.execute(f"UPDATE parsed SET {st.errs_set} WHERE {st.errs_where}")
    n_src = n_fast + n_slow

    # The file's rows as keys and references: those inserted, and the flagged ones.
    mine = f"SELECT source_row AS i{d.view_extra} FROM raw.{entity} WHERE file_hash = {lit(facts.sha256)}"
    keyed = f"({mine}" + (f" UNION ALL SELECT i{d.view_extra} FROM parsed)" if has_parsed else ")")
    not_null = " AND ".join(f"k{n} IS NOT NULL" for n in range(d.nk))
    con.execute("CREATE OR REPLACE TEMP TABLE issues (i BIGINT, reason VARCHAR)")
    if n_src:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE dup_keys AS
            SELECT {ks} FROM {keyed} WHERE {not_null} GROUP BY {ks} HAVING count(*) > 1""")
        if con.execute("SELECT count(*) FROM dup_keys").fetchone()[0]:
            con.execute(f"""INSERT INTO issues SELECT i, '{d.key_cols}: duplicate key ' || {d.key_text}
                            || ' (first at row ' || hk_row(first_i) || ')'
                FROM (SELECT *, min(i) OVER (PARTITION BY {ks}) AS first_i FROM {keyed} JOIN dup_keys USING ({ks}))
                WHERE i <> first_i""")
    if n_src and n_old:
        old_keys = ", ".join(f"CAST({q(k)} AS VARCHAR) AS k{n}" for n, k in enumerate(CONTRACTS[entity].key))
        con.execute(
            f"""INSERT INTO issues SELECT v.i, '{d.key_cols}: duplicate key ' || {d.key_text}
                        || ' already loaded from ' || old.hit.f || ' row ' || old.hit.r
            FROM {keyed} v JOIN (SELECT {old_keys}, any_value(struct_pack(f := source_file, r := source_row)) AS hit
                                FROM raw.{entity} WHERE file_hash <> ? GROUP BY ALL) old USING ({ks})""",
            [facts.sha256],
        )
    _unknown_references(con, d.refs if n_src else (), keyed, out)
    n_issue_rows = con.execute("SELECT count(DISTINCT i) FROM issues").fetchone()[0]

    n_loaded = n_fast
    if has_parsed:
        n_loaded += con.execute(
            f"""INSERT INTO raw.{entity} ({cols}, source_file, source_row, file_hash, loaded_at)
                SELECT {cols}, ?, i, ?, ? FROM parsed
                WHERE errs = '' {"AND i NOT IN (SELECT i FROM issues)" if n_issue_rows else ""}""",
            lineage,
        ).fetchone()[0]
    if n_issue_rows:
        n_loaded -= con.execute(
            f"DELETE FROM raw.{entity} WHERE file_hash = ? AND source_row IN (SELECT i FROM issues)",
            [facts.sha256],
        ).fetchone()[0]
    out.rows_loaded = n_loaded

    n_bad = 0
    if n_loaded < n_src:
        # The text of the quarantined rows: kept with the flagged ones, read back for the others.
        texts = f"SELECT i, {raw_cols} FROM parsed" if has_parsed else ""
        issue_only = "SELECT i FROM issues" + (" WHERE i NOT IN (SELECT i FROM parsed)" if has_parsed else "")
        if con.execute(f"SELECT count(*) FROM ({issue_only})").fetchone()[0]:
            con.execute("DROP TABLE IF EXISTS hk_reject_errors2; DROP TABLE IF EXISTS hk_reject_scans2")
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE raw_fetch AS SELECT i, {raw_cols} FROM {source.reread} "
                f"WHERE i IN ({issue_only})"
            )
            texts = f"{texts} UNION ALL SELECT * FROM raw_fetch" if texts else "SELECT * FROM raw_fetch"
        errs = "(SELECT i, errs FROM parsed)" if has_parsed else "(SELECT NULL::BIGINT AS i, '' AS errs)"
        bad = "SELECT i FROM issues" + (" UNION SELECT i FROM parsed WHERE errs <> ''" if has_parsed else "")
        n_bad = con.execute(
            f"""INSERT INTO raw.quarantine
            SELECT ?, hk_row(i), ?, ?, {_FIRST_COL}, {_value_case(headers, d.resolved)}, reason, {_record(headers)}, ?
            FROM (SELECT t.*, concat_ws('; ', nullif(e.errs, ''), iss.reason) AS reason
                  FROM ({bad}) b JOIN ({texts}) t USING (i)
                  LEFT JOIN {errs} e USING (i)
                  LEFT JOIN (SELECT i, string_agg(reason, '; ') AS reason FROM issues GROUP BY i) iss USING (i))
            ORDER BY i""",
            [source_file, facts.sha256, entity, loaded_at],
        ).fetchone()[0]
    if n_rej:
        con.execute(
            f"UPDATE raw.{entity} SET source_row = hk_row(source_row) WHERE file_hash = ? "
            "AND source_row > (SELECT min(before) FROM rej_before)",
            [facts.sha256],
        )
    _finish(con, facts, source_file, entity, loaded_at, out, n_src, n_bad, n_rej)
    return out


def _unknown_references(con, refs, rows: str, out: TabularOutcome) -> None:
    """Issues for the rows of `rows` (a relation with `i` and `ref_<col>`) naming an unknown key."""
    for col, ref_ent, ref_col in refs:
        if con.execute(f"SELECT count(*) FROM raw.{ref_ent}").fetchone()[0] == 0:
            out.reasons.append(f"{col} not checked: raw.{ref_ent} is empty (load {ref_ent} first)")
            continue
        ref = q("ref_" + col)
        con.execute(f"""INSERT INTO issues SELECT i, '{col}: unknown {ref_ent[:-1]} ' || {ref} FROM {rows}
            WHERE {ref} IS NOT NULL AND {ref} NOT IN (SELECT {q(ref_col)} FROM raw.{ref_ent} WHERE {q(ref_col)} IS NOT NULL)""")


def _keeps_insertion_order(con) -> bool:
    return bool(con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0])


def _number_by_rowid(con, entity: str, file_hash: str) -> bool:
    """Give the file's unnumbered rows in raw.<entity> their position (1-based, file order) from
    their row ids, which one ordered insert leaves contiguous; False when they are not."""
    lo, hi, n = con.execute(
        f"SELECT min(rowid), max(rowid), count(*) FROM raw.{entity} WHERE file_hash = ? AND source_row IS NULL",
        [file_hash],
    ).fetchone()
    if n == 0:
        return True
    if hi - lo + 1 != n:
        return False
    con.execute(
        f"UPDATE raw.{entity} SET source_row = rowid - {int(lo)} + 1 WHERE file_hash = ? AND source_row IS NULL",
        [file_hash],
    )
    return True


def restore_insertion_order(con) -> None:
    """Back to the connection's configured `preserve_insertion_order` (after a ROLLBACK of a load
    whose raw insert failed while it ran unordered)."""
    con.execute("RESET preserve_insertion_order")


def period_bounds_sql(entity: str) -> str | None:
    """The date column that places an entity's rows in a period (for corrected resubmissions)."""
    return {"invoices": "issue_date", "invoice_events": "event_at", "bank_transactions": "booking_date"}.get(
        entity
    )


def csv_text(rows: list[list[str]]) -> str:
    """Rows as CSV text (used by tests and the benchmark to write fixtures)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()
