"""Load a tabular ERP or invoicing extract (CSV, XLSX, Parquet) into raw.<entity>, vectorized in DuckDB.

The file is read as text (`read_csv(all_varchar=true)`), mapped through its profile, and every value
parsed and checked by the `hk_*` SQL macros; good rows go to raw.<entity>, bad rows (and lines the
CSV reader rejects) to raw.quarantine with the reason. No Python runs per row, except for XLSX,
whose cells openpyxl hands over one by one.
"""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from huikuan.contracts import BOOLEAN, CONTRACTS, DATE, DECIMAL, INTEGER, STRING, TIMESTAMP
from huikuan.ingest.profiles import EntityMapping, choose_mapping
from huikuan.ingest.sniff import FileFacts, IngestError, detect_delimiter, text_lines, transcode_to_utf8
from huikuan.ingest.values import BLANKS

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


def read_source(con, facts: FileFacts, kind: str, workdir: Path) -> tuple[list[str], int]:
    """Create temp table `src` (c0..cN, all text, file order) from the file; create temp table
    `rejects` (data row, column, reason, text) for lines the reader refused. Returns the headers and
    the number of rejected rows."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE rejects (data_row BIGINT, column_name VARCHAR, reason VARCHAR, line_text VARCHAR)"
    )
    if kind == "parquet":
        cols = [
            r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(facts.path)]).fetchall()
        ]
        sel = ", ".join(f"CAST({q(c)} AS VARCHAR) AS c{i}" for i, c in enumerate(cols))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE src AS SELECT {sel} FROM read_parquet(?)", [str(facts.path)]
        )
        return cols, 0
    if kind == "xlsx":
        headers, rows = _xlsx_rows(facts.path)
        _check_headers(headers, facts)
        table = pa.table(
            {
                f"c{i}": pa.array([r[i] if i < len(r) else None for r in rows], pa.string())
                for i in range(len(headers))
            }
        )
        con.register("xlsx_rows", table)
        con.execute("CREATE OR REPLACE TEMP TABLE src AS SELECT * FROM xlsx_rows")
        con.unregister("xlsx_rows")
        extra = [i for i, r in enumerate(rows) if len(r) > len(headers) and any(v for v in r[len(headers) :])]
        if extra:
            raise IngestError(f"{facts.path.name}: row {extra[0] + 1}: more cells than header columns")
        return headers, 0
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
    newline = "\\n"
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers))) + "}"
    con.execute("DROP TABLE IF EXISTS hk_reject_errors; DROP TABLE IF EXISTS hk_reject_scans")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE src AS SELECT * FROM read_csv({lit(str(path))},
              header = true, columns = {columns}, delim = {lit(delim)}, quote = '"', escape = '"',
              new_line = '{newline}', strict_mode = true, auto_detect = false, null_padding = false,
              store_rejects = true, rejects_table = 'hk_reject_errors', rejects_scan = 'hk_reject_scans')"""
    )
    con.execute(
        """INSERT INTO rejects
           SELECT line - 1, any_value(column_name),
                  'line ' || line || ': ' || string_agg(DISTINCT error_type || ' (' || error_message || ')', '; '),
                  any_value(csv_line)
           FROM hk_reject_errors GROUP BY line ORDER BY line"""
    )
    n_rej = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
    return headers, n_rej


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


def _value_expr(mapping: EntityMapping, column: str, src: dict[str, str]) -> str:
    """Text expression for a contract column: the mapped source column, value map and defaults."""
    if column in src:
        raw = src[column]
    elif column in mapping.defaults:
        raw = lit(mapping.defaults[column])
    else:
        return "CAST(NULL AS VARCHAR)"
    vmap = dict(mapping.values.get(column, {}))
    if column == "currency":
        vmap = {**CURRENCY_WORDS, **vmap}
    if vmap:
        whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in vmap.items())
        raw = f"(CASE trim({raw}, {lit(BLANKS)}) {whens} ELSE {raw} END)"
    return raw


def build_select(mapping: EntityMapping, headers: list[str]) -> tuple[str, str, list[str]]:
    """Two SELECT lists over `src`: the inner one parses every contract column once (value `p_<n>`,
    trimmed text `t_<n>`); the outer one keeps the values and adds `errs` ('; '-joined reasons, ''
    when the row is good). Returns (inner, outer, unknown headers)."""
    contract = CONTRACTS[mapping.entity]
    resolved = mapping.resolve(headers)
    src = {col: f"c{headers.index(h)}" for col, h in resolved.items()}
    inner: list[str] = ["i"]
    errors: list[str] = []
    for n, col in enumerate(contract.columns):
        raw = _value_expr(mapping, col.name, src)
        inner.append(f"hk_text({raw}) AS t_{n}")
        p, t = f"p_{n}", f"t_{n}"
        if col.type == STRING:
            expr = f"hk_text({raw})"
            if col.values:
                expr = f"lower({expr})"
            if col.name == "currency":
                expr = f"upper({expr})"
        elif col.type == DATE:
            expr = f"hk_date({raw})"
            errors.append(
                f"CASE WHEN {t} IS NOT NULL AND {p} IS NULL THEN '{col.name}: ' || hk_date_reason({t}) END"
            )
        elif col.type == TIMESTAMP:
            expr = f"hk_timestamp({raw})"
            errors.append(f"CASE WHEN {t} IS NOT NULL AND {p} IS NULL THEN '{col.name}: not a timestamp' END")
        elif col.type == DECIMAL:
            expr = f"hk_amount({raw})"
            errors.append(f"CASE WHEN {t} IS NOT NULL AND {p} IS NULL THEN '{col.name}: not an amount' END")
            if col.name in mapping.scale:
                expr = f"CAST({expr} * {mapping.scale[col.name]!r} AS DECIMAL(18,4))"
            for rule in mapping.signs:
                ind = next((f"c{headers.index(h)}" for h in headers if h.strip() in rule.columns), None)
                if ind and col.name in rule.apply_to:
                    neg = ", ".join(lit(v) for v in rule.negative_values)
                    expr = f"(CASE WHEN hk_text({ind}) IN ({neg}) THEN -abs({expr}) ELSE {expr} END)"
        elif col.type == INTEGER:
            expr = f"hk_integer({raw})"
            errors.append(f"CASE WHEN {t} IS NOT NULL AND {p} IS NULL THEN '{col.name}: not an integer' END")
        elif col.type == BOOLEAN:
            expr = f"hk_boolean({raw})"
            errors.append(
                f"CASE WHEN {t} IS NOT NULL AND {p} IS NULL THEN '{col.name}: not a yes/no value' END"
            )
        else:  # pragma: no cover - contracts only use the types above
            raise AssertionError(col.type)
        inner.append(f"{expr} AS {p}")
        if col.required:
            errors.append(f"CASE WHEN {t} IS NULL THEN '{col.name}: required value missing' END")
        if col.values:
            allowed = ", ".join(lit(v) for v in col.values)
            errors.append(
                f"CASE WHEN {p} IS NOT NULL AND {p} NOT IN ({allowed}) "
                f"THEN '{col.name}: not one of {'/'.join(col.values)}' END"
            )
        if col.name == "currency":
            errors.append(
                f"CASE WHEN {p} IS NOT NULL AND NOT regexp_full_match({p}, '[A-Z]{{3}}') "
                f"THEN 'currency: not an ISO 4217 code' END"
            )
    if mapping.entity == "customers":
        names = contract.column_names
        tax, ctype = f"p_{names.index('tax_id')}", f"p_{names.index('customer_type')}"
        exempt = ", ".join(lit(t) for t in USCC_EXEMPT_TYPES)
        errors.append(
            f"CASE WHEN {tax} IS NOT NULL AND coalesce({ctype}, '') NOT IN ({exempt})"
            f" AND NOT coalesce(hk_uscc_ok({tax}), false)"
            f" THEN 'tax_id: not a valid unified social credit code (GB 32100-2015 check character)' END"
        )
    outer = ["i"] + [f"p_{n} AS {q(c.name)}" for n, c in enumerate(contract.columns)]
    errs = "concat_ws('; ', " + ", ".join(errors) + ")" if errors else "''"
    outer.append(f"{errs} AS errs")
    unknown = [h for h in headers if h.strip() and not mapping.known(h)]
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
) -> TabularOutcome:
    """Parse, validate and insert one tabular file. The caller holds the transaction.

    One full pass parses, checks and inserts the good rows; quarantine needs a second full pass
    only when some row failed a value check (a clean file is read once after `src`)."""
    with tempfile.TemporaryDirectory(prefix="huikuan-ingest-", dir=workdir) as tmp:
        headers, n_rej = read_source(con, facts, kind, Path(tmp))
    mapping = choose_mapping(headers, facts.path.name, mappings)
    entity = mapping.entity
    contract = CONTRACTS[entity]
    if before_insert is not None:
        before_insert(entity)
    out = TabularOutcome(entity=entity, profile=mapping.profile)
    out.reasons.extend(facts.notes)
    inner, outer, unknown = build_select(mapping, headers)
    if unknown:
        out.reasons.append(f"columns not in the {entity} contract, not loaded: {', '.join(unknown)}")
    n_src = con.execute("SELECT count(*) FROM src").fetchone()[0]

    # Row index i in file order (temporary tables number rows from an offset); rejected reader
    # lines shift the data-row numbers after them.
    base = con.execute("SELECT coalesce(min(rowid), 0) FROM src").fetchone()[0]
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
    raw_cols = ", ".join(f"c{n}" for n in range(len(headers)))
    srcv = f"(SELECT rowid - {base} + 1 AS i, * FROM src)"
    parsed = f"(SELECT {outer}, {raw_cols} FROM (SELECT {inner}, {raw_cols} FROM {srcv}))"

    # Row-level issues beyond single values: duplicate keys and unknown references.
    names = contract.column_names
    col_expr = {
        c.name: f"hk_text(c{headers.index(h)})"
        for c in contract.columns
        for h in [mapping.resolve(headers).get(c.name)]
        if h is not None and c.type == STRING
    }
    key_cols = "/".join(contract.key)
    if all(k in col_expr for k in contract.key):  # string keys: no need to parse the other columns
        key_sql = [col_expr[k] for k in contract.key]
        key_from = srcv
    else:
        key_sql = [f"CAST(p_{names.index(k)} AS VARCHAR)" for k in contract.key]
        key_from = f"(SELECT {inner} FROM {srcv})"
    keyed = f"(SELECT i, {', '.join(f'{e} AS k{n}' for n, e in enumerate(key_sql))} FROM {key_from})"
    key_text = " || ', ' || ".join(f"'{k}=' || k{n}" for n, k in enumerate(contract.key))
    not_null = " AND ".join(f"k{n} IS NOT NULL" for n in range(len(key_sql)))
    con.execute("CREATE OR REPLACE TEMP TABLE issues (i BIGINT, reason VARCHAR)")
    ks = ", ".join(f"k{n}" for n in range(len(key_sql)))
    # Duplicates: group first (cheap), then look only at the repeated keys.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE dup_keys AS
        SELECT {ks}, min(i) AS first_i FROM {keyed} WHERE {not_null} GROUP BY {ks} HAVING count(*) > 1""")
    if con.execute("SELECT count(*) FROM dup_keys").fetchone()[0]:
        con.execute(f"""INSERT INTO issues SELECT i, '{key_cols}: duplicate key ' || {key_text}
                        || ' (first at row ' || hk_row(first_i) || ')'
            FROM {keyed} JOIN dup_keys USING ({ks}) WHERE i <> first_i""")
    v_key_text = " || ', ' || ".join(f"'{k}=' || v.k{n}" for n, k in enumerate(contract.key))
    v_keys = ", ".join(f"v.k{n}" for n in range(len(key_sql)))
    con.execute(f"""INSERT INTO issues SELECT v.i, '{key_cols}: duplicate key ' || {v_key_text}
                    || ' already loaded from ' || any_value(r.source_file) || ' row ' || any_value(r.source_row)
        FROM {keyed} v JOIN raw.{entity} r ON {" AND ".join(f"v.k{n} = CAST(r.{q(k)} AS VARCHAR)" for n, k in enumerate(contract.key))}
        GROUP BY v.i, {v_keys}""")
    for (ent, col), (ref_ent, ref_col) in REFERENCES.items():
        if ent != entity or col not in col_expr:
            continue
        if con.execute(f"SELECT count(*) FROM raw.{ref_ent}").fetchone()[0] == 0:
            out.reasons.append(f"{col} not checked: raw.{ref_ent} is empty (load {ref_ent} first)")
            continue
        con.execute(f"""INSERT INTO issues SELECT i, '{col}: unknown {ref_ent[:-1]} ' || ref
            FROM (SELECT i, {col_expr[col]} AS ref FROM {srcv})
            WHERE ref IS NOT NULL AND ref NOT IN (SELECT {q(ref_col)} FROM raw.{ref_ent} WHERE {q(ref_col)} IS NOT NULL)""")
    n_issue_rows = con.execute("SELECT count(DISTINCT i) FROM issues").fetchone()[0]

    cols = ", ".join(q(c) for c in names)
    out.rows_loaded = con.execute(
        f"""INSERT INTO raw.{entity} ({cols}, source_file, source_row, file_hash, loaded_at)
            SELECT {cols}, ?, hk_row(i), ?, ? FROM {parsed}
            WHERE errs = '' {"AND i NOT IN (SELECT i FROM issues)" if n_issue_rows else ""}""",
        [source_file, facts.sha256, loaded_at],
    ).fetchone()[0]

    # Quarantine: only the issue rows when every other row loaded; else a second pass for value errors.
    value_errors = out.rows_loaded + n_issue_rows < n_src
    where = "errs <> '' OR i IN (SELECT i FROM issues)" if value_errors else "i IN (SELECT i FROM issues)"
    record = "json_object(" + ", ".join(f"{lit(h)}, c{n}" for n, h in enumerate(headers)) + ")"
    resolved = mapping.resolve(headers)
    first_col = "split_part(reason, ':', 1)"
    value_case = (
        (
            "CASE "
            + " ".join(f"WHEN {first_col} = {lit(c)} THEN c{headers.index(h)}" for c, h in resolved.items())
            + " END"
        )
        if resolved
        else "NULL"
    )
    n_bad = (
        0
        if not (value_errors or n_issue_rows)
        else con.execute(
            f"""INSERT INTO raw.quarantine
            SELECT ?, hk_row(i), ?, ?, {first_col}, {value_case}, reason, {record}, ?
            FROM (SELECT p.*, concat_ws('; ', nullif(p.errs, ''), iss.reason) AS reason
                  FROM (SELECT * FROM {parsed} WHERE {where}) p
                  LEFT JOIN (SELECT i, string_agg(reason, '; ') AS reason FROM issues GROUP BY i) iss USING (i))
            ORDER BY i""",
            [source_file, facts.sha256, entity, loaded_at],
        ).fetchone()[0]
    )
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
    con.execute(
        "DROP TABLE IF EXISTS src; DROP TABLE IF EXISTS issues; DROP TABLE IF EXISTS rej_before; "
        "DROP TABLE IF EXISTS dup_keys"
    )
    return out


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
