"""Load landed files into the warehouse's raw schema: once per content, one transaction per file.

`ingest_paths` is the single entry point (the CLI and the Dagster assets call it). Per file it
computes the content hash, skips content already loaded, detects the format, parses, validates,
replaces the rows of an earlier file for the same source and period (corrected resubmission), and
records the outcome in `raw.file_registry`.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from huikuan.contracts import CONTRACTS, create_raw_tables
from huikuan.ingest import sniff
from huikuan.ingest.bank import parse_bank
from huikuan.ingest.bank.model import BankFile, balance_ok
from huikuan.ingest.sniff import IngestError
from huikuan.ingest.tabular import load_tabular, q, restore_insertion_order
from huikuan.ingest.values import install_macros, is_valid_iban, looks_like_iban

REGISTRY_DDL = """
CREATE TABLE IF NOT EXISTS raw.file_registry (
  file_hash VARCHAR, source_file VARCHAR, entity VARCHAR, format VARCHAR, status VARCHAR,
  rows_in BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, reasons VARCHAR, balance_ok BOOLEAN,
  loaded_at TIMESTAMP, source_key VARCHAR, period VARCHAR, profile VARCHAR, superseded_by VARCHAR
)"""
CONTROLS_DDL = """
CREATE TABLE IF NOT EXISTS raw.file_controls (
  file_hash VARCHAR, source_file VARCHAR, scope VARCHAR, control VARCHAR,
  expected VARCHAR, actual VARCHAR, ok BOOLEAN
)"""

IGNORED_NAMES = re.compile(
    r"^(\.|~\$)|\.(tmp|part|crdownload|duckdb|wal|sqlite|sqlite-wal|sqlite-shm)$|^(readme|sources)\.(md|txt|tsv)$",
    re.IGNORECASE,
)  # partial downloads, Office lock files, databases, and notes kept beside the data
# Period tokens in file names: 202403, 2024-03, 2024_03, 20240301, 2024Q1; and version suffixes.
PERIOD_RE = re.compile(
    r"(?<!\d)(\d{4})[-_]?(0[1-9]|1[0-2])(?:[-_]?(0[1-9]|[12]\d|3[01]))?(?!\d)|(?<!\d)(\d{4})[-_]?Q([1-4])",
    re.IGNORECASE,
)
VERSION_RE = re.compile(
    r"([_\-. ]?(v\d+|rev\d*|corrected|correction|resubmit(ted)?|更正|修正)|\s*\(\d+\))$", re.IGNORECASE
)
LOAD_FIRST = ("customer", "salespe", "客户")  # masters first, so references can be checked


@dataclass
class FileResult:
    file: str
    format: str
    status: str  # loaded, unchanged, rejected
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reasons: list[str] = field(default_factory=list)
    balance_ok: bool | None = None
    entity: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def source_and_period(rel: str) -> tuple[str, str]:
    """Resubmission identity from the file name: (source key, period). The period token is cut out
    of the name; without one the period is `all` (the file is a full snapshot of its source)."""
    p = Path(rel)
    stem = p.stem
    while True:
        new = VERSION_RE.sub("", stem)
        if new == stem:
            break
        stem = new
    period = "all"
    m = None
    for m in PERIOD_RE.finditer(stem):
        pass  # the last period token in the name is the period
    if m:
        if m.group(4):
            period = f"{m.group(4)}Q{m.group(5)}"
        else:
            period = f"{m.group(1)}-{m.group(2)}" + (f"-{m.group(3)}" if m.group(3) else "")
        stem = stem[: m.start()] + "*" + stem[m.end() :]
    return str(p.parent / stem).lower(), period


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files under the given files/folders, recursive, masters first, otherwise path order."""
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found.extend(
                f
                for f in p.rglob("*")
                if f.is_file()
                and not IGNORED_NAMES.search(f.name)
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        else:
            found.append(p)
    unique = sorted(set(found), key=lambda f: (not any(k in f.name.lower() for k in LOAD_FIRST), str(f)))
    return unique


def ingest_paths(
    paths: list[Path], warehouse: Path, *, landing_root: Path | None = None, max_file_mb: int = 4096
) -> list[FileResult]:
    """Load files or folders (recursive) into the DuckDB warehouse at `warehouse`; one result per file."""
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), config=connection_config())
    try:
        prepare(con)
        return [
            ingest_file(con, f, landing_root=landing_root, max_file_mb=max_file_mb, workdir=warehouse.parent)
            for f in expand_paths(paths)
        ]
    finally:
        con.close()


def connection_config() -> dict[str, str | int]:
    """DuckDB settings for a load: every core, and half of the machine's memory (not DuckDB's 80%
    default: the machine is shared with the scheduler, dbt and the dashboard; a larger file spills
    to the warehouse's temp folder instead)."""
    config: dict[str, str | int] = {"threads": os.cpu_count() or 1}
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        config["memory_limit"] = f"{max(1, total // 2 // 1024**3)}GB"
    except (ValueError, OSError, AttributeError):
        pass  # no sysconf: DuckDB's default
    return config


def prepare(con) -> None:
    create_raw_tables(con)
    con.execute(REGISTRY_DDL)
    con.execute(CONTROLS_DDL)
    install_macros(con)
    drop_unregistered_rows(con)  # left by a load whose process died after its first commit


def drop_unregistered_rows(con, file_hash: str | None = None) -> None:
    """Delete raw rows that an interrupted load committed before numbering them (`source_row` NULL,
    and no `loaded` registry entry for their file); only those of `file_hash` when given."""
    of_file = "file_hash = ?" if file_hash else "true"
    for table in CONTRACTS:
        con.execute(
            f"""DELETE FROM raw.{table} WHERE source_row IS NULL AND {of_file}
                AND file_hash NOT IN (SELECT file_hash FROM raw.file_registry
                                      WHERE status = 'loaded' AND file_hash IS NOT NULL)""",
            [file_hash] if file_hash else [],
        )


def _rel(path: Path, landing_root: Path | None) -> str:
    if landing_root is not None:
        try:
            return Path(path).resolve().relative_to(Path(landing_root).resolve()).as_posix()
        except ValueError:
            pass
    return Path(path).as_posix()


def ingest_file(
    con, path: Path, *, landing_root: Path | None = None, max_file_mb: int = 4096, workdir: Path | None = None
) -> FileResult:
    """Load one file on an open connection (macros and tables prepared); never raises for bad input."""
    rel = _rel(path, landing_root)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return _reject(con, rel, None, "unknown", f"{rel}: cannot be read: {exc.strerror}", loaded_at)
    if size > max_file_mb * 1024 * 1024:
        return _reject(
            con,
            rel,
            None,
            "unknown",
            f"{rel}: {size / 1024 / 1024:.1f} MB is above the {max_file_mb} MB limit (max_file_mb)",
            loaded_at,
        )
    facts = sniff.scan(path)
    kind = sniff.kind_of(facts)
    earlier = con.execute(
        "SELECT source_file, entity, format FROM raw.file_registry WHERE file_hash = ? "
        "AND status IN ('loaded', 'superseded') ORDER BY loaded_at LIMIT 1",
        [facts.sha256],
    ).fetchone()
    if earlier:
        note = "same content already loaded" + (f" as {earlier[0]}" if earlier[0] != rel else "")
        return FileResult(rel, earlier[2], "unchanged", 0, 0, [note], None, earlier[1])
    if kind == "empty":
        return _reject(con, rel, facts.sha256, "unknown", f"{rel}: the file is empty", loaded_at)
    source_key, period = source_and_period(rel)
    con.execute("BEGIN TRANSACTION")
    try:
        if kind in ("xml", "mt940", "bai2") or (kind in ("text", "xlsx") and _looks_like_bank(facts, kind)):
            result, controls = _load_bank(con, facts, kind, rel, loaded_at, source_key, period)
        else:
            result, controls = _load_table(con, facts, kind, rel, loaded_at, source_key, period, workdir)
        _register(con, result, facts.sha256, loaded_at, source_key, period, controls)
        con.execute("COMMIT")
        return result
    except (IngestError, duckdb.Error, ValueError, UnicodeError) as exc:
        con.execute("ROLLBACK")
        restore_insertion_order(con)
        drop_unregistered_rows(con, facts.sha256)
        # An IngestError already names file, line and cause; anything else gets the file and type.
        why = str(exc)
        if not isinstance(exc, IngestError):
            why = f"{rel}: {type(exc).__name__}: {why.splitlines()[0]}"
        return _reject(con, rel, facts.sha256, kind, why, loaded_at)


def _looks_like_bank(facts, kind: str) -> bool:
    from huikuan.ingest.bank.cncsv import detect_bank_layout

    return detect_bank_layout(facts, kind) is not None


def _reject(con, rel: str, file_hash: str | None, fmt: str, reason: str, loaded_at) -> FileResult:
    fmt = {"text": "csv"}.get(fmt, fmt)
    result = FileResult(rel, fmt, "rejected", 0, 0, [reason], None, None)
    con.execute(
        "INSERT INTO raw.file_registry VALUES (?, ?, NULL, ?, 'rejected', 0, 0, 0, ?, NULL, ?, NULL, NULL, NULL, NULL)",
        [file_hash, rel, fmt, reason, loaded_at],
    )
    return result


def _supersede(con, entity: str, source_key: str, period: str, new_hash: str) -> list[str]:
    """Corrected resubmission: remove the rows of earlier files for the same source + entity + period."""
    old = con.execute(
        "SELECT file_hash, source_file FROM raw.file_registry WHERE status = 'loaded' AND entity = ? "
        "AND source_key = ? AND period = ?",
        [entity, source_key, period],
    ).fetchall()
    notes = []
    for h, f in old:
        tables = ["bank_transactions", "bank_statements"] if entity == "bank_transactions" else [entity]
        for t in tables:
            con.execute(f"DELETE FROM raw.{t} WHERE file_hash = ?", [h])
        con.execute("DELETE FROM raw.quarantine WHERE file_hash = ?", [h])
        con.execute("DELETE FROM raw.file_controls WHERE file_hash = ?", [h])
        con.execute(
            "UPDATE raw.file_registry SET status = 'superseded', superseded_by = ? WHERE file_hash = ? "
            "AND status = 'loaded'",
            [new_hash, h],
        )
        notes.append(f"replaces {f} (same source and period {period})")
    return notes


def _load_table(con, facts, kind, rel, loaded_at, source_key, period, workdir):
    replaced: list[str] = []  # notes on the earlier files this one replaces

    def supersede(entity: str) -> None:
        # Runs once the entity is known, before the duplicate-key check of the new rows.
        replaced.extend(_supersede(con, entity, source_key, period, facts.sha256))

    def commit_point() -> None:
        # The file's rows are in, unnumbered. Committing here is safe when nothing else changed:
        # a failure or crash before the final COMMIT leaves rows that drop_unregistered_rows
        # removes. A resubmission's deletions must stay in one transaction with its rows.
        if not replaced:
            con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")

    out = load_tabular(
        con,
        facts,
        kind,
        source_file=rel,
        loaded_at=loaded_at,
        workdir=workdir,
        before_insert=supersede,
        commit_point=commit_point,
    )
    fmt = {"text": "csv"}.get(kind, kind)
    result = FileResult(
        rel, fmt, "loaded", out.rows_loaded, out.rows_quarantined, replaced + out.reasons, None, out.entity
    )
    result._rows_in = out.rows_in  # type: ignore[attr-defined]
    result._profile = out.profile  # type: ignore[attr-defined]
    return result, []


BANK_COLUMNS = [c.name for c in CONTRACTS["bank_transactions"].columns]


def _load_bank(con, facts, kind, rel, loaded_at, source_key, period):
    bf: BankFile = parse_bank(facts, kind)
    notes = _supersede(con, "bank_transactions", source_key, period, facts.sha256)
    notes += facts.notes + bf.notes
    schema = pa.schema(
        [
            ("account_id", pa.string()),
            ("statement_id", pa.string()),
            ("bank_txn_key", pa.string()),
            ("booking_date", pa.date32()),
            ("value_date", pa.date32()),
            ("amount", pa.decimal128(18, 4)),
            ("currency", pa.string()),
            ("counterparty_name", pa.string()),
            ("counterparty_account", pa.string()),
            ("remittance_text", pa.string()),
            ("end_to_end_id", pa.string()),
            ("structured_reference", pa.string()),
            ("bank_tx_code", pa.string()),
            ("is_reversal", pa.bool_()),
            ("source_position", pa.string()),
            ("source_row", pa.int64()),
            ("err", pa.string()),
            ("err_col", pa.string()),
            ("raw_record", pa.string()),
        ]
    )
    entries = bf.entries
    if bf.table is not None:
        table = bf.table.select(schema.names).cast(schema)
    else:
        # Column by column (one list per field) rather than one dict per line.
        attrs = {"err": "error", "err_col": "error_column"}
        columns = {
            f.name: pa.array([getattr(e, attrs.get(f.name, f.name)) for e in entries], f.type)
            for f in schema
            if f.name not in ("err", "raw_record")
        }
        columns["err"] = pa.array([e.error or "" for e in entries], pa.string())
        columns["raw_record"] = pa.array([_json(e.raw) for e in entries], pa.string())
        table = pa.table({f.name: columns[f.name] for f in schema}, schema=schema)
    con.register("bank_rows", table)
    con.execute("CREATE OR REPLACE TEMP TABLE bt AS SELECT * FROM bank_rows")
    con.unregister("bank_rows")
    # Required fields, then duplicate keys within the file and against what is loaded.
    con.execute("""UPDATE bt SET err = concat_ws('; ',
        CASE WHEN booking_date IS NULL THEN 'booking_date: required value missing' END,
        CASE WHEN amount IS NULL THEN 'amount: required value missing' END,
        CASE WHEN currency IS NULL THEN 'currency: required value missing' END),
        err_col = coalesce(err_col, CASE WHEN booking_date IS NULL THEN 'booking_date'
                                         WHEN amount IS NULL THEN 'amount' WHEN currency IS NULL THEN 'currency' END)
        WHERE err = '' AND (booking_date IS NULL OR amount IS NULL OR currency IS NULL)""")
    con.execute("""UPDATE bt SET err = 'duplicate key bank_txn_key=' || bank_txn_key || ' (first at row ' || f || ')',
                   err_col = 'bank_txn_key'
        FROM (SELECT source_row AS r, first_value(source_row) OVER (PARTITION BY bank_txn_key ORDER BY source_row) AS f
              FROM bt WHERE err = '') d
        WHERE bt.source_row = d.r AND d.r <> d.f""")
    con.execute("""UPDATE bt SET err = 'duplicate key bank_txn_key=' || bt.bank_txn_key || ' already loaded from '
                   || d.source_file, err_col = 'bank_txn_key'
        FROM (SELECT bank_txn_key, any_value(source_file) AS source_file FROM raw.bank_transactions
              WHERE bank_txn_key IN (SELECT bank_txn_key FROM bt) GROUP BY bank_txn_key) d
        WHERE bt.err = '' AND bt.bank_txn_key = d.bank_txn_key""")
    if bf.raw_of is not None:
        # A columnar parser keeps the record as given only for the lines it quarantined itself.
        missing = [
            r
            for (r,) in con.execute(
                "SELECT source_row FROM bt WHERE err <> '' AND raw_record IS NULL"
            ).fetchall()
        ]
        if missing:
            con.register(
                "bank_records",
                pa.table(
                    {
                        "source_row": pa.array(missing, pa.int64()),
                        "record": pa.array([_json(bf.raw_of(r)) for r in missing], pa.string()),
                    }
                ),
            )
            con.execute(
                "UPDATE bt SET raw_record = record FROM bank_records WHERE bt.source_row = bank_records.source_row"
            )
            con.unregister("bank_records")
    cols = ", ".join(q(c) for c in BANK_COLUMNS)
    con.execute(
        f"INSERT INTO raw.bank_transactions ({cols}, source_file, source_row, file_hash, loaded_at) "
        f"SELECT {cols}, ?, source_row, ?, ? FROM bt WHERE err = '' ORDER BY source_row",
        [rel, facts.sha256, loaded_at],
    )
    con.execute(
        """INSERT INTO raw.quarantine SELECT ?, source_row, ?, 'bank_transactions', err_col,
                   CASE err_col WHEN 'bank_txn_key' THEN bank_txn_key ELSE NULL END, err, raw_record, ?
                   FROM bt WHERE err <> '' ORDER BY source_row""",
        [rel, facts.sha256, loaded_at],
    )
    n_loaded, n_bad = con.execute(
        "SELECT count(*) FILTER (err = ''), count(*) FILTER (err <> '') FROM bt"
    ).fetchone()
    # Accounts for the IBAN check below, distinct (a bank file repeats the same few).
    accounts = {
        a
        for (a,) in con.execute(
            "SELECT counterparty_account FROM bt UNION SELECT account_id FROM bt"
        ).fetchall()
    }
    con.execute("DROP TABLE bt")
    for s in bf.statements:
        con.execute(
            "INSERT INTO raw.bank_statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                s.statement_id,
                s.account_id,
                s.currency,
                s.opening_date,
                s.opening_balance,
                s.closing_date,
                s.closing_balance,
                s.entry_count,
                rel,
                None,
                facts.sha256,
                loaded_at,
            ],
        )
    ok = balance_ok(bf)
    if ok is False:
        bad = [c for c in bf.controls if c.control == "balance" and c.ok is False]
        notes.append(
            "statement does not balance: "
            + "; ".join(f"{c.scope}: opening + entries = {c.actual}, closing = {c.expected}" for c in bad[:3])
        )
    for c in bf.controls:
        if c.control != "balance" and c.ok is False:
            notes.append(
                f"control total mismatch ({c.scope} {c.control}): file says {c.expected}, found {c.actual}"
            )
    if n_bad:
        top = con.execute(
            "SELECT split_part(reason, ' (', 1) r, count(*) FROM raw.quarantine WHERE file_hash = ? "
            "GROUP BY r ORDER BY 2 DESC, r LIMIT 3",
            [facts.sha256],
        ).fetchall()
        notes.append("quarantined: " + "; ".join(f"{n} × {r}" for r, n in top))
    if not bf.entry_total:
        notes.append("no entries in the file")
    # IBAN check digits: a bank line is money that moved, so a wrong counterparty IBAN is reported,
    # not quarantined (dropping the line would break the statement balance).
    bad_ibans = sorted(a for a in accounts if a and looks_like_iban(a) and not is_valid_iban(a))
    if bad_ibans:
        notes.append(
            f"{len(bad_ibans)} IBAN(s) with wrong check digits, kept as given: {', '.join(bad_ibans[:3])}"
            + (", ..." if len(bad_ibans) > 3 else "")
        )
    result = FileResult(rel, bf.format, "loaded", n_loaded, n_bad, notes, ok, "bank_transactions")
    result._rows_in = bf.entry_total  # type: ignore[attr-defined]
    result._profile = bf.format  # type: ignore[attr-defined]
    return result, bf.controls


def _json(d: dict) -> str:
    import json

    return json.dumps({k: (None if v is None else str(v)) for k, v in d.items()}, ensure_ascii=False)


def _register(con, r: FileResult, file_hash, loaded_at, source_key, period, controls) -> None:
    con.execute(
        "INSERT INTO raw.file_registry VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [
            file_hash,
            r.file,
            r.entity,
            r.format,
            r.status,
            getattr(r, "_rows_in", 0),
            r.rows_loaded,
            r.rows_quarantined,
            "; ".join(r.reasons),
            r.balance_ok,
            loaded_at,
            source_key,
            period,
            getattr(r, "_profile", None),
        ],
    )
    for c in controls:
        con.execute(
            "INSERT INTO raw.file_controls VALUES (?, ?, ?, ?, ?, ?, ?)",
            [file_hash, r.file, c.scope, c.control, c.expected, c.actual, c.ok],
        )
